# A slow or rate-limiting Plaid does not hold the site's workers:
# - PlaidMaxInFlight (3 in this suite) calls at once per child; the next
#   request gets 503 with Retry-After at once, a PL0110 line and no call
#   (threaded MPMs: a prefork child has one thread, its own limit);
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

my $threaded = ($ENV{TEST_MPM} || 'event') ne 'prefork';
# More than the 3 per child of the children the MPM can start (worker and
# event start more children when threads run short), so some must wait.
my $concurrent = 20;

plan tests => 11 + ($threaded ? 6 : 0);

# --- PlaidMaxInFlight --------------------------------------------------------

if ($threaded) {
    my $mark = log_mark();
    my $url = vhost_url(undef, '/plaid/slow');
    my @readers;
    for my $n (1 .. $concurrent) {
        pipe(my $reader, my $writer) or die "pipe: $!";
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            close $reader;
            my $ua = LWP::UserAgent->new(timeout => 30);
            my $res = $ua->request(HTTP::Request->new(POST => $url,
                ['Content-Type' => 'application/json',
                 'X-Test-User' => unique_user("inflight$n")], '{}'));
            print $writer join(' ', $res->code,
                               $res->header('Retry-After') // '-'), "\n";
            close $writer;
            exit 0;
        }
        close $writer;
        push @readers, [$pid, $reader];
    }
    my @answers;
    for (@readers) {
        my ($pid, $reader) = @$_;
        my $line = <$reader> // 'none -';
        chomp $line;
        push @answers, [split / /, $line];
        waitpid $pid, 0;
    }
    my @log = log_since($mark);
    my @ok      = grep { $_->[0] eq '200' } @answers;
    my @refused = grep { $_->[0] eq '503' } @answers;
    is(@ok + @refused, $concurrent, "$concurrent concurrent requests: 200 or 503")
        or diag(explain(\@answers));
    ok(scalar @refused, '... some refused at once (PlaidMaxInFlight 3)')
        or diag(explain(\@answers));
    is_deeply([grep { $_->[1] ne '1' } @refused], [],
              '... each with Retry-After: 1');
    is(scalar(grep { /PL0110: .*PlaidMaxInFlight/ } @log), scalar @refused,
       '... and one PL0110 line each') or diag(@log);
    is(scalar emulator_bodies(@log), scalar @ok,
       '... and Plaid was called only for those answered 200');
    my @warnings = grep { /PL0116: PlaidMaxInFlight \(3\) refused \d+ requests/ } @log;
    # One a minute per child: fewer than the refusals (several children
    # may each say theirs).
    ok(@warnings >= 1 && (@warnings < @refused || @refused == 1),
       '... and a PL0116 warning, not one per refusal')
        or diag(scalar @warnings, ' warnings for ', scalar @refused,
                ' refusals');
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
