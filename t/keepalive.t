# SPDX-License-Identifier: Apache-2.0
# A kept-alive connection to Plaid that Plaid closed while it sat idle in the
# module's curl pool must not cost a request: the emulator's vhost has
# KeepAliveTimeout 1, so after a pause every pooled connection is dead.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use PlaidTest;

plan tests => 8 + 2;

for my $round (1 .. 2) {
    my $mark = log_mark();
    my $res  = post_token('/plaid/link-token');
    is($res->code, 200, "round $round, before the pause: 200")
        or diag($res->as_string);
    # Longer than the emulator's KeepAliveTimeout: it closes the connection.
    sleep 2;
    $res = post_token('/plaid/link-token');
    is($res->code, 200, "round $round, after the emulator closed the idle "
                        . "connection: 200") or diag($res->as_string);
    my @log = log_since($mark);
    is(scalar(grep { /PL0100/ } @log), 0, "round $round: no failure logged")
        or diag(@log);
    is(scalar(emulator_bodies(@log)), 2, "round $round: Plaid was called "
                                         . "once per request");
}

# The race the pause above cannot force: the request is already on its way
# when the server's close arrives. The emulator's "stale" fault drops every
# reused connection unanswered; curl then retries on a fresh connection. A
# handle must survive that any number of times (libcurl counts such retries
# per handle until the handle is reset, and gives up after five).
{
    my $mark = log_mark();
    my @codes = map { post_token('/plaid/stale')->code } 1 .. 12;
    is("@codes", join(' ', (200) x 12),
       'twelve requests over connections the server dropped: all 200');
    my @log = log_since($mark);
    is(scalar(grep { /PL0100/ } @log), 0, '... and no failure logged')
        or diag(grep { /PL0100/ } @log);
}
