# SPDX-License-Identifier: Apache-2.0
# PlaidRateLimit (per user, per location), PlaidRateLimitTotal (all users
# of a client id) and PlaidCircuitBreaker (per Plaid host), with the
# default shared store (shmcb): a refused request gets 429 (limits) or 503
# (breaker) with Retry-After, one log line, and no call to Plaid; counts
# hold across children (prefork: requests land in any child).
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Time::HiRes qw(sleep);
use PlaidTest;

plan tests => 9 + 5 + 11;

sub calls { scalar grep { m{plaid_emulator: /link/token/create body=} } @_ }

# The windows are fixed (each minute): a run that straddles one would see
# the count start again, so start well inside one.
sub inside_a_window { my $s = time % 60; sleep 61 - $s if $s > 50 }

# --- per user ------------------------------------------------------------------

inside_a_window();
{
    my $user = unique_user('limited');
    my @codes;
    my $mark = log_mark();
    for (1 .. 5) {
        push @codes, post_token('/plaid/limited', user => $user)->code;
    }
    my @log = log_since($mark);
    is("@codes", '200 200 200 429 429', 'PlaidRateLimit 3 60: three, then 429')
        or diag(@log);
    is(calls(@log), 3, '... and Plaid was called three times');
    is(scalar(grep { /PL0130: .*PlaidRateLimit reached/ } @log), 2,
       '... one PL0130 line per refusal');

    my $res = post_token('/plaid/limited', user => $user);
    my $json = json_body($res) || {};
    is($res->code, 429, 'the answer: 429');
    like($res->header('Retry-After') // '', qr/^\d+$/, '... with Retry-After');
    ok($res->header('Retry-After') <= 60, '... within the window');
    is($json->{error}, 'Too many requests', '... and a JSON error');
    like($json->{request_id} // '', qr/\w/, '... with its correlation id');

    is(post_token('/plaid/limited', user => unique_user('other'))->code, 200,
       'another user is not limited');
}

# --- all users of a client id ------------------------------------------------------

inside_a_window();
{
    my @codes;
    my $mark = log_mark();
    for (1 .. 6) {
        push @codes, post_token('/plaid/limited-total',
                                user => unique_user('total'))->code;
    }
    my @log = log_since($mark);
    is("@codes", '200 200 200 200 429 429',
       'PlaidRateLimitTotal 4 60: four users, then 429') or diag(@log);
    is(calls(@log), 4, '... and Plaid was called four times');
    ok(grep({ /PL0130: .*PlaidRateLimitTotal reached/ } @log),
       '... logged as the total limit');
    is(post_token('/plaid/link-token')->code, 200,
       'a location without the limit is not limited');
    is(post_token('/plaid/limited', user => unique_user('u'))->code, 200,
       '... nor one with only a per-user limit');
}

# --- the circuit breaker ---------------------------------------------------------------

{
    my $mark = log_mark();
    my @codes = map { post_token('/plaid/cb/fail')->code } 1 .. 3;
    is("@codes", '503 503 503', 'three failures (503 from Plaid)');
    my @log = log_since($mark);
    ok(grep({ /PL0134: circuit breaker opened for http:\/\/localhost:\d+ after 3 failures/ } @log),
       '... open the breaker, logged once (PL0134) with the host')
        or diag(@log);
    like((grep { /PL0134/ } @log)[0] // '', qr/plaid_http_status=503/,
         '... and the last failure');

    $mark = log_mark();
    my $res = post_token('/plaid/cb/ok');
    @log = log_since($mark);
    is($res->code, 503, 'then even a healthy location of that host: 503');
    ok($res->header('Retry-After'), '... with Retry-After');
    is(calls(@log), 0, '... and no call to Plaid');
    ok(grep({ /PL0133: .*circuit breaker .* is open/ } @log),
       '... logged (PL0133)');
    is(post_token('/plaid/link-token')->code, 200,
       'another Plaid host is not affected');

    sleep 2.2;
    $mark = log_mark();
    $res = post_token('/plaid/cb/ok');
    @log = log_since($mark);
    is($res->code, 200, 'after SECONDS, one call goes through and succeeds');
    ok(grep({ /PL0135: circuit breaker closed/ } @log),
       '... closing the breaker, logged once (PL0135)') or diag(@log);
    is(post_token('/plaid/cb/ok')->code, 200, '... and calls go on');
}
