# SPDX-License-Identifier: Apache-2.0
# A graceful restart (apache2 -k graceful, i.e. SIGUSR1 to the parent)
# while requests are flowing loses none of them: old children finish what
# they hold, new children build their curl pools afresh.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use Time::HiRes qw(sleep);
use PlaidTest;

my $requests = 120;
plan tests => 6;

my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
open my $fh, '<', $pidfile or die "$pidfile: $!";
chomp(my $httpd = <$fh>);
close $fh;

my $url = Apache::TestRequest::resolve_url('/plaid/link-token');
pipe(my $reader, my $writer) or die "pipe: $!";
my $child = fork() // die "fork: $!";
if (!$child) {
    close $reader;
    # One connection per request: a restart closes idle kept-alive
    # connections by design, and that is not a lost request.
    my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 30);
    my %codes;
    for my $n (1 .. $requests) {
        my $req = HTTP::Request->new(POST => $url);
        $req->header('Content-Type' => 'application/json');
        $req->header('X-Test-User' => "graceful-$n");
        $req->content('{}');
        $codes{ $ua->request($req)->code }++;
    }
    print $writer join(' ', map { "$_=$codes{$_}" } sort keys %codes), "\n";
    close $writer;
    exit 0;
}
close $writer;

my $mark = log_mark();
for (1 .. 2) {
    sleep 0.5;
    ok(kill('USR1', $httpd), "graceful restart sent to httpd $httpd");
}
chomp(my $codes = <$reader> // '');
waitpid($child, 0);
is($codes, "200=$requests", "all $requests requests answered 200 across two "
                            . "graceful restarts");

my @log = log_since($mark);
is(scalar(grep { /SIGUSR1 received.  Doing graceful restart|AH00171/ } @log), 2,
   'httpd did restart twice')
    or diag(grep { /notice/ } @log);
my @bad = grep { /exit signal|Segmentation|PL0100|PL0103/ } @log;
is(scalar @bad, 0, 'no child crashed and no call failed') or diag(@bad);

# Let the new generation settle before later tests run.
sleep 1;

# The production vhost's secret is env:, removed from httpd's environment
# at start-up: the restarted configuration found the value kept for it.
my $res = post_token('/plaid/link-token', vhost => 'plaid_production');
is($res->code, 200, 'after the restarts, the env: secret still works')
    or diag($res->as_string);
