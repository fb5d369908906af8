# SPDX-License-Identifier: Apache-2.0
# A slow or rate-limiting Plaid does not hold the site's workers:
# - PlaidMaxInFlight (3 in this suite) calls at once in the whole server,
#   whatever child they are in (under prefork too, where each child serves
#   one request): the next request gets 503 with Retry-After at once, a
#   PL0110 line and no call, and a static page is still served; one PL0116
#   warning for the server, not one per child;
# - a child killed during a call (Plaid stalled) does not keep its share:
#   once httpd has seen it go, the calls in flight are 0 again and the cap
#   admits as many;
# - a 429 whose Retry-After is longer than the module would wait is not
#   slept on: 503 with Retry-After at once; and until that time the child
#   does not call Plaid again for that URL and client id.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use IO::Handle ();
use PlaidTest;

my $cap = 3;   # PlaidMaxInFlight in t/conf/extra.conf.in
# More than the cap, and more than one child takes under the threaded
# MPMs (event and worker start more children when threads run short).
# Under prefork every request and every call it makes to the emulator
# (served by this same httpd) is a child of its own: 12 requests, all
# admitted, would hold all 24 children.
my $concurrent = 12;

plan tests => 10 + 6 + 11;

# POST {} to $path from $n processes at once; returns their pids and the
# pipes their "status Retry-After" lines come through.
sub start_posts {
    my ($path, $n, $tag) = @_;
    my $url = vhost_url(undef, $path);
    my @started;
    for my $i (1 .. $n) {
        pipe(my $reader, my $writer) or die "pipe: $!";
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            close $reader;
            my $ua = LWP::UserAgent->new(timeout => 30);
            my $res = $ua->request(HTTP::Request->new(POST => $url,
                ['Content-Type' => 'application/json',
                 'X-Test-User' => unique_user("$tag$i")], '{}'));
            print $writer join(' ', $res->code,
                               $res->header('Retry-After') // '-'), "\n";
            close $writer;
            exit 0;
        }
        close $writer;
        push @started, [$pid, $reader];
    }
    return @started;
}

sub answers_of {
    my @answers;
    for (@_) {
        my ($pid, $reader) = @$_;
        my $line = <$reader> // 'none -';
        chomp $line;
        push @answers, [split / /, $line];
        waitpid $pid, 0;
    }
    return @answers;
}

# The most calls to /plaid/slow the log shows in flight at once: from each
# PL0102 line (after the call was admitted) to its PL0101 or PL0100 line
# (before its count ends), so never more than were counted.
sub most_at_once {
    my ($now, $most) = (0, 0);
    for (@_) {
        if (m{PL0102: POST \S*/delay=2000/}) {
            $most = $now if ++$now > $most;
        }
        elsif (/PL010[01]: .*\blocation=\/plaid\/slow\b/) {
            $now--;
        }
    }
    return $most;
}

sub calls_in_flight {
    my $res = Apache::TestRequest::GET('/plaid-metrics');
    return $res->content =~ /^plaid_link_calls_in_flight (\d+)$/m ? $1 : -1;
}

# --- PlaidMaxInFlight, server-wide -------------------------------------------

{
    my $mark = log_mark();
    my @started = start_posts('/plaid/slow', $concurrent, 'inflight');
    # While the admitted calls wait for Plaid.
    my $static = Apache::TestRequest::GET('/index.html');
    my @answers = answers_of(@started);
    my @log = log_since($mark);
    my @ok      = grep { $_->[0] eq '200' } @answers;
    my @refused = grep { $_->[0] eq '503' } @answers;
    is(@ok + @refused, $concurrent, "$concurrent concurrent requests: 200 or 503")
        or diag(explain(\@answers));
    ok(scalar @refused, "... some refused at once (PlaidMaxInFlight $cap)")
        or diag(explain(\@answers));
    cmp_ok(scalar @ok, '>=', 1, '... some answered');
    my $most = most_at_once(@log);
    ok($most >= 1 && $most <= $cap,
       "... at most $cap calls in flight at once in the whole server ($most)");
    is_deeply([grep { $_->[1] ne '1' } @refused], [],
              '... each refused with Retry-After: 1');
    is(scalar(grep { /PL0110: .*PlaidMaxInFlight: $cap calls .* in this server/ } @log),
       scalar @refused, '... and one PL0110 line each') or diag(@log);
    is(scalar emulator_bodies(@log), scalar @ok,
       '... and Plaid was called only for those answered 200');
    my @warnings = grep { /PL0116: PlaidMaxInFlight \($cap\) refused \d+ requests/ } @log;
    ok(@warnings <= 1, '... at most one PL0116 warning, for the whole server')
        or diag(@warnings);
    ok((grep { /PL0116: PlaidMaxInFlight/ } log_since(0)),
       '... and one was given (since httpd started, or this minute)');
    is($static->code, 200, 'a static page is served meanwhile');
}

# --- a child killed during a call --------------------------------------------

SKIP: {
    # scripts/test-valgrind.sh runs httpd -X: the child is the server.
    skip 'httpd runs in one process (-X): no child to kill', 6
        if httpd_cmdline() =~ /\0-X(?:\0|$)|ONE_PROCESS/;
    my $mark = log_mark();
    my @started = start_posts('/plaid/stalled', $cap, 'killed');
    my @calling;
    for (1 .. 100) {
        @calling = grep { m{PL0102: POST \S*/delay=20000/} } log_since($mark);
        last if @calling >= $cap;
    }
    # The children that make them (some may make two).
    my %pids = map { m{\[pid (\d+)} ? ($1 => 1) : () } @calling;
    is(scalar @calling, $cap, "$cap calls in flight");
    is(calls_in_flight(), $cap, '... and counted');
    is(kill('KILL', keys %pids), scalar keys %pids,
       '... their children killed (kill -9) during the calls');
    answers_of(@started);
    my $left;
    for (1 .. 100) {
        last if ($left = calls_in_flight()) == 0;
        select undef, undef, undef, 0.1;
    }
    is($left, 0, '... then no call counts any more');

    my @answers = answers_of(start_posts('/plaid/overlap', $cap, 'after'));
    is_deeply([map { $_->[0] } @answers], [('200') x $cap],
              "... and $cap calls at once are admitted again")
        or diag(explain(\@answers));
    is(calls_in_flight(), 0, '... and counted out');
}

# --- a long Retry-After ------------------------------------------------------

{
    # Each child holds its own calls back: requests go on until one reaches
    # a child that has already called (a 503 closes the connection, so the
    # next may reach any child; there are at most 24).
    my (%calls, @held, $first);
    for my $n (1 .. 40) {
        my $mark = log_mark();
        my $res = post_token('/plaid/retry-after-long');
        my @log = log_since($mark);
        my ($line) = grep { /PL0100/ } @log;
        my ($pid) = ($line || '') =~ /\[pid (\d+)/;
        $first //= [$res, $line, scalar grep { /plaid_emulator: .* answered 429/ } @log];
        if (($line || '') =~ /\battempts=0\b/) {
            push @held, [$res, $line, scalar grep { /plaid_emulator: / } @log];
            last;
        }
        $calls{$pid // 'none'}++;
    }
    my ($res, $line, $emulated) = @$first;
    is($res->code, 503, '429 with Retry-After: 30: 503');
    is($res->header('Retry-After'), 30, '... passing Retry-After on');
    like($line || '', qr/\battempts=1\b/, '... at once, not slept on')
        or diag($line);
    is($emulated, 1, '... after one call');
    is_deeply([grep { $calls{$_} > 1 } sort keys %calls], [],
              'no child called Plaid twice before the time it was given');

    ok(scalar @held, 'a request reached a child that had called')
        or diag(explain(\%calls));
    ($res, $line, $emulated) = @{ $held[0] || [] };
    is($res && $res->code, 503, '... 503');
    my $wait = ($res && $res->header('Retry-After')) // 0;
    ok($wait >= 1 && $wait <= 30, "... with what is left to wait ($wait s)");
    like($line || '', qr/\bproblem="[^"]*no call/, '... logged as held back')
        or diag($line);
    is($emulated, 0, '... and no call to Plaid');

    # Another URL is not held back.
    $res = post_token('/plaid/link-token');
    is($res->code, 200, 'other locations still call Plaid')
        or diag($res->as_string);
}
