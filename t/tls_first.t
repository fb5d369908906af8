# SPDX-License-Identifier: Apache-2.0
# A child's first connection to Plaid goes alone: the calls that come with
# it wait for its TLS session and resume it, instead of each negotiating a
# session of its own. Each round: a graceful restart (children with no
# session yet), then PlaidMaxInFlight's 3 requests at once to a location
# whose calls the emulator answers after 400 ms, so that calls in one child
# overlap. Of the connections each child opened, at most one negotiated
# TLS in full. Without the wait, two calls that overlap in a child both
# negotiate (three rounds: some child gets two calls, almost surely).
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use PlaidTest;

my $burst  = 3;   # PlaidMaxInFlight in t/conf/extra.conf.in
my $rounds = 3;
plan tests => 4 * $rounds;

my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
open my $fh, '<', $pidfile or die "$pidfile: $!";
chomp(my $httpd = <$fh>);
close $fh;

for my $round (1 .. $rounds) {
    ok(kill('USR1', $httpd), "round $round: graceful restart, children "
                             . 'with no TLS session');
    # Set-up, not a measure: the new generation takes the listeners.
    sleep 2;

    my $mark = log_mark();
    my @kids;
    for my $n (1 .. $burst) {
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            my $res = post_token('/plaid/overlap', user => "tls-$round-$n");
            exit($res->code == 200 ? 0 : 1);
        }
        push @kids, $pid;
    }
    my $ok = 0;
    for (@kids) {
        waitpid($_, 0);
        $ok++ if $? == 0;
    }
    my @log = log_since($mark);
    is($ok, $burst, "round $round: $burst requests at once all answered 200")
        or diag(@log);

    # The module's child of each user (its PL0102 line), the emulator's
    # connection of each user (its body line) and whether that
    # connection's session was negotiated in full (its headers line).
    my (%child, %conn, %initial);
    for (@log) {
        if (/\[pid (\d+).*PL0102: POST .*"client_user_id":"(tls-$round-\d+)"/) {
            $child{$2} = $1;
        }
        elsif (/\[client ([\d.:]+)\] plaid_emulator: .* body=.*"client_user_id":"(tls-$round-\d+)"/) {
            $conn{$2} = $1;
        }
        elsif (/\[client ([\d.:]+)\] plaid_emulator: .* headers .* tls=Initial\b/) {
            $initial{$1} = 1;
        }
    }
    is(scalar(grep { $child{$_} && $conn{$_} } keys %child), $burst,
       "round $round: each call's child and connection found") or diag(@log);
    my %full;   # child => its connections negotiated in full
    for my $user (keys %child) {
        my $c = $conn{$user} // next;
        $full{ $child{$user} }{$c} = 1 if $initial{$c};
    }
    my @over = grep { keys %{ $full{$_} } > 1 } keys %full;
    is(scalar @over, 0, "round $round: no child negotiated TLS in full "
       . 'more than once (' . scalar(keys %child) . ' calls in '
       . scalar(keys %{ { reverse %child } }) . ' child(ren))')
        or diag(map { "child $_: " . join(' ', sort keys %{ $full{$_} }) . "\n" } @over);
}
