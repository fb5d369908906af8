# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the mod_plaid_link Apache::Test files: requests to the
# module, the JSON answer, and reading what the run appended to error_log.
package PlaidTest;

use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Apache::TestRequest ();
use Exporter 'import';
use Cwd ();
use File::Basename ();
use HTTP::Request ();
use IO::Socket::INET ();
use JSON::PP ();
use LWP::UserAgent ();

our @EXPORT = qw(post_token request_token json_body vhost_url
                 log_mark log_since emulator_bodies secrets unique_user
                 token_re error_answer_ok public_token httpd_cmdline
                 free_port file_text start_hosts stop_hosts host_marks
                 host_log emulator_sign);

# The command line of the test server's main process, NUL-separated:
# scripts/test-valgrind.sh runs it as "valgrind ... apache2 -X ...", one
# process, which a test that kills children or reads the exec-time
# environment must know.
sub httpd_cmdline {
    my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
    open my $fh, '<', $pidfile or return '';
    chomp(my $pid = <$fh> // '');
    open my $c, '<', "/proc/$pid/cmdline" or return '';
    local $/;
    return <$c> // '';
}

# Every secret and full client id in t/conf; t/zz_secrets.t looks for them.
sub secrets {
    return (
        'sandbox-secret-Zq7Xv9',        # t/conf/secrets/sandbox.secret
        'sandbox-secret-WRONG-Jf2Q',    # t/conf/secrets/wrong.secret
        'production-secret-Hr8Tn3Lw',   # env:PLAID_TEST_PRODUCTION_SECRET
        'sandbox0client0id000001',      # client ids: only ...0001 may show
        'production0client0id0002',
        'proxy-pass-Gm4Wz7',            # PlaidProxy's password (/plaid/proxied)
    );
}

sub token_re { qr/\Alink-(sandbox|production)-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/ }

my $seq = 0;
sub unique_user {
    my $tag = shift || 'user';
    return sprintf '%s-%d-%d-%d', $tag, $$, time, ++$seq;
}

# POST to the module. %opt: user (X-Test-User; undef to leave it out),
# content (default '{}'), method, vhost (Apache::Test vhost name), username
# and password (basic auth), headers (hashref).
sub request_token {
    my ($path, %opt) = @_;
    my $ua = Apache::TestRequest::user_agent();
    $ua->timeout(30);

    my $req = HTTP::Request->new(($opt{method} || 'POST'),
                                 vhost_url($opt{vhost}, $path));
    $req->header('X-Test-User' => $opt{user}) if defined $opt{user};
    $req->authorization_basic($opt{username}, $opt{password})
        if defined $opt{username};
    my $content = exists $opt{content} ? $opt{content} : '{}';
    if (defined $content) {
        $req->header('Content-Type' => 'application/json');
        $req->content($content);
        $req->header('Content-Length' => length $content);
    }
    $req->header(%{ $opt{headers} }) if $opt{headers} && %{ $opt{headers} };
    return $ua->request($req);
}

sub post_token {
    my ($path, %opt) = @_;
    $opt{user} = unique_user() unless exists $opt{user};
    return request_token($path, %opt);
}

sub vhost_url {
    my ($vhost, $path) = @_;
    my $url;
    if ($vhost) {
        $url = Apache::TestRequest::module2url($vhost, {path => $path});
        $Apache::TestRequest::Module = undef;
    }
    else {
        my $hostport = Apache::TestRequest::hostport(Apache::Test::config());
        $url = "http://$hostport$path";
    }
    return $url;
}

# The answer's JSON object, or undef when it is not one.
sub json_body {
    my $res = shift;
    my $data = eval { JSON::PP->new->decode($res->content) };
    return ref $data eq 'HASH' ? $data : undef;
}

# The module's error answer, as every refusal and failure gives it: the
# status, JSON that only says error and request_id, never cached, never
# sniffed. Six tests; returns the JSON object. @diag goes with a wrong status.
sub error_answer_ok {
    my ($res, $name, $status, $error, @diag) = @_;
    my $json = json_body($res);

    Test::More::is($res->code, $status, "$name: $status")
        or Test::More::diag($res->as_string, @diag);
    Test::More::like($res->header('Content-Type') || '',
                     qr{^application/json\b}, "$name: JSON answer");
    Test::More::like($res->header('Cache-Control') || '', qr/\bno-store\b/,
                     "$name: Cache-Control no-store");
    Test::More::is($res->header('X-Content-Type-Options'), 'nosniff',
                   "$name: X-Content-Type-Options nosniff");
    Test::More::is_deeply([sort keys %{ $json || {} }], [qw(error request_id)],
                          "$name: body has error and request_id only")
        or Test::More::diag($res->content);
    Test::More::is($json && $json->{error}, $error, "$name: error text");
    return $json;
}

# A public_token as Plaid's sandbox hands one to a test, from the
# emulator's /sandbox/public_token/create (sandbox or production).
sub public_token {
    my $env = shift || 'sandbox';
    my $ua = Apache::TestRequest::user_agent(reset => 1);
    my ($id, $secret) = $env eq 'sandbox'
        ? ('sandbox0client0id000001', 'sandbox-secret-Zq7Xv9')
        : ('production0client0id0002', 'production-secret-Hr8Tn3Lw');
    my $req = HTTP::Request->new(POST =>
        vhost_url('plaid_emulator_http', "/$env/sandbox/public_token/create"),
        ['Content-Type' => 'application/json', 'PLAID-CLIENT-ID' => $id,
         'PLAID-SECRET' => $secret],
        '{"institution_id":"ins_109508","initial_products":["transactions"]}');
    my $res = $ua->request($req);
    my $json = json_body($res) || {};
    return $json->{public_token};
}

sub error_log { Apache::Test::vars('t_logs') . '/error_log' }

# log_mark() before a request, log_since($mark) after: the lines between.
sub log_mark { return -s error_log() || 0 }

sub log_since {
    my $mark = shift;
    # A child may still be writing a line that belongs to this request.
    select undef, undef, undef, 0.1;
    open my $fh, '<', error_log() or return ();
    seek $fh, $mark, 0;
    my @lines = <$fh>;
    return @lines;
}

# The bodies the emulator accepted among @lines, decoded.
sub emulator_bodies {
    my @bodies;
    for (@_) {
        next unless m{plaid_emulator: /link/token/create body=(\{.*\})\s*$};
        my $b = eval { JSON::PP->new->decode($1) };
        push @bodies, $b if $b;
    }
    return @bodies;
}

# The emulator's /webhook/sign for body (a string) in mode ("good", or a
# forgery's): its answer, {jwt, kid}, decoded ({} when there is none).
sub emulator_sign {
    my ($body, $mode) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $res = $ua->request(HTTP::Request->new(POST =>
        vhost_url('plaid_emulator_http', '/sandbox/webhook/sign'),
        ['Content-Type' => 'application/json'],
        JSON::PP->new->encode({ body => $body, mode => $mode })));
    return json_body($res) || {};
}

# --- servers a test starts itself ---------------------------------------------

# A port free on 127.0.0.1 now.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "port: $!";
    return $s->sockport;
}

# A file's text, or '' when it cannot be read.
sub file_text {
    my $file = shift;
    open my $fh, '<', $file or return '';
    local $/;
    return <$fh> // '';
}

# More httpd on loopback, one per name, each in $o{tmp}/<name> on a free
# port, with the run's MPM (TEST_MPM) and this module: the common head of
# a configuration, the LoadModule lines of $o{modules} (names, as
# mod_<name>.so), then $o{body}->($port, $dir). Started and answering when
# this returns; each a {name, port, dir}. stop_hosts stops them.
sub start_hosts {
    my (%o) = @_;
    my $mods = '/usr/lib/apache2/modules';
    my $top = Cwd::abs_path(File::Basename::dirname(__FILE__) . '/../..');
    my $mpm = $ENV{TEST_MPM} || 'event';
    my @hosts;
    for my $name (@{ $o{names} }) {
        my $port = free_port();
        my $dir = "$o{tmp}/$name";
        mkdir $dir;
        my $load = join '', map { "LoadModule ${_}_module $mods/mod_$_.so\n" }
                                'authz_core', @{ $o{modules} || [] };
        open my $fh, '>', "$dir/httpd.conf" or die "$dir/httpd.conf: $!";
        print $fh <<"CONF", $o{body}->($port, $dir);
ServerRoot "$dir"
ServerName localhost
DefaultRuntimeDir "$dir"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
LogLevel $o{log_level}
Listen 127.0.0.1:$port
User nobody
Group nogroup
LoadModule mpm_${mpm}_module $mods/mod_mpm_$mpm.so
${load}LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"
CONF
        close $fh or die "$dir/httpd.conf: $!";
        # Known before it starts: stop_hosts stops what did start.
        push @hosts, { name => $name, port => $port, dir => $dir };
        next if system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k',
                       'start') == 0;
        my $log = file_text("$dir/error_log");
        stop_hosts(@hosts);
        die "httpd $name did not start: $log";
    }
    for my $h (@hosts) {
        for (1 .. 50) {
            last if IO::Socket::INET->new("127.0.0.1:$h->{port}");
            select undef, undef, undef, 0.1;
        }
    }
    return @hosts;
}

# The hosts stopped, each waited for.
sub stop_hosts {
    local $?;    # the test's exit status, not that of the commands below
    for my $h (@_) {
        my $pid = file_text("$h->{dir}/httpd.pid") =~ /(\d+)/ ? $1 : 0;
        system('/usr/sbin/apache2', '-f', "$h->{dir}/httpd.conf", '-k',
               'stop');
        for (1 .. 100) {
            last unless $pid && kill 0, $pid;
            select undef, undef, undef, 0.05;
        }
    }
}

# Each host's error_log size: host_log(\@hosts, @marks) after, the text
# they wrote since (all of it without marks).
sub host_marks { return map { -s "$_->{dir}/error_log" || 0 } @_ }

sub host_log {
    my ($hosts, @marks) = @_;
    my $log = '';
    for my $i (0 .. $#$hosts) {
        my $all = file_text("$hosts->[$i]{dir}/error_log");
        $log .= substr($all, ($marks[$i] || 0) < length $all
                             ? $marks[$i] || 0 : length $all);
    }
    return $log;
}

1;
