# SPDX-License-Identifier: Apache-2.0
# Every way the call to Plaid can fail, one location each (see
# t/conf/extra.conf.in). The browser gets only
# {"error":"Unable to fetch link_token","request_id":ID} with the mapped
# status; the admin gets one PL0100 line with the same id and what Plaid or
# the transport said, plus a hint. Only what is safe to retry (no
# connection, 5xx, 429) is retried, PlaidRetries (default 2) times.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use PlaidTest;

my @faults = (
    # location, browser status, patterns the PL0100 line must match
    ['invalid-api-keys', 502, [qr/\bplaid_http_status=400\b/, qr/\battempts=1\b/,
                               qr/\benv=sandbox\b/,
                               qr{\burl="https://localhost:\d+/sandbox/status=400/error_type=INVALID_INPUT/error_code=INVALID_API_KEYS/link/token/create"},
                               qr/\bclient_id=\.\.\.0001\b/,
                               qr/\berror_type="?INVALID_INPUT\b/,
                               qr/\berror_code="?INVALID_API_KEYS\b/,
                               qr/\bhint="[^"]*(?:secret|client|key)/i]],
    ['wrong-secret',     502, [qr/\bplaid_http_status=400\b/,
                               qr/\berror_code="?INVALID_API_KEYS\b/,
                               qr/\brequest_id=\S+/,
                               qr/\bhint="[^"]*(?:secret|client|key)/i]],
    ['status-429',       503, [qr/\bplaid_http_status=429\b/, qr/\battempts=3\b/]],
    ['status-500',       502, [qr/\bplaid_http_status=500\b/, qr/\battempts=3\b/]],
    ['status-503',       503, [qr/\bplaid_http_status=503\b/, qr/\battempts=3\b/]],
    ['timeout',          504, [qr/\bcurl_error="[^"]+"/,
                               qr/\belapsed_ms=\d+\b/]],
    ['nonjson',          502, [qr/\bplaid_http_status=200\b/, qr/\battempts=1\b/]],
    ['nolinktoken',      502, [qr/\bplaid_http_status=200\b/]],
    ['truncated',        502, [qr/\bcurl_error="[^"]+"|\bplaid_http_status=200\b/]],
    ['close',            502, [qr/\bcurl_error="[^"]+"/]],
    ['unreachable',      503, [qr/\bcurl_error="[^"]+"/, qr/\battempts=3\b/]],
    ['retry-after',      503, [qr/\bplaid_http_status=429\b/,
                               qr/\bretry_after="?7\b/]],
    ['retry-after-huge', 503, [qr/\bplaid_http_status=503\b/, qr/\battempts=1\b/]],
    ['plain-400',        502, [qr/\bplaid_http_status=400\b/]],
    # Refused on its Content-Length, and (chunked) once 64 KiB are in.
    ['huge',             502, [qr/\bplaid_http_status=200\b/,
                               qr/\bproblem="the answer is larger than 64 KiB"/]],
    ['hugechunked',      502, [qr/\bplaid_http_status=200\b/,
                               qr/\bproblem="the answer is larger than 64 KiB"/]],
    ['untrusted',        502, [qr/\bcurl_error="[^"]+"/,
                               qr/\bplaid_http_status=0\b/]],
    ['untrusted-system', 502, [qr/\bcurl_error="[^"]*certificate/i,
                               qr/\bplaid_http_status=0\b/,
                               qr/\bhint="[^"]*PlaidCACertificate/]],
    ['no-such-host',     503, [qr/\bcurl_error="[^"]*resolve/i,
                               qr/\bplaid_http_status=0\b/, qr/\battempts=3\b/,
                               qr/\bhint="[^"]*DNS/]],
    ['wrong-host',       502, [qr/\bcurl_error="[^"]*(?:certificate|127\.0\.0\.1|match)/i,
                               qr/\bplaid_http_status=0\b/,
                               qr/\bhint="[^"]*PlaidCACertificate/]],
    ['stall',            504, [qr/\bcurl_error="[^"]+"/, qr/\battempts=1\b/,
                               qr/\bhint="[^"]*PlaidTimeout/]],
    ['status-500-plain', 502, [qr/\bplaid_http_status=500\b/, qr/\battempts=3\b/,
                               qr/\bproblem="[^"]*not JSON/]],
    ['status-502',       503, [qr/\bplaid_http_status=502\b/,
                               qr/\berror_code="INTERNAL_SERVER_ERROR"/]],
    ['status-502-plain', 503, [qr/\bplaid_http_status=502\b/,
                               qr/\berror_code=null\b/]],
    ['status-503-plain', 503, [qr/\bplaid_http_status=503\b/, qr/\battempts=3\b/]],
    ['no-retries',       503, [qr/\bplaid_http_status=503\b/, qr/\battempts=1\b/]],
    ['connect-timeout',  504, [qr/\bcurl_error="[^"]*(?:timed out|Timeout)/i,
                               qr/\bplaid_http_status=0\b/]],
    ['redirect-uri',     502, [qr/\bplaid_http_status=400\b/,
                               qr/\berror_code="?INVALID_FIELD\b/,
                               qr/\bhint="[^"]*redirect/i]],
);

plan tests => 12 * @faults;

for my $fault (@faults) {
    my ($name, $status, $patterns) = @$fault;
    my $loc  = "/plaid/fault/$name";
    my $mark = log_mark();
    my $res  = post_token($loc);
    my @log  = log_since($mark);
    my $json = error_answer_ok($res, $name, $status,
                               'Unable to fetch link_token', @log);
    my $id   = ($json && $json->{request_id}) || 'none';

    unlike($res->content, qr/error_message|error_code|display_message|link-/,
           "$name: nothing of Plaid's answer reaches the browser");

    my @lines = grep { /PL0100/ } @log;
    is(scalar @lines, 1, "$name: one PL0100 line") or diag(@log);
    my $line = $lines[0] || '';
    like($line, qr/\[plaid_link:error\]/, "$name: at error level");
    like($line, qr/\bid=\Q$id\E(?:\s|$)/, "$name: with the browser's request_id")
        or diag($line);
    like($line, qr{\blocation=\Q$loc\E(?:\s|$)}, "$name: and the location")
        or diag($line);
    my @miss = grep { $line !~ $_ } qr/\bstatus=$status\b/, @$patterns;
    ok(!@miss, "$name: line has status=$status and @$patterns")
        or diag("missing @miss in: $line");
}
