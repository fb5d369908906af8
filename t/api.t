# SPDX-License-Identifier: Apache-2.0
# SetHandler plaid-api: the site's own code calls Plaid through the module
# (credentials added, Plaid's status and body given back unchanged, the
# module's id in X-Plaid-Link-Id); refused without a call: a caller not on
# loopback nor in PlaidApiAllowFrom (403), a path not in PlaidApiPaths
# (404), a body with client_id or secret or a PLAID-CLIENT-ID or
# PLAID-SECRET header (400). ITEM_LOGIN_REQUIRED reaches
# the caller with Plaid's own body, and one PL0100 line, whether a fault or
# the emulator's /sandbox/item/reset_login (as Plaid's sandbox) asks for
# it; after that reset /accounts/get, cached data, still answers. A read is
# retried after a 503; a write is not. Under prefork, PHP with the helper in
# examples/plaid-api.php. No access_token in any log (t/zz_secrets.t).
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

my $prefork = ($ENV{TEST_MPM} || '') eq 'prefork';
plan tests => 38 + ($prefork ? 5 : 0);

my $json = JSON::PP->new->canonical;

sub emulator {
    my ($path, $body) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $res = $ua->request(HTTP::Request->new(POST =>
        vhost_url('plaid_emulator_http', "/sandbox$path"),
        ['Content-Type' => 'application/json',
         'PLAID-CLIENT-ID' => 'sandbox0client0id000001',
         'PLAID-SECRET' => 'sandbox-secret-Zq7Xv9'], $json->encode($body)));
    return json_body($res) || {};
}

# An Item, as the application has it after the exchange.
my $public = emulator('/sandbox/public_token/create', {
    institution_id => 'ins_109508', initial_products => ['transactions'] });
my $token = emulator('/item/public_token/exchange', {
    public_token => $public->{public_token} // '' })->{access_token} // '';

sub gateway {
    my ($path, $body, @headers) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30);
    return $ua->request(HTTP::Request->new(POST => vhost_url(undef, $path),
        ['Content-Type' => 'application/json', @headers],
        ref $body ? $json->encode($body) : $body));
}

sub calls { scalar grep { /plaid_emulator: \S+ (?:body=|answered)/ } @_ }

{
    my $mark = log_mark();
    my $res = gateway('/plaid-api/accounts/balance/get',
                      { access_token => $token });
    my @log = log_since($mark);
    is($res->code, 200, 'balances through the gateway') or diag($res->as_string);
    my $body = json_body($res) || {};
    ok(@{ $body->{accounts} || [] } >= 1, "... Plaid's body, with accounts");
    like($body->{request_id} // '', qr/\w/, "... and Plaid's request_id");
    like($res->header('X-Plaid-Link-Id') // '', qr/\w/,
         '... and the module\'s id in X-Plaid-Link-Id');
    ok(grep({ m{plaid_emulator: /accounts/balance/get body=} } @log),
       '... sent to /accounts/balance/get') or diag(@log);
}

for my $case (
    ['client_id in the body', '/plaid-api/accounts/get',
     { access_token => $token, client_id => 'x' }, 400],
    ['secret in the body', '/plaid-api/accounts/get',
     { access_token => $token, secret => 'x' }, 400],
    ['a path not in PlaidApiPaths', '/plaid-api/transactions/sync',
     { access_token => $token }, 404],
    ['a caller outside PlaidApiAllowFrom', '/plaid-api-narrow/accounts/get',
     { access_token => $token }, 403]) {
    my ($name, $path, $body, $status) = @$case;
    my $mark = log_mark();
    my $res = gateway($path, $body);
    my @log = log_since($mark);
    is($res->code, $status, "$name: $status") or diag($res->as_string);
    is(calls(@log), 0, "$name: no call to Plaid");
}

# Plaid's own client libraries send the credentials in headers when they
# are configured with them: refused as in the body, not silently dropped.
# (Values of their own: httpd itself logs request headers at http:trace4,
# which this suite turns on, and t/zz_secrets.t looks for the real ones.)
for my $header (['PLAID-CLIENT-ID', 'hdrclient0id00000042'],
                ['plaid-secret', 'hdr-secret-Lp4Kc9']) {
    my ($name, $value) = @$header;
    my $mark = log_mark();
    my $res = gateway('/plaid-api/accounts/get', { access_token => $token },
                      $name => $value);
    my @log = log_since($mark);
    is($res->code, 400, "a $name header: 400") or diag($res->as_string);
    my $answer = json_body($res) || {};
    like($answer->{error} // '', qr/Remove the PLAID-CLIENT-ID and PLAID-SECRET headers/,
         '... saying to remove them') or diag($res->as_string);
    is(calls(@log), 0, '... and no call to Plaid');
    my ($line) = grep { /PL0140/ } @log;
    like($line // '', qr/status=400: the request carries a \Q\U$name\E header/,
         '... a PL0140 line naming the header') or diag(@log);
    is_deeply([grep { /\Q$value\E/ } (grep { /\[plaid_link:/ } @log),
                                      $res->as_string], [],
              "... and neither the module's log nor the answer holds its "
              . 'value');
}

{
    # A caller the location does not admit learns nothing, not even the
    # methods it would take.
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $res = $ua->get(vhost_url(undef, '/plaid-api-narrow/accounts/get'));
    is($res->code, 403, 'a GET from outside PlaidApiAllowFrom: 403, not 405');
    ok(!defined $res->header('Allow'), '... and no Allow header');
}

{
    # A large answer (a page of /transactions/sync) is passed on whole.
    my $res = gateway('/plaid-api-huge/accounts/get', { access_token => $token });
    is($res->code, 200, 'an answer over 64 KiB: 200');
    ok(length($res->content) > 200 * 1024 && json_body($res),
       '... with all of Plaid\'s body') or diag(length $res->content);
}

{
    my $mark = log_mark();
    my $res = gateway('/plaid-api-login/accounts/get', { access_token => $token });
    my @log = log_since($mark);
    my $body = json_body($res) || {};
    is($res->code, 400, "ITEM_LOGIN_REQUIRED: Plaid's status");
    is($body->{error_code}, 'ITEM_LOGIN_REQUIRED', "... and Plaid's body");
    like((grep { /PL0100/ } @log)[0] // '',
         qr/api call failed: .*error_code="ITEM_LOGIN_REQUIRED"/,
         '... and one PL0100 line') or diag(@log);
}

{
    my $p = emulator('/sandbox/public_token/create', {
        institution_id => 'ins_109508', initial_products => ['auth'] });
    my $reset = emulator('/item/public_token/exchange', {
        public_token => $p->{public_token} // '' })->{access_token} // '';
    my $mark = log_mark();
    my $answer = emulator('/sandbox/item/reset_login',
                          { access_token => $reset });
    ok($answer->{reset_login} && $answer->{request_id},
       '/sandbox/item/reset_login: {"reset_login": true, "request_id"}')
        or diag($json->encode($answer));
    my $res = gateway('/plaid-api/accounts/balance/get',
                      { access_token => $reset });
    my $body = json_body($res) || {};
    is($res->code, 400, "reset Item's balances: Plaid's 400");
    is($body->{error_code}, 'ITEM_LOGIN_REQUIRED', '... ITEM_LOGIN_REQUIRED');
    like(join('', log_since($mark)),
         qr{reset_login reset item_id=\w+.*PL0100: api call failed: .*error_code="ITEM_LOGIN_REQUIRED"}s,
         '... after the reset line, one PL0100 line');
    is(gateway('/plaid-api/accounts/get', { access_token => $reset })->code,
       200, '... and its /accounts/get (cached) still answers');
}

{
    my $mark = log_mark();
    my $res = gateway('/plaid-api-503/accounts/balance/get',
                      { access_token => $token });
    my @log = log_since($mark);
    is($res->code, 503, 'a read answered 503 by Plaid: 503');
    like((grep { /PL0100/ } @log)[0] // '', qr/\battempts=3\b/,
         '... after retries');
    $mark = log_mark();
    $res = gateway('/plaid-api-503/item/remove', { access_token => $token });
    @log = log_since($mark);
    like((grep { /PL0100/ } @log)[0] // '', qr/\battempts=1\b/,
         'a write is not sent again after Plaid saw it');
}

if ($prefork) {
    my $ua = LWP::UserAgent->new(timeout => 60);
    my $php = sub {
        my ($gateway_path, $path) = @_;
        my $res = $ua->request(HTTP::Request->new(POST =>
            vhost_url(undef, '/php/balance.php'),
            ['Content-Type' => 'application/json'],
            $json->encode({ gateway => vhost_url(undef, $gateway_path),
                            path => $path, access_token => $token })));
        return json_body($res) || {};
    };
    my $ok = $php->('/plaid-api', '/accounts/balance/get');
    is($ok->{status}, 200, 'PHP: balances through the gateway');
    ok($ok->{accounts} >= 1, 'PHP: with accounts');
    ok(defined $ok->{available}, 'PHP: and a balance');
    my $login = $php->('/plaid-api-login', '/accounts/get');
    is($login->{status}, 400, 'PHP: ITEM_LOGIN_REQUIRED reaches PHP');
    is($login->{error_code}, 'ITEM_LOGIN_REQUIRED', "PHP: with Plaid's code");
}
