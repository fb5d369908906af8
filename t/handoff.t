# SPDX-License-Identifier: Apache-2.0
# The hand-off's seams. The application behind a hand-off runs only as the
# module's hand-off, whichever URL maps to its file: through an Alias, a
# RewriteRule, a DirectoryIndex or a symbolic link it is refused (404, PL0114) and does not
# run, while an Alias to another CGI still runs that one. A further
# internal redirect after the hand-off (a front controller's) keeps the
# variables; the ErrorDocument of a failed hand-off gets none of them, and
# the browser never sees the access_token.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use PlaidTest;

my @mappings = (
    ['DirectoryIndex', '/handoff/dirindex/'],
    ['Alias',          '/aliased-handoff'],
    ['RewriteRule',    '/rewritten-handoff'],
    ['a symbolic link to it', '/handoff/link.cgi'],
    ['the hand-off path itself', '/handoff/dirindex/index.cgi'],
);

plan tests => 3 + 3 * 2 * @mappings + 2 + 3 + 4;

# What t/htdocs/handoff/dirindex/index.cgi writes to the error log.
my $ran = qr/handoff test application ran/;

sub exchange {
    my $path = shift;
    return request_token($path, user => unique_user('handoff'),
                         content => JSON::PP->new->encode(
                             { public_token => public_token() }));
}

# A request of the browser's, not the module's.
sub direct {
    my ($method, $path) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0,
                                 max_redirect => 0);
    return $ua->request(HTTP::Request->new($method => vhost_url(undef, $path),
        ['Content-Type' => 'application/json'],
        $method eq 'POST' ? '{}' : undef));
}

# --- the hand-off itself ------------------------------------------------------

{
    my $mark = log_mark();
    my $res = exchange('/plaid/exchange-dirindex');
    my @log = log_since($mark);
    is($res->code, 200, 'the exchange hands off to the application')
        or diag($res->as_string, @log);
    is((json_body($res) || {})->{access_token_ok}, 1,
       '... with PLAID_ACCESS_TOKEN');
    ok(grep({ $_ =~ $ran } @log), '... which ran, and says so in the log')
        or diag(@log);
}

# --- other URLs that map to its file -------------------------------------------

for my $m (@mappings) {
    my ($name, $path) = @$m;
    for my $method (qw(GET POST)) {
        my $mark = log_mark();
        my $res = direct($method, $path);
        my @log = log_since($mark);
        is($res->code, 404, "$name, $method $path: 404")
            or diag($res->as_string, @log);
        ok(grep({ /PL0114: request refused: .* leads to the hand-off path \/handoff\/dirindex\/index\.cgi/ } @log),
           "$name, $method: PL0114") or diag(@log);
        ok(!grep({ $_ =~ $ran } @log), "$name, $method: the application did not run")
            or diag(@log);
    }
}

{
    my $res = direct('GET', '/aliased-env');
    is($res->code, 200, 'an Alias to another CGI still runs it')
        or diag($res->as_string);
    like($res->content, qr/^ENV SCRIPT_NAME=\/aliased-env$/m, '... that CGI');
}

# --- a front controller after the hand-off --------------------------------------

{
    my $res = exchange('/plaid/exchange-front');
    is((json_body($res) || {})->{access_token_ok}, 1,
       'a rewrite after the hand-off keeps PLAID_ACCESS_TOKEN')
        or diag($res->as_string);
    $res = direct('GET', '/handoff/front');
    is($res->code, 404, '... and its path called directly: 404');
    ok($res->content !~ /access_token_ok/, '... without the application');
}

# --- the error page of a failed hand-off ---------------------------------------

{
    my $mark = log_mark();
    my $res = exchange('/plaid/exchange-fails');
    my @log = log_since($mark);
    is($res->code, 500, 'a hand-off that fails: 500') or diag(@log);
    like($res->content, qr/^ENV REDIRECT_STATUS=500$/m,
         '... from the ErrorDocument, which prints its environment')
        or diag($res->as_string);
    unlike($res->content,
           qr/PLAID_(?:ACCESS_TOKEN|ITEM_ID|CLIENT_USER_ID|REQUEST_ID)/,
           '... without the hand-off\'s variables');
    unlike($res->as_string, qr/access-(?:sandbox|production)-/,
           '... and without the access_token');
}
