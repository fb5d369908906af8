# SPDX-License-Identifier: Apache-2.0
# SetHandler plaid-webhook: a webhook signed as Plaid signs them (by the
# emulator's key, fetched from its /webhook_verification_key/get) reaches
# the application behind PlaidWebhookHandoff with its exact body and
# PLAID_WEBHOOK_TYPE, PLAID_WEBHOOK_CODE, PLAID_ITEM_ID; every forgery is
# refused at its step, with one PL0120 line and no hand-off; the same
# webhook with its signature written another way (s as n - s) is a replay;
# made-up kids cost at most the documented key fetches (5 a minute for a
# client: the unreachable case comes before the forgeries spend them);
# Plaid unreachable for a key is a 503 (Plaid retries); the hand-off URL
# called directly is no hand-off. Forgeries from one client against
# another's new key, and restarts: t/webhook_restart.t.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA qw(sha256_hex);
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();
use Math::BigInt ();
use MIME::Base64 qw(decode_base64url encode_base64url);
use PlaidTest;

my $prefork = ($ENV{TEST_MPM} || '') eq 'prefork';
my $key_fetches_a_minute = 5;

my @forgeries = (
    # name, how to sign, what to send, status, step
    ['no header',            undef,         undef,       400, 'format'],
    ['two parts',            'two-parts',   undef,       400, 'format'],
    ['alg none',             'alg-none',    undef,       401, 'header'],
    ['HS256 with the key',   'hs256',       undef,       401, 'header'],
    ['ES384',                'es384',       undef,       401, 'header'],
    ['a DER signature',      'der',         undef,       401, 'signature'],
    ['a 63-byte signature',  'sig63',       undef,       401, 'signature'],
    ['a 65-byte signature',  'sig65',       undef,       401, 'signature'],
    ["another key's kid",    'other-kid',   undef,       401, 'signature'],
    ['an unknown kid',       'unknown-kid', undef,       401, 'key'],
    ['an expired key',       'expired',     undef,       401, 'key'],
    ['iat too old',          'old',         undef,       401, 'iat'],
    ['iat ahead',            'future',      undef,       401, 'iat'],
    ['the body changed by a byte', 'good',  'flip',      401, 'body'],
    ['whitespace added to the body', 'good', 'space',    401, 'body'],
);

plan tests => 9 + 6 + 5 * @forgeries + 4 + 3 + 3 + 2 + 3 + ($prefork ? 3 : 0);

my $seq = 0;
sub webhook_body {
    return JSON::PP->new->canonical->encode({
        webhook_type => 'TRANSACTIONS', webhook_code => 'SYNC_UPDATES_AVAILABLE',
        item_id => 'eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6', environment => 'sandbox',
        initial_update_complete => JSON::PP::true, n => ++$seq,
    });
}

# A Plaid-Verification for body, signed by the emulator in mode.
sub sign { return emulator_sign(@_)->{jwt} }

sub deliver {
    my ($path, $body, $jwt) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
    my @h = ('Content-Type' => 'application/json');
    push @h, 'Plaid-Verification' => $jwt if defined $jwt;
    return $ua->request(HTTP::Request->new(POST => vhost_url(undef, $path),
                                           \@h, $body));
}

# --- genuine -------------------------------------------------------------------

my ($genuine_body, $genuine_jwt);
{
    $genuine_body = webhook_body();
    $genuine_jwt = sign($genuine_body, 'good');
    like($genuine_jwt // '', qr/\A[\w-]+\.[\w-]+\.[\w-]+\z/,
         'the emulator signs a webhook');
    my $mark = log_mark();
    my $res = deliver('/plaid/webhook', $genuine_body, $genuine_jwt);
    my @log = log_since($mark);
    is($res->code, 200, 'a genuine webhook reaches the application')
        or diag($res->as_string, @log);
    my $app = json_body($res) || {};
    is($app->{body_sha256}, sha256_hex($genuine_body),
       '... with its body, byte for byte');
    is($app->{webhook_type}, 'TRANSACTIONS', '... PLAID_WEBHOOK_TYPE');
    is($app->{webhook_code}, 'SYNC_UPDATES_AVAILABLE', '... PLAID_WEBHOOK_CODE');
    is($app->{item_id}, 'eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6',
       '... PLAID_ITEM_ID');
    ok(grep({ /PL0121: webhook verified/ } @log), '... logged (PL0121)')
        or diag(@log);

    # The same token again, on another connection (maybe another child).
    $mark = log_mark();
    $res = deliver('/plaid/webhook', $genuine_body, $genuine_jwt);
    @log = log_since($mark);
    is($res->code, 401, 'the same token twice: 401');
    ok(grep({ /PL0120: .*step=replay/ } @log), '... step replay')
        or diag(@log);
}

# --- the same webhook, its signature written another way ----------------------

# ECDSA's (r, s) and (r, n - s) both verify: a token whose s is replaced by
# n - s is the same webhook, and must be refused as a replay of it.
sub malleate {
    my $jwt = shift;
    my ($signing_input, $sig) = $jwt =~ /\A([\w-]+\.[\w-]+)\.([\w-]+)\z/
        or return '';
    my $raw = decode_base64url($sig);
    my $n = Math::BigInt->from_hex('FFFFFFFF00000000FFFFFFFFFFFFFFFF'
                                   . 'BCE6FAADA7179E84F3B9CAC2FC632551');
    my $s = Math::BigInt->from_bytes(substr($raw, 32, 32));
    my $other = $n->copy->bsub($s)->to_bytes;
    $other = ("\0" x (32 - length $other)) . $other;
    return "$signing_input." . encode_base64url(substr($raw, 0, 32) . $other);
}

{
    my $body = webhook_body();
    my $jwt = sign($body, 'good');
    my $other = malleate($jwt);
    isnt($other, $jwt, 'a token and its malleated twin differ');
    my $mark = log_mark();
    my @codes = map { deliver('/plaid/webhook', $body, $_)->code }
        $jwt, $jwt, $other;
    my @log = log_since($mark);
    is($codes[0], 200, 'a webhook: 200') or diag(@log);
    is($codes[1], 401, '... the same token again: 401');
    is($codes[2], 401, '... its signature with n - s for s: 401 too')
        or diag(@log);
    is(scalar(grep { /PL0120: .*step=replay/ } @log), 2,
       '... both at step replay') or diag(@log);
    is(scalar(grep { /PL0121: webhook verified/ } @log), 1,
       '... and the application ran once') or diag(@log);
}

# --- Plaid unreachable for a key -----------------------------------------------

{
    my $body = webhook_body();
    my $mark = log_mark();
    my $res = deliver('/plaid/webhook-unreachable', $body, sign($body, 'good'));
    my @log = log_since($mark);
    is($res->code, 503, 'no key to be had: 503, so that Plaid retries');
    ok($res->header('Retry-After'), '... with Retry-After');
    ok(grep({ /PL0100: webhook failed: .*curl_error=/ } @log),
       '... and the usual failure line') or diag(@log);
}

# --- forgeries -------------------------------------------------------------------

for my $f (@forgeries) {
    my ($name, $mode, $change, $status, $step) = @$f;
    my $body = webhook_body();
    my $jwt = defined $mode ? sign($body, $mode) : undef;
    $body =~ s/"n":/"N":/ if ($change // '') eq 'flip';
    $body = "$body\n" if ($change // '') eq 'space';
    my $mark = log_mark();
    my $res = deliver('/plaid/webhook', $body, $jwt);
    my @log = log_since($mark);
    is($res->code, $status, "$name: $status") or diag($res->as_string);
    my @lines = grep { /PL0120/ } @log;
    is(scalar @lines, 1, "$name: one PL0120 line") or diag(@log);
    like($lines[0] || '', qr/\bstep=\Q$step\E:/, "$name: at step $step");
    is((json_body($res) || {})->{error},
       $status == 400 ? 'Malformed webhook' : 'Webhook not verified',
       "$name: a generic answer");
    ok(!grep({ /webhook\.cgi|PL0121/ } @log), "$name: not handed off");
}

# --- made-up kids ------------------------------------------------------------------

{
    my $mark = log_mark();
    my %codes;
    for my $n (1 .. 200) {
        my $body = webhook_body();
        my $res = deliver('/plaid/webhook', $body,
                          sign($body, "kid=made-up-$$-$n"));
        $codes{ $res->code }++;
    }
    my @log = log_since($mark);
    my $fetches = grep { m{plaid_emulator: /webhook_verification_key/get key_id=\S+ (?:found|unknown)} } @log;
    ok($fetches <= 2 * $key_fetches_a_minute,
       "200 made-up kids: $fetches key requests (at most "
       . "$key_fetches_a_minute a minute)");
    is_deeply([grep { $_ != 401 && $_ != 503 } keys %codes], [],
              '... answered 401 (unknown) or 503 (budget spent), nothing else')
        or diag(explain(\%codes));
    ok(grep({ /PL0122: .*fetched for this client this minute already/ } @log),
       '... and the budget says so (PL0122)');

    my $body = webhook_body();
    my $res = deliver('/plaid/webhook', $body, sign($body, 'good'));
    is($res->code, 200, 'a genuine webhook still passes (its key is kept)');
}

# --- the hand-off URL called directly ---------------------------------------------

{
    my $res = Apache::TestRequest::POST('/app/webhook.cgi',
        'Content-Type' => 'application/json', content => $genuine_body);
    is($res->code, 404, 'the hand-off path called directly: 404');
    $res = Apache::TestRequest::GET('/php/webhook.php');
    is($res->code, 404, '... and the PHP one');
    my $big = '{"a":"' . ('x' x (70 * 1024)) . '"}';
    $res = deliver('/plaid/webhook', $big, sign('{}', 'good'));
    is($res->code, 413, 'a body over 64 KiB: 413');
}

# --- as Plaid's sandbox fires one --------------------------------------------------------

{
    # An Item created with the module's webhook URL, then its webhook
    # fired: the emulator signs it and POSTs it to the module.
    my $emu = sub {
        my ($path, $json) = @_;
        my $ua = LWP::UserAgent->new(timeout => 60);
        my $res = $ua->request(HTTP::Request->new(POST =>
            vhost_url('plaid_emulator_http', "/sandbox$path"),
            ['Content-Type' => 'application/json',
             'PLAID-CLIENT-ID' => 'sandbox0client0id000001',
             'PLAID-SECRET' => 'sandbox-secret-Zq7Xv9'],
            JSON::PP->new->encode($json)));
        return json_body($res) || {};
    };
    my $hook = vhost_url(undef, '/plaid/webhook');
    my $public = $emu->('/sandbox/public_token/create', {
        institution_id => 'ins_109508', initial_products => ['transactions'],
        options => { webhook => $hook } })->{public_token};
    my $item = $emu->('/item/public_token/exchange',
                      { public_token => $public // '' });
    my $mark = log_mark();
    my $fired = $emu->('/sandbox/item/fire_webhook', {
        access_token => $item->{access_token} // '',
        webhook_code => 'SYNC_UPDATES_AVAILABLE' });
    my @log = log_since($mark);
    ok($fired->{webhook_fired}, 'the sandbox fires an Item\'s webhook')
        or diag(explain($fired), @log);
    like((grep { /PL0121: webhook verified/ } @log)[0] // '',
         qr/webhook_code="SYNC_UPDATES_AVAILABLE" item_id="\Q$item->{item_id}\E"/,
         '... which the module verifies and hands off') or diag(@log);
    ok(grep({ m{fire_webhook posted SYNC_UPDATES_AVAILABLE to .*: 200} } @log),
       '... and the application answers 200') or diag(@log);
}

# --- PHP under prefork ---------------------------------------------------------------

{
    my $body = webhook_body();
    my $res = deliver('/plaid/webhook', "$body", sign($body, 'good'));
    like($res->content, qr/"item_id"/, 'another genuine webhook');
    unlike($res->content, qr/"access_token":"access-/,
           '... and no access_token in its environment');
}

if ($prefork) {
    my $body = webhook_body();
    my $res = deliver('/plaid/webhook-php', $body, sign($body, 'good'));
    is($res->code, 200, 'PHP: a genuine webhook reaches mod_php')
        or diag($res->as_string);
    my $app = json_body($res) || {};
    is($app->{body_sha256}, sha256_hex($body), 'PHP: php://input is the body');
    is($app->{webhook_code}, 'SYNC_UPDATES_AVAILABLE',
       'PHP: $_SERVER has PLAID_WEBHOOK_CODE');
}
