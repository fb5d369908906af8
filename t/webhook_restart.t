# SPDX-License-Identifier: Apache-2.0
# What webhook verification keeps when httpd restarts, and what one sender
# of forgeries cannot take from everyone:
#  - 100 forged webhooks with made-up kids from one address (no key
#    needed: any payload, 64 random bytes of signature) spend that
#    address's key fetches, not the server's: a genuine webhook from
#    another address, signed with a key the server never fetched, passes;
#  - across a graceful restart (SIGUSR1) and a full one (stop, start),
#    Plaid's keys are kept (no fetch for a kid fetched before) and a
#    webhook accepted before is refused as a replay, on the default store
#    (shmcb, made anew at each);
#  - a kept key that Plaid served 50 minutes ago or more is asked for
#    again before it lapses (its time in the keep file set back to stand
#    for the hour, then a graceful restart to empty the store; the
#    emulator keeps its keys across it).
# The forgeries come from 127.0.0.2, the genuine webhooks from 127.0.0.3
# (Plaid's address here); both are loopback on Linux.
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
use MIME::Base64 qw(decode_base64url encode_base64url);
use PlaidTest;

plan tests => 2 * 3 + 2 + 3 + 3 + 3;

my $forger = '127.0.0.2';
my $plaid  = '127.0.0.3';
my $seq = 0;

sub webhook_body {
    return JSON::PP->new->canonical->encode({
        webhook_type => 'TRANSACTIONS', webhook_code => 'SYNC_UPDATES_AVAILABLE',
        item_id => 'eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6',
        environment => 'sandbox', n => ++$seq, pid => $$, t => time,
    });
}

# {jwt, kid} for body, signed by the emulator in mode.
sub sign { return emulator_sign(@_) }

sub deliver {
    my ($from, $body, $jwt) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0,
                                 local_address => $from);
    return $ua->request(HTTP::Request->new(POST =>
        vhost_url(undef, '/plaid/webhook'),
        ['Content-Type' => 'application/json', 'Plaid-Verification' => $jwt],
        $body));
}

# A token anyone can make: ES256, a made-up kid, 64 random bytes.
sub forged {
    my $body = shift;
    my $header = sprintf '{"alg":"ES256","kid":"forged-%d-%d-%s"}', $$,
                         ++$seq, join('', map { int rand 10 } 1 .. 8);
    my $payload = sprintf '{"iat":%d,"request_body_sha256":"%s"}', time,
                          sha256_hex($body);
    return join '.', encode_base64url($header), encode_base64url($payload),
        encode_base64url(join '', map { chr int rand 256 } 1 .. 64);
}

sub key_fetches {
    my $kid = shift;
    return scalar grep {
        m{plaid_emulator: /webhook_verification_key/get key_id=\Q$kid\E }
    } @_;
}

# 100 forgeries from one address, then a genuine webhook from Plaid's
# with a key never fetched: 3 tests.
sub forgeries_then_new_key {
    my $when = shift;
    my $mark = log_mark();
    my $first_minute = int(time / 60);
    my %codes;
    for (1 .. 100) {
        my $body = webhook_body();
        $codes{ deliver($forger, $body, forged($body))->code }++;
    }
    # The budget is per clock minute: 5 for each minute the flood touched.
    my $minutes = int(time / 60) - $first_minute + 1;
    my @log = log_since($mark);
    my $fetches = grep { m{/webhook_verification_key/get key_id=forged-} }
        @log;
    ok($fetches <= 5 * $minutes
       && !grep({ $_ != 401 && $_ != 503 } keys %codes),
       "$when: 100 forged kids from one address: $fetches key fetches in "
       . "$minutes clock minute(s), each 401 or 503")
        or diag(explain(\%codes));

    my $body = webhook_body();
    my $signed = sign($body, 'new-key');
    $mark = log_mark();
    my $res = deliver($plaid, $body, $signed->{jwt} // '');
    @log = log_since($mark);
    is($res->code, 200, "$when: then a genuine webhook with a new key: 200")
        or diag($res->as_string, grep { /PL01/ } @log);
    is(key_fetches($signed->{kid} // '-', @log), 1,
       '... whose key was fetched for it') or diag(@log);
}

sub wait_for_log {
    my ($mark, $re) = @_;
    for (1 .. 300) {
        return 1 if grep { /$re/ } log_since($mark);
    }
    return 0;
}

sub graceful {
    my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    chomp(my $httpd = <$fh>);
    close $fh;
    my $mark = log_mark();
    kill 'USR1', $httpd or return 0;
    return wait_for_log($mark, qr/resuming normal operations/);
}

sub full_restart {
    my $server = Apache::Test::config()->server;
    # Apache::TestServer and httpd's first lines say what they do on
    # STDOUT and STDERR: not TAP.
    open my $out, '>&', \*STDOUT or die "dup: $!";
    open my $err, '>&', \*STDERR or die "dup: $!";
    open STDOUT, '>', '/dev/null' or die "/dev/null: $!";
    open STDERR, '>', '/dev/null' or die "/dev/null: $!";
    $server->stop;
    my $up = $server->start;
    open STDOUT, '>&', $out or die "dup: $!";
    open STDERR, '>&', $err or die "dup: $!";
    return $up;
}

# A webhook accepted before each restart, refused as a replay after it:
# 1 test each.
sub refused_as_replay {
    my ($name, $body, $jwt) = @_;
    my $mark = log_mark();
    my $res = deliver($plaid, $body, $jwt);
    my @log = log_since($mark);
    ok($res->code == 401 && grep({ /PL0120: .*step=replay/ } @log)
       && !grep({ m{/webhook_verification_key/get} } @log),
       "$name: 401, step=replay, its key kept (no fetch)")
        or diag($res->code, @log);
}

# --- before any restart ------------------------------------------------------

forgeries_then_new_key('at start');

my @accepted;
{
    my $body = webhook_body();
    my $signed = sign($body, 'good');
    my $res = deliver($plaid, $body, $signed->{jwt} // '');
    is($res->code, 200, 'a webhook with the current key: 200')
        or diag($res->as_string);
    push @accepted, [$body, $signed->{jwt} // ''];
    $res = deliver($plaid, $body, $signed->{jwt} // '');
    is($res->code, 401, '... and again: 401 (replay)');
}

# --- a graceful restart: shmcb is made anew ------------------------------------

ok(graceful(), 'graceful restart (SIGUSR1) done');
refused_as_replay('after a graceful restart, the webhook accepted before',
                  @{ $accepted[0] });
{
    my $body = webhook_body();
    my $signed = sign($body, 'good');
    my $mark = log_mark();
    my $res = deliver($plaid, $body, $signed->{jwt} // '');
    my @log = log_since($mark);
    ok($res->code == 200 && !key_fetches($signed->{kid} // '-', @log),
       '... a new webhook with the current key: 200, no fetch')
        or diag($res->code, @log);
    push @accepted, [$body, $signed->{jwt} // ''];
}
forgeries_then_new_key('after a graceful restart');

# --- a full restart: a new httpd (whose emulator has new keys) ------------------

ok(full_restart(), 'full restart (stop, start) done');
refused_as_replay('after a full restart, the webhook accepted first',
                  @{ $accepted[0] });
refused_as_replay('... and the one accepted after the graceful restart',
                  @{ $accepted[1] });

# --- a kept key is asked for again before it lapses ---------------------------

# The keep file's layout (module/keep.c): 128-byte slots of the SHA-256 of
# a name, an expiry (native 64 bits), a length (native 32 bits), 4 bytes
# of check (the SHA-256 of the slot with them zero), the data. A kept key's
# data: x || y, then when Plaid served it (64 bits, big-endian).
sub set_back_kept_key {
    my ($xy, $seconds) = @_;
    my $file = Apache::Test::vars('t_logs') . '/mod_plaid_link.keep';
    open my $fh, '+<:raw', $file or return 0;
    my $found = 0;
    for (my $at = 0; read($fh, my $slot, 128) == 128; $at += 128) {
        my ($name, $expiry, $len, $check, $data) =
            unpack 'a32 q L a4 a80', $slot;
        next unless $len == 72 && substr($data, 0, 64) eq $xy;
        my $served = time - $seconds;
        $data = $xy . pack('Q>', $served) . ("\0" x 8);
        my $zero = pack 'a32 q L a4 a80', $name, $served + 3600, 72,
                        "\0" x 4, $data;
        $slot = pack 'a32 q L a4 a80', $name, $served + 3600, 72,
                     substr(Digest::SHA::sha256($zero), 0, 4), $data;
        seek $fh, $at, 0;
        print $fh $slot;
        seek $fh, $at + 128, 0;
        $found++;
    }
    close $fh;
    return $found;
}

{
    my $body = webhook_body();
    my $signed = sign($body, 'good');
    my $kid = $signed->{kid} // '-';
    is(deliver($plaid, $body, $signed->{jwt} // '')->code, 200,
       'the current key of the new httpd: a webhook passes, its key kept');
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $secret = do {
        open my $fh, '<', "$FindBin::Bin/conf/secrets/sandbox.secret" or die $!;
        local $/; <$fh>;
    };
    $secret =~ s/\s+\z//;
    my $jwk = (json_body($ua->request(HTTP::Request->new(POST =>
        vhost_url('plaid_emulator_http',
                  '/sandbox/webhook_verification_key/get'),
        ['Content-Type' => 'application/json'],
        JSON::PP->new->encode({ client_id => 'sandbox0client0id000001',
                                secret => $secret, key_id => $kid })))) || {})
        ->{key} || {};
    my $xy = decode_base64url($jwk->{x} // '') . decode_base64url($jwk->{y} // '');
    ok(set_back_kept_key($xy, 51 * 60) && graceful(),
       'its key set back to 51 minutes old in the keep file, graceful restart');

    $body = webhook_body();
    $signed = sign($body, 'good');
    my $mark = log_mark();
    my $res = deliver($plaid, $body, $signed->{jwt} // '');
    my @log = log_since($mark);
    ok($res->code == 200 && key_fetches($kid, @log) == 1,
       '... the next webhook with that kid: Plaid asked again, 200')
        or diag($res->code, @log);
}
