# SPDX-License-Identifier: Apache-2.0
# SetHandler plaid-public-token-exchange: Link's public_token, from the
# emulator's /sandbox/public_token/create as from Plaid's sandbox, is
# exchanged for the Item, which reaches the application behind
# PlaidExchangeHandoff (a CGI; under prefork also PHP) in its environment,
# with the browser's cookies; the browser gets the application's answer.
# Refused before any call: anonymous, no or malformed public_token, forged
# requests. Plaid's refusals (unknown, already exchanged, other
# environment) give the generic error and one PL0100 line with a hint. The
# hand-off URL called directly is no hand-off. No access_token appears in
# the module's answers (t/zz_secrets.t checks every log).
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use JSON::PP ();
use PlaidTest;

my $prefork = ($ENV{TEST_MPM} || '') eq 'prefork';
my $generic = 'Unable to link the account';

plan tests => 19 + 3 * 8 + 6 * 4 + 3 + 3 + ($prefork ? 5 : 0);

sub exchange {
    my ($path, $token, %opt) = @_;
    my $content = exists $opt{content} ? $opt{content}
                : JSON::PP->new->encode({ public_token => $token });
    return request_token($path, user => exists $opt{user} ? $opt{user}
                                                          : unique_user('item'),
                         content => $content, headers => $opt{headers});
}

# --- success -------------------------------------------------------------------

{
    my $token = public_token();
    like($token // '', qr/\Apublic-sandbox-[0-9a-f-]{36}\z/,
         'the emulator hands out a sandbox public_token');
    my $user = unique_user('item');
    my $mark = log_mark();
    my $res = exchange('/plaid/exchange', $token, user => $user,
                       headers => { Cookie => 'app_session=s3ss10n' });
    my @log = log_since($mark);
    is($res->code, 200, 'the exchange reaches the application')
        or diag($res->as_string, @log);
    my $app = json_body($res) || {};
    like($app->{item_id} // '', qr/\A\w{20,}\z/, '... with PLAID_ITEM_ID');
    is($app->{client_user_id}, $user, '... PLAID_CLIENT_USER_ID, the user');
    like($app->{request_id} // '', qr/\A\w+\z/, '... PLAID_REQUEST_ID');
    is($app->{access_token_ok}, 1, '... and PLAID_ACCESS_TOKEN');
    is($app->{cookie}, 'app_session=s3ss10n', "... and the browser's cookies");
    is($app->{method}, 'POST', '... as a POST');
    my ($line) = grep { /PL0115/ } @log;
    like($line || '', qr/\bitem_id="\Q$app->{item_id}\E"/,
         'the debug line names the item_id') or diag(@log);
    unlike($res->as_string, qr/access-(?:sandbox|production)-/,
           'the answer holds no access_token');
    my @sent = grep { m{plaid_emulator: /item/public_token/exchange body=} } @log;
    is(scalar @sent, 1, 'one call to /item/public_token/exchange') or diag(@log);
    like($sent[0] || '', qr/"public_token":"\Q$token\E"/, '... with the token');

    # The same token again: Plaid refuses a second exchange.
    $mark = log_mark();
    $res = exchange('/plaid/exchange', $token);
    @log = log_since($mark);
    error_answer_ok($res, 'already exchanged', 502, $generic, @log);
    my ($fail) = grep { /PL0100/ } @log;
    like($fail || '', qr/public_token exchange failed: .*error_code="INVALID_PUBLIC_TOKEN".*hint="[^"]*exchanged already/,
         '... one PL0100 line with the code and a hint') or diag(@log);
}

# --- Plaid's refusals -------------------------------------------------------

for my $case (['an unknown token', '/plaid/exchange',
               'public-sandbox-00000000-0000-4000-8000-000000000000'],
              ['a sandbox token sent to production', '/plaid/exchange-production',
               public_token()],
              ['a production token sent to sandbox', '/plaid/exchange',
               public_token('production')]) {
    my ($name, $path, $token) = @$case;
    my $mark = log_mark();
    my $res = exchange($path, $token);
    my @log = log_since($mark);
    error_answer_ok($res, $name, 502, $generic, @log);
    my @lines = grep { /PL0100/ } @log;
    is(scalar @lines, 1, "$name: one PL0100 line");
    like($lines[0] || '', qr/error_code="INVALID_PUBLIC_TOKEN".*hint="[^"]*environment/,
         "$name: with the code and the hint") or diag(@log);
}

# --- refused before any call -------------------------------------------------

my $carry = 'Request body must carry a public_token';
for my $case (['no body',              '',                             $carry],
              ['an empty object',      '{}',                           $carry],
              ['a number',             '{"public_token":5}',           $carry],
              ['an access_token',      '{"public_token":"access-sandbox-1"}', $carry],
              ['a quote in the token', '{"public_token":"public-sandbox-1\\""}', $carry],
              ['not JSON',             'public_token=public-sandbox-1',
               'Request body must be a JSON object']) {
    my ($name, $content, $error) = @$case;
    my $mark = log_mark();
    my $res = exchange('/plaid/exchange', undef, content => $content);
    my @log = log_since($mark);
    is($res->code, 400, "$name: 400") or diag($res->as_string);
    is((json_body($res) || {})->{error}, $error, "$name: says what is wrong");
    is(scalar(grep { /plaid_emulator: / } @log), 0, "$name: no call to Plaid");
    ok(grep({ /PL01(?:05|13)/ } @log), "$name: logged") or diag(@log);
}

{
    my $res = exchange('/plaid/exchange', public_token(), user => undef);
    is($res->code, 401, 'anonymous: 401');
    $res = request_token('/plaid/exchange', user => 'u', content => undef,
                         headers => {});
    isnt($res->code, 200, 'a form post without JSON: refused');
    my $req = HTTP::Request->new(GET => vhost_url(undef, '/plaid/exchange'));
    $res = Apache::TestRequest::user_agent(reset => 1)->request($req);
    is($res->code, 405, 'GET: 405');
}

# --- the hand-off URL called directly ----------------------------------------

{
    my $mark = log_mark();
    my $res = Apache::TestRequest::GET('/app/item.cgi');
    my @log = log_since($mark);
    is($res->code, 404, 'the hand-off path called directly: 404');
    ok(grep({ /PL0114/ } @log), '... logged (PL0114)') or diag(@log);
    $res = Apache::TestRequest::POST('/app/item.cgi',
        'Content-Type' => 'application/json',
        'PLAID-ACCESS-TOKEN' => 'access-sandbox-forged', content => '{}');
    is($res->code, 404, '... also as a POST with forged headers');
}

# --- PHP under prefork ---------------------------------------------------------

if ($prefork) {
    my $user = unique_user('php');
    my $res = exchange('/plaid/exchange-php', public_token(), user => $user,
                       headers => { Cookie => 'PHPSESSID=abc123' });
    is($res->code, 200, 'PHP: the exchange reaches mod_php')
        or diag($res->as_string);
    my $app = json_body($res) || {};
    is($app->{access_token_ok}, 1, 'PHP: $_SERVER has PLAID_ACCESS_TOKEN');
    is($app->{client_user_id}, $user, 'PHP: and PLAID_CLIENT_USER_ID');
    is($app->{session}, 'abc123', "PHP: the session cookie");
    is($app->{plaid_vars},
       'PLAID_ACCESS_TOKEN,PLAID_CLIENT_USER_ID,PLAID_ITEM_ID,PLAID_REQUEST_ID',
       'PHP: the four variables, under their own names');
}
