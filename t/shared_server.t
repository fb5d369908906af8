# SPDX-License-Identifier: Apache-2.0
# What an admin of a shared server (PHP and CGI beside the module, other
# people's .htaccess files) must be able to count on:
# - an env: secret is gone from the environment of every CGI and PHP page,
#   and from the block /proc/<pid>/environ shows of every httpd child;
# - a CGI started by the child that called Plaid inherits no connection;
# - mod_info shows "(hidden)" for an inline secret and PlaidProxy's
#   userinfo, and a masked client id;
# - an inline secret in a <VirtualHost> is warned about at start-up;
# - an .htaccess file cannot make an endpoint, by SetHandler or AddHandler;
# - plain http to a loopback Plaid never goes through the environment's
#   proxy, and PlaidProxy routes calls (or, with none, does not);
# - PlaidUserIdHashKey sends the HMAC, not the user id;
# - an anonymous request's 401 is logged with its correlation id.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA qw(hmac_sha256_hex);
use HTTP::Request ();
use PlaidTest;

my $prefork = ($ENV{TEST_MPM} || '') eq 'prefork';
my $env_secret = 'production-secret-Hr8Tn3Lw';   # env:PLAID_TEST_PRODUCTION_SECRET

plan tests => 35 + ($prefork ? 3 : 0);

# --- env: secrets ------------------------------------------------------------

{
    my $res = Apache::TestRequest::GET('/cgi/env.cgi');
    is($res->code, 200, 'the CGI runs') or diag($res->as_string);
    like($res->content, qr/^ENV PATH=/m, '... and prints its environment');
    SKIP: {
        # Under valgrind (scripts/test-valgrind.sh) httpd's environment is
        # valgrind's copy of the one it was started with, and the block the
        # kernel shows is valgrind's own: the env: checks are the other
        # runs' (every MPM, and -X without valgrind).
        skip "httpd runs under valgrind: its environment is valgrind's", 4
            if httpd_cmdline() =~ /valgrind/;
        unlike($res->content, qr/\Q$env_secret\E/,
               '... which holds no env: secret, even with PassEnv');
        unlike($res->content, qr/^ENV PLAID_TEST_PRODUCTION_SECRET=/m,
               '... nor the variable');
        # CoreDumpDirectory makes the child dumpable: its
        # /proc/<pid>/environ, the block the kernel set up at exec, is
        # readable by the CGI.
        like($res->content, qr/^PARENT_ENVIRON PATH=/m,
             "the CGI reads its parent child's /proc/<ppid>/environ")
            or diag($res->content);
        my @entries = $res->content =~ /^PARENT_ENVIRON (.*)$/mg;
        is_deeply([grep { /\Q$env_secret\E/ } @entries], [],
                  '... where the env: secret was overwritten');
    }
}
if ($prefork) {
    my $res = Apache::TestRequest::GET('/php/env.php');
    like($res->content, qr/^ENV PATH=/m, 'PHP prints its environment')
        or diag($res->as_string);
    like($res->content, qr/^PROC_ENVIRON PATH=/m,
         '... and reads /proc/self/environ') or diag($res->content);
    unlike($res->content, qr/\Q$env_secret\E/,
           '... which hold no env: secret (getenv, $_SERVER, $_ENV, /proc)');
}
{
    # The production vhost reads that secret with env:, and still has it.
    my $res = post_token('/plaid/link-token', vhost => 'plaid_production');
    is($res->code, 200, 'the env: secret still works without the variable')
        or diag($res->as_string);
}

# --- descriptors ---------------------------------------------------------------

{
    # One kept-alive connection: the CGI is started by the same child that
    # has just called Plaid and keeps that connection in its pool.
    my $ua = Apache::TestRequest::user_agent(keep_alive => 1, reset => 1);
    my $req = HTTP::Request->new(POST => vhost_url(undef, '/plaid/link-token'),
        ['Content-Type' => 'application/json', 'X-Test-User' => unique_user()],
        '{}');
    my $res = $ua->request($req);
    is($res->code, 200, 'a link_token first') or diag($res->as_string);
    $res = $ua->get(vhost_url(undef, '/cgi/env.cgi'));
    my @fds = $res->content =~ /^FD (\d+ .*)$/mg;
    ok(scalar @fds, 'the CGI lists its descriptors') or diag($res->content);
    my @sockets = grep { /socket:/ } @fds;
    is_deeply(\@sockets, [], '... and has inherited no socket')
        or diag(join "\n", @fds);
    Apache::TestRequest::user_agent(reset => 1);
}

# --- mod_info ------------------------------------------------------------------

{
    my $res = Apache::TestRequest::GET('/server-info?config');
    is($res->code, 200, 'mod_info answers') or diag($res->as_string);
    my $info = $res->content;
    like($info, qr/PlaidSecret.{0,40}\(hidden\)/s,
         '... showing (hidden) for the inline secret');
    like($info, qr/PlaidClientId.{0,40}\.\.\.0001/s,
         '... and the client id masked');
    like($info, qr{PlaidProxy.{0,40}http://\(hidden\)\@127\.0\.0\.1:\d+}s,
         "... and PlaidProxy's userinfo (hidden)") or diag($info);
    # The emulator's own directive holds its credentials: not the module's.
    my $ours = join "\n", grep { !/PlaidEmulator/ } split /\n/, $info;
    my @leaks = grep { $ours =~ /\Q$_\E/ } secrets();
    is_deeply(\@leaks, [], '... and no secret or full client id');
}

# --- the inline secret's warning ---------------------------------------------

{
    open my $fh, '<', Apache::Test::vars('t_logs') . '/error_log' or die $!;
    my @warnings = grep { /PL0001: PlaidSecret is written inline/ } <$fh>;
    ok(scalar @warnings, 'start-up warned of the inline secret');
    ok(grep({ /<VirtualHost>/ } @warnings), '... naming its <VirtualHost>')
        or diag(@warnings);
    my $res = post_token('/plaid/link-token', vhost => 'plaid_inline');
    is($res->code, 200, 'the vhost with the inline secret works')
        or diag($res->as_string);
}

# --- .htaccess -----------------------------------------------------------------

for my $case (['SetHandler', '/htaccess-endpoint/', 'htaccess-endpoint/.htaccess'],
              ['AddHandler', '/addhandler-endpoint/mint.tok', undef]) {
    my ($how, $path, $file) = @$case;
    my $mark = log_mark();
    my $res = post_token($path);
    my @log = log_since($mark);
    is($res->code, 500, "$how in .htaccess: no endpoint (500)")
        or diag($res->as_string);
    my ($line) = grep { /PL0111/ } @log;
    ok($line, '... and a PL0111 line') or diag(@log);
    like($line || '', $file ? qr/\Q$file\E/ : qr/AddHandler/,
         '... naming what set it');
    is(scalar emulator_bodies(@log), 0, '... and Plaid was not called');
}

# --- proxies -------------------------------------------------------------------

{
    my $res = post_token('/plaid/http-emulator');
    is($res->code, 200, 'plain http to loopback ignores http_proxy')
        or diag($res->as_string);

    my $mark = log_mark();
    $res = post_token('/plaid/proxied');
    my @log = log_since($mark);
    my ($line) = grep { /PL0100/ } @log;
    isnt($res->code, 200, 'PlaidProxy: the call goes through the proxy');
    like($line || '', qr/curl_error="[^"]+"/, '... and fails there')
        or diag($line);
    is_deeply([grep { /proxy-pass-/ } @log, $res->as_string], [],
              "... and neither its log lines nor the answer hold the "
              . "proxy's password");

    $res = post_token('/plaid/proxied/none');
    is($res->code, 200, 'PlaidProxy none: direct again')
        or diag($res->as_string);
}

# --- PlaidUserIdHashKey --------------------------------------------------------

{
    my $user = 'alice@example.com-' . unique_user();
    my $mark = log_mark();
    my $res = post_token('/plaid/hashed', user => $user);
    is($res->code, 200, 'PlaidUserIdHashKey: a link_token')
        or diag($res->as_string);
    my ($body) = emulator_bodies(log_since($mark));
    is($body && $body->{user}{client_user_id},
       hmac_sha256_hex($user, '7f3c1a9e5b2d4c8f6a0e1d3b5c7a9f2e'),
       '... for client_user_id = HMAC-SHA256(key, user id), lowercase hex');
}

# --- anonymous -----------------------------------------------------------------

{
    my $mark = log_mark();
    my $res = post_token('/plaid/link-token', user => undef);
    my $json = json_body($res) || {};
    is($res->code, 401, 'no user: 401');
    my ($line) = grep { /PL0109/ } log_since($mark);
    like($line || '', qr/\bid=\Q$json->{request_id}\E\b/,
         '... logged (PL0109) with its correlation id') or diag($line);
}
