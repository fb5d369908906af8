-- SPDX-License-Identifier: Apache-2.0
-- wrk script: what a signed-in browser sends to the link-token endpoint
-- (POST, JSON body). Prints one machine-readable RESULT line at the end.
-- BENCH_METHOD=GET for the static-file ceiling (httpd refuses POST to a
-- file).
wrk.method = os.getenv("BENCH_METHOD") or "POST"
if wrk.method == "POST" then
    wrk.body = "{}"
    wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d " ..
        "socket_errors=%d non2xx=%d\n",
        summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99),
        e.connect + e.read + e.write + e.timeout, e.status))
end
