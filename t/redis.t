# Limits that hold across hosts: two more httpd on loopback share one
# redis-server (Debian's, started here and stopped after) through
# PlaidCache redis:HOST:PORT. A user's requests alternate between the two
# and PlaidRateLimit holds over both. Redis stopped mid-test: the limit is
# not applied (fail open), no 500, one PL0132 warning. Both call the
# emulator of the Apache::Test server over plain http on loopback.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Cwd ();
use File::Temp ();
use HTTP::Request ();
use IO::Socket::INET ();
use LWP::UserAgent ();
use PlaidTest;

my $redis = '/usr/bin/redis-server';
my $mods  = '/usr/lib/apache2/modules';
plan skip_all => "$redis is not installed (scripts/deps.sh --test)"
    unless -x $redis;
plan tests => 6;

my $top = Cwd::abs_path("$FindBin::Bin/..");
my $tmp = File::Temp->newdir('plaid-redis-XXXXXX', TMPDIR => 1);
chmod 0755, "$tmp";
my $emu = Apache::TestRequest::module2url('plaid_emulator_http',
                                          { path => '/sandbox' });
$Apache::TestRequest::Module = undef;

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "port: $!";
    return $s->sockport;
}

my $redis_port = free_port();
system($redis, '--port', $redis_port, '--bind', '127.0.0.1', '--save', '',
       '--appendonly', 'no', '--daemonize', 'yes',
       '--pidfile', "$tmp/redis.pid", '--logfile', "$tmp/redis.log") == 0
    or die "redis-server did not start\n";

my @hosts;
for my $name (qw(a b)) {
    my $port = free_port();
    my $dir = "$tmp/$name";
    mkdir $dir;
    open my $fh, '>', "$dir/httpd.conf" or die $!;
    print $fh <<"CONF";
ServerRoot "$dir"
ServerName localhost
DefaultRuntimeDir "$dir"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
LogLevel warn plaid_link:info
Listen 127.0.0.1:$port
User nobody
Group nogroup
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule socache_redis_module $mods/mod_socache_redis.so
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"
PlaidCache redis:127.0.0.1:$redis_port
<Location /plaid/link-token>
    SetHandler plaid-link-token
    PlaidBaseURL "$emu"
    PlaidClientId sandbox0client0id000001
    PlaidSecret "file:$top/t/conf/secrets/sandbox.secret"
    PlaidClientName "redis test"
    PlaidLanguage en
    PlaidCountryCodes US
    PlaidProducts auth
    PlaidUserId "%{HTTP:X-Test-User}"
    PlaidRateLimit 4 60
</Location>
CONF
    close $fh;
    system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'start') == 0
        or die "httpd $name did not start: " . `cat $dir/error_log`;
    push @hosts, { name => $name, port => $port, dir => $dir };
}

END {
    for my $h (@hosts) {
        system('/usr/sbin/apache2', '-f', "$h->{dir}/httpd.conf", '-k', 'stop');
    }
    stop_redis();
}

sub stop_redis {
    return unless $tmp && -f "$tmp/redis.pid";
    open my $fh, '<', "$tmp/redis.pid" or return;
    chomp(my $pid = <$fh> // '');
    kill 'TERM', $pid if $pid;
    unlink "$tmp/redis.pid";
    select undef, undef, undef, 0.3;
}

my $ua = LWP::UserAgent->new(timeout => 20, keep_alive => 0);
sub ask {
    my ($h, $user) = @_;
    return $ua->request(HTTP::Request->new(POST =>
        "http://127.0.0.1:$h->{port}/plaid/link-token",
        ['Content-Type' => 'application/json', 'X-Test-User' => $user], '{}'));
}

# Both servers answer before the clock starts.
for my $h (@hosts) {
    for (1 .. 50) {
        last if IO::Socket::INET->new("127.0.0.1:$h->{port}");
        select undef, undef, undef, 0.1;
    }
}
my $s = time % 60;
sleep 61 - $s if $s > 50;   # inside one window (they are fixed minutes)

{
    my $user = unique_user('two-hosts');
    my @codes = map { ask($hosts[$_ % 2], $user)->code } 0 .. 7;
    is(scalar(grep { $_ == 200 } @codes), 4,
       "PlaidRateLimit 4 60 over two hosts: 4 of 8 (@codes)");
    is(scalar(grep { $_ == 429 } @codes), 4, '... the rest 429');
    ok(ask($hosts[0], $user)->code == 429 && ask($hosts[1], $user)->code == 429,
       '... on both hosts');
}

stop_redis();
{
    my $user = unique_user('no-redis');
    my @codes = map { ask($hosts[$_ % 2], $user)->code } 0 .. 5;
    is("@codes", '200 200 200 200 200 200',
       'redis stopped: the limit is not applied, no 500, no hang');
    my $log = join '', map { `cat $_->{dir}/error_log` } @hosts;
    like($log, qr/PL0132: PlaidCache unreachable: PlaidRateLimit not applied/,
         '... and said in the log (PL0132)');
    my $n = () = $log =~ /PL0132/g;
    ok($n <= 2 * 4, "... once a minute per child at most ($n lines)");
}
