#!/usr/bin/env bash
# bench/run.sh: mod_plaid_link against mod_proxy_http, side by side.
#
# Starts a TLS upstream on loopback (nginx answering /link/token/create with
# the spec's example), one httpd (event MPM) with two locations calling it,
# /plaid/link-token (this module) and /proxy/link/token/create
# (mod_proxy_http, kept-alive TLS connections), and a static file of the
# answer's size as the ceiling. wrk drives them at each concurrency,
# alternating module, proxy, module, proxy, then a soak of the module.
# Prints a Markdown report (the shape of bench/RESULTS.md) and keeps the
# logs in the work directory it names. Installs what a fresh Debian 12
# lacks (as root). Stops everything it started, also on Ctrl-C.
#
# `bench/run.sh serve` only starts the servers, for profiling by hand.
#
# Knobs (environment): BENCH_DURATION seconds per run (10),
# BENCH_CONCURRENCY ("1 16 64"), BENCH_ROUNDS (2), BENCH_SOAK requests (200000,
# 0 skips), BENCH_PORT (19180), BENCH_UPSTREAM_PORT (19143),
# BENCH_UPSTREAM_KEEPALIVE_REQUESTS (10000: nginx closes a connection after
# that many requests, as a load balancer would), BENCH_DIR, BENCH_RESULTS
# (also write the report to this file).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dur=${BENCH_DURATION:-10}
concurrencies=${BENCH_CONCURRENCY:-"1 16 64"}
rounds=${BENCH_ROUNDS:-2}
soak=${BENCH_SOAK:-200000}
port=${BENCH_PORT:-19180}
up_port=${BENCH_UPSTREAM_PORT:-19143}
up_keepalive=${BENCH_UPSTREAM_KEEPALIVE_REQUESTS:-10000}
servers=2
threads_per_child=64
httpd=/usr/sbin/apache2
mods=/usr/lib/apache2/modules
answer='{"link_token":"link-sandbox-af1a0311-da53-4636-b754-dd15cc058176","expiration":"2020-03-27T12:56:34Z","request_id":"XQVgFigpGHXkb0b"}'

# ---------------------------------------------------------------- set-up

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
    echo "bench: installing ${need[*]}" >&2
    apt-get update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${need[@]}" >/dev/null
fi
"$top/scripts/deps.sh" >&2
make -C "$top" -s all >/dev/null

work=${BENCH_DIR:-$(mktemp -d /tmp/plaid-bench.XXXXXX)}
mkdir -p "$work/htdocs/static" "$work/nginx-tmp"
chmod 755 "$work"
cd "$work"
: > runs.tsv

stop_all() {
    if [ -f httpd.pid ]; then
        "$httpd" -f "$work/httpd.conf" -k stop 2>/dev/null || true
        for _ in $(seq 50); do [ -f httpd.pid ] || break; sleep 0.1; done
    fi
    if [ -f nginx.pid ]; then
        kill "$(cat nginx.pid)" 2>/dev/null || true
        for _ in $(seq 50); do [ -f nginx.pid ] || break; sleep 0.1; done
    fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# A private CA and a certificate for localhost, as Plaid's would be.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" \
    -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days 2 -extfile san.ext -out server.crt 2>/dev/null
chmod 644 ca.crt server.crt
printf 'bench-sandbox-secret\n' > plaid.secret
chgrp www-data plaid.secret
chmod 640 plaid.secret
printf '%s' "$answer" > htdocs/static/token.json
chmod -R a+rX htdocs

# ------------------------------------------------------------ upstream

cat > nginx.conf <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx-tmp/body;
    proxy_temp_path $work/nginx-tmp/proxy;
    fastcgi_temp_path $work/nginx-tmp/fastcgi;
    uwsgi_temp_path $work/nginx-tmp/uwsgi;
    scgi_temp_path $work/nginx-tmp/scgi;
    # One line per request: which connection, its request number, whether
    # its TLS session was resumed (r) or fully negotiated (.).
    log_format conn '\$connection \$connection_requests \$ssl_session_reused '
                    '\$ssl_protocol \$request_length';
    server {
        listen 127.0.0.1:$up_port ssl;
        server_name localhost;
        ssl_certificate $work/server.crt;
        ssl_certificate_key $work/server.key;
        # nginx 1.22 offers TLS 1.2 at most unless told: earlier runs spoke
        # TLS 1.2 (a full handshake two round trips, not one).
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:bench:10m;
        ssl_session_timeout 1h;
        keepalive_timeout 300s;
        keepalive_requests $up_keepalive;
        access_log $work/upstream.log conn buffer=64k flush=1s;
        location = /link/token/create {
            default_type application/json;
            return 200 '$answer';
        }
    }
}
CONF

# ---------------------------------------------------------------- httpd

cat > httpd.conf <<CONF
ServerRoot "$work"
ServerName localhost
PidFile "$work/httpd.pid"
DefaultRuntimeDir "$work"
ErrorLog "$work/httpd-error.log"
LogLevel warn
User www-data
Group www-data
Listen 127.0.0.1:$port
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule headers_module $mods/mod_headers.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"

# A fixed set of children and threads: no process churn during a run.
StartServers $servers
ServerLimit $servers
ThreadsPerChild $threads_per_child
MaxRequestWorkers $((servers * threads_per_child))
MinSpareThreads 1
MaxSpareThreads $((servers * threads_per_child))
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
DocumentRoot "$work/htdocs"
# As Debian's apache2.conf: no .htaccess lookups.
<Directory />
    AllowOverride None
</Directory>

# This module. Its limit of calls in flight (default: half the threads,
# so 503s past 32 requests at once in a child) raised to the threads: the
# bench measures the calls, not the limit.
PlaidMaxInFlight $threads_per_child
<Location "/plaid/link-token">
    SetHandler plaid-link-token
    PlaidBaseURL       https://localhost:$up_port
    PlaidCACertificate "$work/ca.crt"
    PlaidClientId      0123456789abcdef01234567
    PlaidSecret        file:$work/plaid.secret
    PlaidClientName    "bench"
    PlaidLanguage      en
    PlaidCountryCodes  US
    PlaidProducts      auth
    PlaidUserId        "%{HTTP:X-User}"
</Location>

# The bar: mod_proxy_http with kept-alive, verified TLS connections,
# adding the credentials as the module does.
SSLProxyEngine on
SSLProxyVerify require
SSLProxyCheckPeerName on
SSLProxyCACertificateFile "$work/ca.crt"
<Location "/proxy/link/token/create">
    ProxyPass https://localhost:$up_port/link/token/create keepalive=On
    RequestHeader set PLAID-CLIENT-ID 0123456789abcdef01234567
    RequestHeader set PLAID-SECRET bench-sandbox-secret
</Location>

# The ceiling: the same answer as a file.
<Location "/static/">
    ForceType application/json
</Location>
CONF

nginx -e "$work/nginx-error.log" -c "$work/nginx.conf" -p "$work"
"$httpd" -f "$work/httpd.conf" -k start
for _ in $(seq 50); do
    [ -f httpd.pid ] && [ -f nginx.pid ] && break
    sleep 0.1
done
sleep 1

base="http://127.0.0.1:$port"
declare -A url=(
    [module]="$base/plaid/link-token"
    [proxy]="$base/proxy/link/token/create"
    [static]="$base/static/token.json"
)
for t in module proxy; do
    got=$(curl -s -H 'Content-Type: application/json' -H 'X-User: bench-user' \
        -d '{}' "${url[$t]}")
    case $got in
        *link_token*) ;;
        *) echo "bench: $t does not answer a link_token: $got" >&2
           tail -5 httpd-error.log >&2; exit 1 ;;
    esac
done

if [ "${1:-}" = serve ]; then
    # For profiling by hand: the servers stay up until this script is
    # stopped (Ctrl-C or kill), then stop with it.
    echo "bench: serving ${url[module]} ${url[proxy]} ${url[static]}; upstream https://localhost:$up_port, CA $work/ca.crt" >&2
    trap 'kill $! 2>/dev/null; exit 0' INT TERM
    while :; do sleep 3600 & wait $! || true; done
fi

# ---------------------------------------------------------- measuring

hz=$(getconf CLK_TCK)
httpd_pids() { echo "$(cat httpd.pid) $(pgrep -P "$(cat httpd.pid)" | tr '\n' ' ')"; }
child_pids() { pgrep -P "$(cat httpd.pid)" | sort -n | tr '\n' ' '; }
# utime + stime of every thread of the given processes, in clock ticks.
cpu_ticks() {
    local t=0 pid
    for pid in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$t"
}
rss_kb() {
    local pid out=
    for pid in $(child_pids); do
        out+="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")/"
    done
    echo "${out%/}"
}
log_lines() { sleep 1.5; wc -l < upstream.log 2>/dev/null || echo 0; }

# run TARGET CONCURRENCY [FILE]: one wrk run; one line in FILE (runs.tsv).
run() {
    local target=$1 c=$2 file=${3:-runs.tsv} t=2
    local pids before_cpu after_cpu l0 l1 rss0 rss1 out rest
    [ "$c" -lt 2 ] && t=1
    pids=$(httpd_pids)
    # shellcheck disable=SC2086
    l0=$(log_lines); rss0=$(rss_kb); before_cpu=$(cpu_ticks $pids)
    out=$(BENCH_METHOD=$([ "$target" = static ] && echo GET || echo POST) \
          wrk -t"$t" -c"$c" -d"${dur}s" -H "X-User: bench-user" \
              -s "$top/bench/post.lua" "${url[$target]}" \
          | sed -n 's/^RESULT //p')
    [ -n "$out" ] || { echo "bench: wrk failed" >&2; exit 1; }
    # shellcheck disable=SC2086
    after_cpu=$(cpu_ticks $pids); rss1=$(rss_kb); l1=$(log_lines)
    # New upstream connections in this run, and how many resumed TLS.
    rest=$(sed -n "$((l0 + 1)),${l1}p" upstream.log |
           awk '$2 == 1 { n++; if ($3 == "r") r++ } END { print n + 0, r + 0 }')
    echo "$target $c $out $((after_cpu - before_cpu)) $rest $rss0 $rss1" |
        awk -v hz="$hz" '{
            for (i = 3; i <= 8; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            rps = v["requests"] / (v["duration_us"] / 1e6)
            cpu = v["requests"] ? $9 * 1e6 / hz / v["requests"] : 0
            printf "%s\t%s\t%d\t%.0f\t%d\t%d\t%.1f\t%d\t%d\t%s\t%s\t%d\n",
                $1, $2, v["requests"], rps, v["p50_us"], v["p99_us"], cpu,
                $10, $11, $12, $13, v["socket_errors"] + v["non2xx"] }' |
        tee -a "$file" >&2
}

echo "bench: work directory $work; $dur s per run" >&2
echo "# target conc requests req/s p50_us p99_us cpu_us/req new_conns resumed rss_before rss_after errors" >&2
for c in $concurrencies; do
    for _ in $(seq "$rounds"); do
        run module "$c"
        run proxy "$c"
    done
    run static "$c"
done
# The soak: runs of the module at concurrency 16 until enough requests.
if [ "$soak" -gt 0 ]; then
    : > soak.tsv
    while [ "$(awk -F'\t' '{ s += $3 } END { print s + 0 }' soak.tsv)" -lt "$soak" ]; do
        run module 16 soak.tsv
    done
fi

# ---------------------------------------------------------- the report

report() {
    local curl_v openssl_v
    curl_v=$(dpkg-query -W -f='${Version}' libcurl4 2>/dev/null || echo '?')
    openssl_v=$(openssl version | awk '{print $2}')
    echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r)"
    echo "- httpd $("$httpd" -v | awk -F'[/ ]' '/version/ {print $4}') (event MPM, $servers children x $threads_per_child threads), nginx $(nginx -v 2>&1 | awk -F/ '{print $2}') (1 worker, keepalive_requests $up_keepalive), wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}'), libcurl $curl_v, OpenSSL $openssl_v"
    echo "- $dur s per run, $rounds rounds alternating module and proxy; wrk POSTs \`{}\` as JSON with \`X-User: bench-user\` (GET for the static file), 1 thread at concurrency 1, else 2"
    echo
    echo "| conc | target | req/s | p50 µs | p99 µs | vs proxy | httpd CPU µs/req | new upstream conns | of them TLS-resumed | RSS/child kB before → after | errors |"
    echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |"
    awk -F'\t' '
        { k = $2 SUBSEP $1
          if (!(k in n)) { order[++m] = k; first_rss[k] = $10 }
          n[k]++; req[k] += $3; rps[k] += $4; p50[k] += $5; p99[k] += $6
          cpu[k] += $7 * $3; conns[k] += $8; res[k] += $9; last_rss[k] = $11
          err[k] += $12 }
        END {
          for (i = 1; i <= m; i++) {
            k = order[i]; split(k, ct, SUBSEP)
            pk = ct[1] SUBSEP "proxy"
            ratio = (pk in n) ? sprintf("%.2fx", (rps[k] / n[k]) / (rps[pk] / n[pk])) : "-"
            resumed = conns[k] ? sprintf("%d (%.0f%%)", res[k], 100 * res[k] / conns[k]) : "-"
            printf "| %s | %s | %.0f | %.0f | %.0f | %s | %.1f | %d | %s | %s → %s | %d |\n",
              ct[1], ct[2], rps[k] / n[k], p50[k] / n[k], p99[k] / n[k], ratio,
              cpu[k] / req[k], conns[k], resumed, first_rss[k], last_rss[k], err[k]
          }
        }' runs.tsv
    echo
    echo "Each row averages its runs (req/s, p50, p99); CPU is user+system time"
    echo "of every httpd process over the requests served; connections are counted"
    echo "by nginx (\`\$connection_requests\` = 1), resumption by \`\$ssl_session_reused\`."
    echo "static runs once per concurrency, as the ceiling."
    awk -F'\t' '$1 == "module" { r += $3; c += $8 } $1 == "proxy" { pr += $3; pc += $8 }
        END { printf "\nUpstream connections opened per 100k requests: module %.1f, proxy %.1f (httpd has %d worker threads).\n",
              r ? c * 1e5 / r : 0, pr ? pc * 1e5 / pr : 0, '"$((servers * threads_per_child))"' }' runs.tsv
    if [ -s soak.tsv ]; then
        awk -F'\t' '
            NR == 1 { rss0 = $10 }
            { req += $3; dur += $3 / $4; if ($6 > p99) p99 = $6; err += $12
              cpu += $7 * $3; conns += $8; res += $9; rss1 = $11 }
            END {
              n = split(rss0, a, "/"); split(rss1, b, "/"); g = ""; worst = 0
              for (i = 1; i <= n; i++) {
                  d = b[i] - a[i]; if (d > worst) worst = d
                  g = g sprintf("%s%+d kB", i > 1 ? ", " : "", d) }
              printf "\nSoak: %d requests to the module at concurrency 16 in %d runs (%.0f req/s, worst p99 %d µs, %d errors, %.1f µs httpd CPU/req); RSS per child %s kB → %s kB: growth %s (largest %d kB); %d new upstream connections, %d TLS-resumed.\n",
                req, NR, req / dur, p99, err, cpu / req, rss0, rss1, g, worst, conns, res }' soak.tsv
    fi
}
report | tee report.md
[ -n "${BENCH_RESULTS:-}" ] && cp report.md "$BENCH_RESULTS"
echo >&2
echo "bench: logs and report in $work" >&2
