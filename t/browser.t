# SPDX-License-Identifier: Apache-2.0
# What the module refuses from the browser, before Plaid is ever called:
# wrong method, a request a form could forge (no JSON Content-Type, no
# X-Requested-With), an Origin not in PlaidAllowedOrigins, no user, an
# unusable user id, a body that is not a JSON object, a body over 4 KiB.
# Each answer is JSON with a request_id.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use PlaidTest;

my @cases = (
    # name, request options, status, error text
    ['GET',    {method => 'GET', content => undef}, 405, 'Method not allowed'],
    ['PUT',    {method => 'PUT'},                   405, 'Method not allowed'],
    ['DELETE', {method => 'DELETE', content => undef}, 405, 'Method not allowed'],
    ['OPTIONS', {method => 'OPTIONS', content => undef}, 405, 'Method not allowed'],
    ['user id with CR LF (header injection)',
     {path => '/plaid/unescaped', user => 'alice%0d%0aPLAID-SECRET:%20stolen'},
     400, 'Unusable user id'],
    # ap_expr's unescape() refuses %00 and yields nothing: no user.
    ['user id with a NUL byte',
     {path => '/plaid/unescaped', user => 'alice%00bob'}, 401,
     'Not signed in'],
    ['user id with a tab', {user => "alice\tbob"}, 400, 'Unusable user id'],
    ['user id of 4000 bytes', {user => 'u' x 4000}, 400, 'Unusable user id'],
    ['no X-Test-User (empty PlaidUserId)', {user => undef}, 401, 'Not signed in'],
    ['empty X-Test-User', {user => ''}, 401, 'Not signed in'],
    ['user id over 256 bytes', {user => 'u' x 257}, 400, 'Unusable user id'],
    ['user id not UTF-8', {user => "caf\xe9"}, 400, 'Unusable user id'],
    ['body not JSON', {content => 'hello'}, 400,
     'Request body must be a JSON object'],
    ['body a JSON array', {content => '[]'}, 400,
     'Request body must be a JSON object'],
    ['body a JSON string', {content => '"{}"'}, 400,
     'Request body must be a JSON object'],
    ['Content-Type text/plain', {headers => {'Content-Type' => 'text/plain'}},
     415, 'Send Content-Type: application/json'],
    ['form Content-Type',
     {headers => {'Content-Type' => 'application/x-www-form-urlencoded'}},
     415, 'Send Content-Type: application/json'],
    ['Origin not allowed',
     {path => '/plaid/origins',
      headers => {Origin => 'https://evil.example.com'}},
     403, 'Origin not allowed'],
    ['body of 10 KiB', {content => '{"pad":"' . ('x' x 10240) . '"}'}, 413,
     'Request body too large'],
);

plan tests => 7 * @cases + 2 + 2 + 1 + 3 + 5 + 3;

for my $case (@cases) {
    my ($name, $opt, $status, $error) = @$case;
    my $mark = log_mark();
    my %opt  = %$opt;
    my $path = delete $opt{path} || '/plaid/link-token';
    my $res  = post_token($path, %opt);
    my @log  = log_since($mark);

    error_answer_ok($res, $name, $status, $error);
    ok(!emulator_bodies(@log), "$name: Plaid was not called") or diag(@log);

    if ($status == 405 && $name eq 'GET') {
        is($res->header('Allow'), 'POST', 'GET: Allow: POST');
    }
    if ($status == 405 && $name eq 'PUT') {
        is($res->header('Allow'), 'POST', 'PUT: Allow: POST');
    }
}

# The body may carry any JSON object; its members are not sent to Plaid.
{
    my $mark = log_mark();
    my $res  = post_token('/plaid/link-token',
                          content => '{"products":["assets"],"x":1}');
    my ($sent) = emulator_bodies(log_since($mark));
    is($res->code, 200, 'a JSON object body with members: 200')
        or diag($res->as_string);
    is_deeply($sent && $sent->{products}, [qw(auth transactions)],
              '... the browser cannot choose the products');
}

# A body just under the limit is read.
{
    my $res = post_token('/plaid/link-token',
                         content => '{"pad":"' . ('x' x 3000) . '"}');
    is($res->code, 200, 'a 3 KB JSON object body: 200') or diag($res->as_string);
}

# What a browser's fetch() sends passes.
{
    my @ok = (
        ['Content-Type with charset', '/plaid/link-token',
         {'Content-Type' => 'application/json; charset=utf-8'}],
        ['X-Requested-With instead of a JSON Content-Type', '/plaid/link-token',
         {'Content-Type' => 'text/plain', 'X-Requested-With' => 'XMLHttpRequest'}],
        ['an allowed Origin', '/plaid/origins',
         {Origin => 'https://app.example.com'}],
        ['a second allowed Origin', '/plaid/origins',
         {Origin => 'https://other.example.com:8443'}],
        ['no Origin where origins are listed', '/plaid/origins', {}],
    );
    for my $case (@ok) {
        my ($name, $path, $headers) = @$case;
        my $res = post_token($path, headers => $headers);
        is($res->code, 200, "$name: 200") or diag($res->as_string);
    }
}

# mod_auth_basic answers before the module when there is no login.
{
    my $mark = log_mark();
    my $res  = request_token('/login/link-token', user => undef);
    my @log  = log_since($mark);
    is($res->code, 401, 'no login at /login/link-token: 401 from mod_auth_basic');
    ok(!emulator_bodies(@log), '... and Plaid was not called');
    $res = request_token('/login/link-token', user => undef,
                         username => 'alice', password => 'wrong');
    is($res->code, 401, 'a wrong password: 401');
}

# HEAD is a GET without a body: refused the same way, with no body at all.
{
    my $mark = log_mark();
    my $res  = post_token('/plaid/link-token', method => 'HEAD',
                          content => undef);
    is($res->code, 405, 'HEAD: 405');
    is($res->header('Allow'), 'POST', 'HEAD: Allow: POST');
    ok(!emulator_bodies(log_since($mark)), 'HEAD: Plaid was not called');
}
