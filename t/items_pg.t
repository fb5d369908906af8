# SPDX-License-Identifier: Apache-2.0
# PlaidItemStore dbd across servers (docs/items.md, "Several servers"):
# a PostgreSQL server of its own (Debian's, initdb into a temporary
# folder, on a free loopback port, stopped after) and two more httpd,
# A and B, each with DBDriver pgsql at that one database and the same
# PlaidItemKey. Both call the emulator of the Apache::Test server over
# plain http.
#  - An Item exchanged through A is used by item_id through B's gateway
#    (200, Plaid's answer for that Item) and listed by B's plaid-items.
#  - The table holds the sealed token: pg_dump of the database holds no
#    access_token, nor do the two servers' logs or PostgreSQL's. The dump
#    is left in t/state for t/zz_secrets.t to grep again.
#  - The Item removed through B's gateway (/item/remove) is unknown to
#    A's gateway (404) from then on.
#  - The table locked by another session: 503 and one PL0171 line, no
#    call, once PlaidTimeout TOTAL is over (PostgreSQL's statement_timeout;
#    without it the request waits for the lock, past LWP's 30 seconds);
#    the row is still there after.
#  - PostgreSQL stopped: 503 and one PL0171 line, no call; started
#    again: the same Item works, with no restart of httpd.
# Skipped only when PostgreSQL's programs are not installed
# (scripts/deps.sh --test installs postgresql and libaprutil1-dbd-pgsql).
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Cwd ();
use File::Path ();
use File::Temp ();
use HTTP::Request ();
use IPC::Open2 ();
use JSON::PP ();
use LWP::UserAgent ();
use PlaidTest;

my ($pg_bin) = grep { -x "$_/initdb" && -x "$_/pg_ctl" && -x "$_/pg_dump" }
               reverse sort glob '/usr/lib/postgresql/*/bin';
plan skip_all => 'PostgreSQL is not installed (/usr/lib/postgresql/*/bin; '
                 . 'scripts/deps.sh --test installs postgresql)'
    unless $pg_bin;
plan tests => 34;

my $top = Cwd::abs_path("$FindBin::Bin/..");
my $json = JSON::PP->new->canonical;
# Removed by the END block below, after the servers in it have stopped (a
# File::Temp object would remove it before END blocks run).
my $tmp = File::Temp::tempdir('plaid-items-pg-XXXXXX', TMPDIR => 1);
chmod 0755, $tmp;
my $emu = Apache::TestRequest::module2url('plaid_emulator_http',
                                          { path => '/sandbox' });
$Apache::TestRequest::Module = undef;

# --- PostgreSQL, as its own user (it refuses to run as root) -------------

my $pg = "$tmp/pg";
my $pg_port = free_port();
my $db = 'plaid_items';
my $db_user = 'plaid_httpd';
my $db_pass = "items-pg-$$-" . time;
my $pg_started;
my @as_pg;
mkdir $pg or die "$pg: $!";
if ($> == 0) {
    my $owner = getpwnam('postgres') ? 'postgres' : 'nobody';
    my (undef, undef, $uid, $gid) = getpwnam($owner);
    chown $uid, $gid, $pg or die "chown $pg: $!";
    @as_pg = ('runuser', '-u', $owner, '--');
}
chmod 0700, $pg;

# A command, without a shell: its output (with its errors), or undef and
# a failed test that shows them.
sub pg_run {
    my ($name, @cmd) = @_;
    my $pid = open my $fh, '-|';
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>&', \*STDOUT or die "stderr: $!";
        exec @cmd or die "$cmd[0]: $!";
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    ok($? == 0, $name) or diag("@cmd\n$out");
    return $? == 0 ? $out : undef;
}

# psql as the superuser over the unix socket of the temporary folder.
sub psql {
    my ($name, $sql) = @_;
    return pg_run($name, "$pg_bin/psql", '-X', '-q', '-A', '-t', '-h', $pg,
                  '-p', $pg_port, '-U', 'postgres', '-v', 'ON_ERROR_STOP=1',
                  '-d', $db, '-c', $sql);
}

defined pg_run("initdb", @as_pg, "$pg_bin/initdb", '-D', "$pg/data", '-U',
       'postgres', '--auth-local=trust', '--auth-host=scram-sha-256',
       '-E', 'UTF8', '--no-sync', '--no-instructions')
    or die "initdb failed\n";
$pg_started = defined pg_run('PostgreSQL started on 127.0.0.1',
    @as_pg, "$pg_bin/pg_ctl", '-D', "$pg/data", '-l', "$pg/log", '-w',
    '-o', "-c listen_addresses=127.0.0.1 -p $pg_port "
          . "-c unix_socket_directories=$pg -c fsync=off",
    'start');
die('PostgreSQL did not start: ' . file_text("$pg/log")) unless $pg_started;
pg_run('a database and its user for httpd',
       "$pg_bin/psql", '-X', '-q', '-h', $pg, '-p', $pg_port, '-U',
       'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1',
       '-c', "CREATE ROLE $db_user LOGIN PASSWORD '$db_pass'",
       '-c', "CREATE DATABASE $db OWNER $db_user");
ok(scalar(glob '/usr/lib/*/apr-util-1/apr_dbd_pgsql*.so'),
   "apr-util's pgsql driver is installed (libaprutil1-dbd-pgsql)");

# --- two httpd at that database -------------------------------------------

my @hosts = start_hosts(
    tmp => $tmp, names => [qw(a b)],
    log_level => 'warn plaid_link:info dbd:info', modules => [qw(cgi dbd)],
    body => sub { <<"CONF" });
DocumentRoot "$top/t/htdocs"
<Directory "$top/t/htdocs/app">
    Options +ExecCGI
    SetHandler cgi-script
</Directory>
DBDriver pgsql
DBDParams "host=127.0.0.1 port=$pg_port dbname=$db user=$db_user password=$db_pass connect_timeout=2"
PlaidEnv sandbox
PlaidBaseURL "$emu"
PlaidClientId sandbox0client0id000001
PlaidSecret "file:$top/t/conf/secrets/sandbox.secret"
PlaidRetries 0
PlaidTimeout 1 2
<Location /items/>
    PlaidItemStore dbd
    PlaidItemKey "file:$top/t/conf/secrets/items.key"
    PlaidUserId "%{HTTP:X-Test-User}"
</Location>
<Location /items/exchange>
    SetHandler plaid-public-token-exchange
    PlaidExchangeHandoff /app/item.cgi
</Location>
<Location /items/manage>
    SetHandler plaid-items
</Location>
<Location /items/api>
    SetHandler plaid-api
    PlaidApiPaths /accounts/get /item/remove
</Location>
CONF

END {
    local $?;    # the test's exit status, not that of the commands below
    stop_hosts(@hosts);
    if ($pg_started) {
        system(@as_pg, "$pg_bin/pg_ctl", '-s', '-D', "$pg/data", '-m', 'fast',
               '-w', 'stop');
    }
    File::Path::rmtree($tmp) if $tmp;
}

my ($host_a, $host_b) = @hosts;

# --- the requests --------------------------------------------------------------

my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);

sub ask {
    my ($h, $method, $path, $user, $body) = @_;
    my $req = HTTP::Request->new($method,
                                 "http://127.0.0.1:$h->{port}$path");
    $req->header('X-Test-User' => $user) if defined $user;
    if (defined $body) {
        $req->header('Content-Type' => 'application/json');
        $req->content($json->encode($body));
    }
    else {
        $req->header('X-Requested-With' => 'XMLHttpRequest');
    }
    return $ua->request($req);
}

sub called {
    my ($path, @log) = @_;
    return scalar grep { m{plaid_emulator: \Q$path\E } } @log;
}

my $user = unique_user('pg');
my $res = ask($host_a, 'POST', '/items/exchange', $user,
              { public_token => public_token(),
                institution_id => 'ins_109508' });
is($res->code, 200, 'an Item exchanged through A')
    or diag($res->as_string, file_text("$host_a->{dir}/error_log"));
my $item_id = (json_body($res) || {})->{item_id} // '';
like($item_id, qr/\A\w{20,}\z/, '... the application gets its item_id');
my $kept = new_item_kept();

sub new_item_kept {
    my $other = ask($host_a, 'POST', '/items/exchange', $user,
                    { public_token => public_token() });
    return (json_body($other) || {})->{item_id} // '';
}

{
    my $row = psql('the row is in PostgreSQL',
                   "SELECT client_user_id || '|' || sealed FROM plaid_items "
                   . "WHERE item_id = '$item_id'") // '';
    like($row, qr/\A\Q$user\E\|v1\.[0-9a-f]{8}\./,
         '... the user and the sealed token');
}

{
    my $mark = log_mark();
    $res = ask($host_b, 'POST', '/items/api/accounts/get', undef,
               { item_id => $item_id });
    my @log = log_since($mark);
    is($res->code, 200, "B's gateway by item_id: 200")
        or diag($res->as_string, file_text("$host_b->{dir}/error_log"));
    is(((json_body($res) || {})->{item} || {})->{item_id}, $item_id,
       "... Plaid's answer for that Item");
    ok(called('/accounts/get', @log), '... with its access_token');

    $res = ask($host_b, 'GET', '/items/manage', $user);
    is_deeply([sort map { $_->{item_id} }
                   @{ (json_body($res) || {})->{items} || [] }],
              [sort $item_id, $kept], "B's plaid-items lists the user's Items")
        or diag($res->as_string);
}

{
    my $dump = pg_run('pg_dump of the database',
                      "$pg_bin/pg_dump", '-h', $pg, '-p', $pg_port,
                      '-U', 'postgres', $db) // '';
    like($dump, qr/\Q$item_id\E/, '... holds the Item');
    unlike($dump, qr/access-(?:sandbox|production)-/,
           '... and no access_token');
    # Kept for t/zz_secrets.t, which greps everything under t/state.
    mkdir "$FindBin::Bin/state";
    if (open my $fh, '>', "$FindBin::Bin/state/items_pg.dump") {
        print $fh $dump;
        close $fh;
    }
}

{
    $res = ask($host_b, 'POST', '/items/api/item/remove', undef,
               { item_id => $item_id });
    is($res->code, 200, "B's gateway removes the Item")
        or diag($res->as_string);
    my $mark = log_mark();
    $res = ask($host_a, 'POST', '/items/api/accounts/get', undef,
               { item_id => $item_id });
    my @log = log_since($mark);
    is($res->code, 404, "... then it is unknown to A's gateway: 404")
        or diag($res->as_string);
    ok(!called('/accounts/get', @log), '... and Plaid is not called');
    $res = ask($host_a, 'POST', '/items/api/accounts/get', undef,
               { item_id => $kept });
    is($res->code, 200, "... while the user's other Item still works on A")
        or diag($res->as_string, file_text("$host_a->{dir}/error_log"));
}

{
    my $logs = join '', map { file_text("$_->{dir}/error_log") } @hosts;
    unlike($logs, qr/access-(?:sandbox|production)-/,
           "no access_token in the two servers' logs");
    unlike($logs, qr/PL0171/, '... and no store failure (PL0171)');
    unlike(file_text("$pg/log"), qr/access-(?:sandbox|production)-/,
           "... nor in PostgreSQL's");
}

# --- the database locked, then down -------------------------------------------

# A's gateway by item_id: the answer, A's lines, the emulator's lines.
sub call_a {
    my ($from) = host_marks($host_a);
    my $mark = log_mark();
    my $got = ask($host_a, 'POST', '/items/api/accounts/get', undef,
                  { item_id => $kept });
    return ($got, [split /\n/, host_log([$host_a], $from)],
            [log_since($mark)]);
}

{
    # Another session holds the table: every statement on it waits.
    my $pid = IPC::Open2::open2(my $out, my $in, "$pg_bin/psql", '-X', '-q',
        '-A', '-t', '-h', $pg, '-p', $pg_port, '-U', 'postgres', '-d', $db);
    print $in "BEGIN;\nLOCK TABLE plaid_items IN ACCESS EXCLUSIVE MODE;\n"
              . "SELECT 'locked';\n";
    $in->flush;
    my $said = <$out> // '';
    is($said, "locked\n", 'another session locks the table');
    my ($got, $lines, $emu) = call_a();
    print $in "COMMIT;\n\\q\n";
    close $in;
    waitpid $pid, 0;
    is($got->code, 503, "A's gateway while it is locked: 503, once "
       . 'PlaidTimeout is over') or diag($got->as_string, @$lines);
    my @failed = grep { /PL0171: / } @$lines;
    is(scalar @failed, 1, '... one PL0171 line') or diag(@$lines);
    like($failed[0] // '', qr/statement timeout/,
         "... in PostgreSQL's words") or diag(@$lines);
    ok(!called('/accounts/get', @$emu), '... and no call to Plaid');
    ($got) = call_a();
    is($got->code, 200, '... the lock gone, the Item works again')
        or diag($got->as_string);
}

{
    pg_run('PostgreSQL stopped', @as_pg, "$pg_bin/pg_ctl", '-s', '-D',
           "$pg/data", '-m', 'fast', '-w', 'stop');
    my ($got, $lines, $emu) = call_a();
    is($got->code, 503, "A's gateway with the database down: 503")
        or diag($got->as_string, @$lines);
    is(scalar(grep { /PL0171: / } @$lines), 1, '... one PL0171 line')
        or diag(@$lines);
    ok(!called('/accounts/get', @$emu), '... and no call to Plaid');
    pg_run('PostgreSQL started again', @as_pg, "$pg_bin/pg_ctl", '-D',
           "$pg/data", '-l', "$pg/log", '-w', '-o',
           "-c listen_addresses=127.0.0.1 -p $pg_port "
           . "-c unix_socket_directories=$pg -c fsync=off", 'start');
    # Every child's sessions were dropped: each is made again, by the
    # request that finds it dropped, with nothing lost.
    my (@codes, @lines);
    for (1 .. 12) {
        ($got, $lines) = call_a();
        push @codes, $got->code;
        push @lines, @$lines;
    }
    is("@codes", join(' ', (200) x 12), '... and back: twelve calls work, '
       . 'httpd not restarted') or diag(grep { /PL0171|dbd/ } @lines);
}
