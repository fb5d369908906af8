# SPDX-License-Identifier: Apache-2.0
# Limits that hold across hosts: two more httpd on loopback share one
# redis-server (Debian's, started here and stopped after) through
# PlaidCache redis:HOST:PORT. A user's requests alternate between the two.
#
# The keys must fit mod_socache_redis (254 bytes after its hex encoding):
# the locations have long paths, one hashes the user ids
# (PlaidUserIdHashKey: 64 hex characters), one takes 90-byte ids as they
# are. PlaidRateLimit holds over both hosts all the same.
#
# Redis stopped: the limit and the breaker are not applied (fail open), no
# 500, and each says so (PL0132), once per child in this outage. Redis
# started again: the store is used again at once (the children's pooled
# connections to the old redis are dead): a limit holds right away, and
# three upstream 5xx in a row open PlaidCircuitBreaker for both hosts.
# Redis made a replica (read-only): reads work, every write fails, which
# is the store failing too, said as such.
# Both call the emulator of the Apache::Test server over plain http.
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
plan skip_all => "$redis is not installed (scripts/deps.sh --test)"
    unless -x $redis;
plan tests => 24;

my $top = Cwd::abs_path("$FindBin::Bin/..");
my $tmp = File::Temp->newdir('plaid-redis-XXXXXX', TMPDIR => 1);
chmod 0755, "$tmp";
my $emu = Apache::TestRequest::module2url('plaid_emulator_http',
                                          { path => '/sandbox' });
$Apache::TestRequest::Module = undef;
# The same emulator as another Plaid host, with a breaker of its own.
(my $emu_by_ip = $emu) =~ s{//[^:/]+}{//127.0.0.1};

my $redis_port = free_port();
sub start_redis {
    system($redis, '--port', $redis_port, '--bind', '127.0.0.1', '--save',
           '', '--appendonly', 'no', '--daemonize', 'yes',
           '--pidfile', "$tmp/redis.pid", '--logfile', "$tmp/redis.log") == 0
        or die "redis-server did not start\n";
    for (1 .. 100) {
        return if IO::Socket::INET->new("127.0.0.1:$redis_port");
        select undef, undef, undef, 0.05;
    }
    die "redis-server does not answer\n";
}
start_redis();

# One inline command to the redis; its answer's first line.
sub redis_says {
    my $s = IO::Socket::INET->new("127.0.0.1:$redis_port") or return '';
    print $s "@_\r\n";
    my $answer = <$s> // '';
    close $s;
    return $answer;
}

# Long enough that "plaid-rl:u:<path>:<user>:<window>" is past what the
# redis and memcache providers take, with either kind of user id.
my $path = '/plaid/a-location-path-that-is-long-enough/to-matter';
my $hash_key = "file:$top/t/conf/secrets/hash.key";
my @hosts = start_hosts(
    tmp => "$tmp", names => [qw(a b)], log_level => 'warn plaid_link:info',
    modules => ['socache_redis'], body => sub { <<"CONF" });
PlaidCache redis:127.0.0.1:$redis_port
<Location $path/>
    SetHandler plaid-link-token
    PlaidBaseURL "$emu"
    PlaidClientId sandbox0client0id000001
    PlaidSecret "file:$top/t/conf/secrets/sandbox.secret"
    PlaidClientName "redis test"
    PlaidLanguage en
    PlaidCountryCodes US
    PlaidProducts auth
    PlaidUserId "%{HTTP:X-Test-User}"
    PlaidRetries 0
</Location>
<Location $path/hashed>
    PlaidUserIdHashKey "$hash_key"
    PlaidRateLimit 4 60
</Location>
<Location $path/as-is>
    PlaidRateLimit 4 60
</Location>
<Location $path/breaker>
    PlaidBaseURL "$emu/status=500"
    PlaidCircuitBreaker 3 5
</Location>
<Location $path/breaker-by-ip>
    PlaidBaseURL "$emu_by_ip/status=500"
    PlaidCircuitBreaker 3 5
</Location>
CONF

END {
    stop_hosts(@hosts);
    stop_redis();
}

sub stop_redis {
    return unless $tmp && -f "$tmp/redis.pid";
    open my $fh, '<', "$tmp/redis.pid" or return;
    chomp(my $pid = <$fh> // '');
    kill 'TERM', $pid if $pid;
    for (1 .. 100) {
        last unless $pid && kill 0, $pid;
        select undef, undef, undef, 0.05;
    }
    unlink "$tmp/redis.pid";
}

my $ua = LWP::UserAgent->new(timeout => 20, keep_alive => 0);
sub ask {
    my ($h, $where, $user) = @_;
    return $ua->request(HTTP::Request->new(POST =>
        "http://127.0.0.1:$h->{port}$path/$where",
        ['Content-Type' => 'application/json', 'X-Test-User' => $user], '{}'));
}

# Eight requests of one user, alternating between the hosts.
sub eight {
    my ($where, $user) = @_;
    return join ' ', map { ask($hosts[$_ % 2], $where, $user)->code } 0 .. 7;
}

# What the two hosts logged after their marks.
sub host_logs { return host_log(\@hosts, @_) }
# The emulator's answers to the breaker's location (500 each).
sub calls_since {
    return scalar grep { m{plaid_emulator: /link/token/create answered 500} }
        log_since(shift);
}
# Inside one window (they are fixed minutes) for what follows.
sub inside_a_window { my $s = time % 60; sleep 61 - $s if $s > 40 }
inside_a_window();

my $long = 'u' x 90;
{
    my $user = unique_user('two-hosts');
    is(eight('hashed', $user), '200 200 200 200 429 429 429 429',
       'PlaidRateLimit 4 60 over two hosts, hashed ids, a long path: '
       . '4 of 8, then 429');
    my $codes = eight('as-is', $long . unique_user(''));
    is($codes, '200 200 200 200 429 429 429 429',
       '... and with 90-byte user ids as they are');
    ok(ask($hosts[0], 'hashed', $user)->code == 429
       && ask($hosts[1], 'hashed', $user)->code == 429, '... on both hosts');
    my $log = host_logs();
    unlike($log, qr/PL013[26]/, '... and the store took every key');
}

my @marks = host_marks(@hosts);
stop_redis();
{
    my $user = unique_user('no-redis');
    my @codes = map { ask($hosts[$_ % 2], 'hashed', $user)->code } 0 .. 5;
    is("@codes", '200 200 200 200 200 200',
       'redis stopped: the limit is not applied, no 500, no hang');
    @codes = map { ask($hosts[$_ % 2], 'breaker', $user)->code } 0 .. 3;
    is("@codes", '502 502 502 502',
       '... nor the breaker: four upstream 500 are answered 502 each');
    my $log = host_logs(@marks);
    like($log, qr/PL0132: PlaidCache unreachable\b.*: PlaidRateLimit not applied/,
         '... said in the log (PL0132) for the limit');
    like($log, qr/PL0132: PlaidCache unreachable\b.*: PlaidCircuitBreaker not applied/,
         '... and for the breaker, whose state could not be written');
    my %said;
    $said{"$1 $2"}++ while $log =~ /\[pid (\d+)[^\]]*\].*PL0132:.*: (\w+) not applied/g;
    my @twice = grep { $said{$_} > 1 } sort keys %said;
    is("@twice", '', '... once per child and limit in this outage');
}

inside_a_window();
start_redis();
@marks = host_marks(@hosts);
{
    my $user = unique_user('restarted');
    is(eight('hashed', $user), '200 200 200 200 429 429 429 429',
       'redis started again: the limit holds right away');
    is(eight('as-is', $long . unique_user('')),
       '200 200 200 200 429 429 429 429', '... at each location');

    my $mark = log_mark();
    my @codes = map { ask($hosts[$_ % 2], 'breaker', $user)->code } 0 .. 2;
    my $calls = calls_since($mark);
    is("@codes", '502 502 502', 'three upstream 500 in a row, over both hosts');
    is($calls, 3, '... three calls');

    $mark = log_mark();
    my $res = ask($hosts[1], 'breaker', $user);
    $calls = calls_since($mark);
    is($res->code, 503, 'then the breaker is open: 503');
    is($calls, 0, '... and Plaid was not called');
    is(ask($hosts[0], 'breaker', $user)->code, 503, '... on both hosts');

    my $log = host_logs(@marks);
    like($log, qr/PL0134: circuit breaker opened for http:\/\/\S+ after 3 failures/,
         'the opening is logged (PL0134)');
    like($log, qr/PL0133: .*circuit breaker for http:\/\/\S+ is open/,
         '... and the refusal (PL0133)');
    like($log, qr/PL0137: PlaidCache reachable again/,
         'the store coming back is said (PL0137)');
    unlike($log, qr/PL0132/, '... and no write was lost after it');
}

# A failover left the store read-only: the reads succeed, the writes fail.
# A write that fails is the store failing, said as such, even within a
# minute of the last line about the store (another outage): the outage is
# the server's, which a child's successful write above ended for every
# child, so each child that meets this one says it, with no wait.
like(redis_says('REPLICAOF', '127.0.0.1', free_port()), qr/^\+OK/,
     'redis made a read-only replica');
@marks = host_marks(@hosts);
{
    my $user = unique_user('read-only');
    my @codes = map { ask($hosts[$_ % 2], 'hashed', $user)->code } 0 .. 5;
    is("@codes", '200 200 200 200 200 200',
       'writes refused: the limit is not applied');
    @codes = map { ask($hosts[$_ % 2], 'breaker-by-ip', $user)->code } 0 .. 3;
    my $log = host_logs(@marks);
    like($log, qr/PL0132: PlaidCache unreachable\b.*: PlaidCircuitBreaker not applied/,
         '... nor the breaker, whose failures cannot be counted: said (PL0132)');
    like($log, qr/PL0132: PlaidCache unreachable\b.*: PlaidRateLimit not applied/,
         '... and the limit, said again for this new outage');
}
redis_says('REPLICAOF', 'NO', 'ONE');
