#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh: mod_plaid_link against mod_proxy_http and against the peers
# a site would otherwise use: Plaid's Node quickstart and a PHP page.
#
# Starts on 127.0.0.1 a TLS upstream (nginx answering /link/token/create
# with the spec's example) and, all calling it over TLS verified with the
# bench's CA:
#   - one httpd (event MPM, 2 x 64 threads) with /plaid/link-token (this
#     module), /proxy/link/token/create (mod_proxy_http, kept-alive TLS
#     connections, the credentials added as headers) and a static file of
#     the answer's size (the ceiling);
#   - node: bench/node/server.js, the link-token route of Plaid's quickstart
#     (express, the official plaid client, credentials in baseOptions'
#     headers), in one process as the quickstart runs (one core by design);
#     node2: the same in BENCH_NODE_WORKERS cluster workers (2; 0 skips);
#   - php: bench/php/link_token.php under mod_php in an httpd of its own
#     (prefork, a child per connection wrk keeps), a new curl handle per
#     request as PHP pages make them (a TCP connection and TLS handshake
#     per call).
# wrk drives each at every concurrency, the targets interleaved in each
# round (module, proxy, node, node2, php), the static file once per
# concurrency. Then the relay pass: bench/relay.c between a second
# location (or Node process) of each target and nginx, delaying each
# direction BENCH_RELAY_DELAY_MS (10: a 20 ms RTT), at concurrency 1, to
# give each link token's latency in round trips. Then a soak of the module.
# Per run: req/s, p50/p99, CPU per request of the target's own processes
# (every httpd process, or Node's) and of nginx, new upstream connections
# and TLS resumptions (nginx's log), RSS per child, how busy the machine
# was. Prints a Markdown report (the shape of bench/RESULTS.md) with the
# module's ratios to each peer, and keeps the logs in the work directory
# it names. Installs what a fresh Debian 12 lacks (as root; `npm ci` in
# bench/node). Stops everything it started, also on Ctrl-C, and a
# watchdog stops it all if this script is killed.
#
# `bench/run.sh serve` only starts the servers, for profiling by hand.
#
# Knobs (environment): BENCH_DURATION seconds per run (10),
# BENCH_CONCURRENCY ("1 16 64"), BENCH_ROUNDS (2), BENCH_TARGETS ("module
# proxy node node2 php"), BENCH_SOAK requests (200000, 0 skips),
# BENCH_RELAY_DURATION seconds per relay run (BENCH_DURATION, 0 skips the
# relay pass), BENCH_RELAY_DELAY_MS (10), BENCH_NODE_WORKERS (2),
# BENCH_PHP_CHILDREN (the largest concurrency + 8), BENCH_PORT (19180;
# uses BENCH_PORT..BENCH_PORT+6), BENCH_UPSTREAM_PORT (BENCH_PORT+1),
# BENCH_UPSTREAM_KEEPALIVE_REQUESTS (10000: nginx closes a connection after
# that many requests, as a load balancer would), BENCH_TLS_PROTOCOLS
# (nginx's ssl_protocols, "TLSv1.2 TLSv1.3"), BENCH_MAX_SECONDS (3600:
# the watchdog's limit), BENCH_DIR, BENCH_RESULTS (also write the report to
# this file).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
dur=${BENCH_DURATION:-10}
concurrencies=${BENCH_CONCURRENCY:-"1 16 64"}
rounds=${BENCH_ROUNDS:-2}
soak=${BENCH_SOAK:-200000}
relay_dur=${BENCH_RELAY_DURATION:-$dur}
relay_delay=${BENCH_RELAY_DELAY_MS:-10}
node_workers=${BENCH_NODE_WORKERS:-2}
targets=${BENCH_TARGETS:-"module proxy node node2 php"}
[ "$node_workers" -gt 0 ] || targets=${targets//node2/}
# shellcheck disable=SC2086 # a list of words
max_c=$(echo $concurrencies | tr " " "\n" | sort -n | tail -1)
php_children=${BENCH_PHP_CHILDREN:-$((max_c + 8))}
port=${BENCH_PORT:-19180}
up_port=${BENCH_UPSTREAM_PORT:-$((port + 1))}
node_port=$((port + 2))
node2_port=$((port + 3))
php_port=$((port + 4))
relay_port=$((port + 5))
node_relay_port=$((port + 6))
up_keepalive=${BENCH_UPSTREAM_KEEPALIVE_REQUESTS:-10000}
tls_protocols=${BENCH_TLS_PROTOCOLS:-"TLSv1.2 TLSv1.3"}
max_seconds=${BENCH_MAX_SECONDS:-3600}
servers=2
threads_per_child=64
httpd=/usr/sbin/apache2
mods=/usr/lib/apache2/modules
client_id=0123456789abcdef01234567
secret=bench-sandbox-secret
answer='{"link_token":"link-sandbox-af1a0311-da53-4636-b754-dd15cc058176","expiration":"2020-03-27T12:56:34Z","request_id":"XQVgFigpGHXkb0b"}'
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- set-up

need=(libapache2-mod-php8.2 php8.2-curl)
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
bench_install "${need[@]}"
"$top/scripts/deps.sh" >&2
make -C "$top" -s all >/dev/null
(cd "$top/bench/node" && npm ci --no-audit --no-fund --loglevel=error >&2)

work=${BENCH_DIR:-$(mktemp -d /tmp/plaid-bench.XXXXXX)}
mkdir -p "$work/htdocs/static" "$work/nginx-tmp" "$work/php"
chmod 755 "$work"
cd "$work"
: > runs.tsv
: > relay.tsv
: > relay.log
# The relay: C, so that the instrument adds microseconds, not the
# millisecond per round trip its Python version did.
cc -O2 -Wall -Wextra -Werror -pthread -o "$work/relay" "$top/bench/relay.c"

stop_all() {
    local f p
    bench_stop_httpd "$work/httpd.conf" "$work/httpd.pid"
    bench_stop_httpd "$work/php/httpd.conf" "$work/php/httpd.pid"
    # Node: a cluster's workers, then each process this script started.
    for f in "$work"/node*.pid "$work/relay.pid"; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        pkill -P "$p" 2>/dev/null || true
        kill "$p" 2>/dev/null || true
        rm -f "$f"
    done
    if [ -f "$work/nginx.pid" ]; then
        kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
        for _ in $(seq 50); do [ -f "$work/nginx.pid" ] || break; sleep 0.1; done
    fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM
# The watchdog: stops it all once this script is gone (even by SIGKILL) or
# BENCH_MAX_SECONDS have passed, whichever comes first.
(
    end=$((SECONDS + max_seconds))
    while [ $SECONDS -lt $end ] && kill -0 $$ 2>/dev/null; do sleep 1; done
    stop_all
) >/dev/null 2>&1 &

# A private CA and a certificate for localhost, as Plaid's would be.
bench_certs "$work" "$work" "bench CA"
printf '%s\n' "$secret" > plaid.secret
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
        ssl_protocols $tls_protocols;
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

# This module, straight to nginx and (relay pass) through the relay. Its
# limit of calls in flight in the server (default: a quarter of
# MaxRequestWorkers, so 503s past that many requests at once) raised to
# all the workers: the bench measures the calls, not the limit.
# Both locations inherit the server's Plaid directives and differ in
# their Plaid host only.
PlaidMaxInFlight $((servers * threads_per_child))
PlaidCACertificate "$work/ca.crt"
PlaidClientId      $client_id
PlaidSecret        file:$work/plaid.secret
PlaidClientName    "bench"
PlaidLanguage      en
PlaidCountryCodes  US
PlaidProducts      auth
PlaidUserId        "%{HTTP:X-User}"
<Location "/plaid/link-token">
    SetHandler plaid-link-token
    PlaidBaseURL       https://localhost:$up_port
</Location>
<Location "/relay/plaid/link-token">
    SetHandler plaid-link-token
    PlaidBaseURL       https://localhost:$relay_port
</Location>

# The bar: mod_proxy_http with kept-alive, verified TLS connections,
# adding the credentials as the module does.
SSLProxyEngine on
SSLProxyVerify require
SSLProxyCheckPeerName on
SSLProxyCACertificateFile "$work/ca.crt"
<Location "/proxy/link/token/create">
    ProxyPass https://localhost:$up_port/link/token/create keepalive=On
    RequestHeader set PLAID-CLIENT-ID $client_id
    RequestHeader set PLAID-SECRET $secret
</Location>
<Location "/relay/proxy/link/token/create">
    ProxyPass https://localhost:$relay_port/link/token/create keepalive=On
    RequestHeader set PLAID-CLIENT-ID $client_id
    RequestHeader set PLAID-SECRET $secret
</Location>

# The ceiling: the same answer as a file.
<Location "/static/">
    ForceType application/json
</Location>
CONF

# The PHP peer: prefork with mod_php, as Debian's LAMP has it, a child for
# every connection wrk keeps (a prefork child serves one kept-alive
# connection at a time), every child there from the start, none retired.
cat > php/httpd.conf <<CONF
ServerRoot "$work/php"
ServerName localhost
PidFile "$work/php/httpd.pid"
DefaultRuntimeDir "$work/php"
ErrorLog "$work/php/error_log"
LogLevel warn
User www-data
Group www-data
Listen 127.0.0.1:$php_port
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule env_module $mods/mod_env.so
LoadModule alias_module $mods/mod_alias.so
LoadModule php_module $mods/libphp8.2.so
StartServers $php_children
ServerLimit $php_children
MaxRequestWorkers $php_children
MinSpareServers 1
MaxSpareServers $php_children
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 5
DocumentRoot "$top/bench/php"
<Directory "$top/bench/php">
    AllowOverride None
    Require all granted
</Directory>
<FilesMatch "\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
SetEnv BENCH_PLAID_URL https://localhost:$up_port
SetEnv BENCH_PLAID_CLIENT_ID $client_id
SetEnv BENCH_PLAID_SECRET $secret
SetEnv BENCH_CA_BUNDLE $work/ca.crt
# The relay pass: the same page, Plaid through the relay.
Alias "/relay/" "$top/bench/php/"
<Location "/relay/">
    SetEnv BENCH_PLAID_URL https://localhost:$relay_port
</Location>
CONF

# start_node NAME PORT BASE_PATH SCRIPT: a Node peer as www-data, its pid
# in NAME.pid. The environment is the quickstart's (.env there).
start_node() {
    env -i PATH=/usr/bin:/bin HOME=/nonexistent NODE_ENV=production \
        NODE_EXTRA_CA_CERTS="$work/ca.crt" APP_PORT="$2" PLAID_BASE_PATH="$3" \
        PLAID_CLIENT_ID=$client_id PLAID_SECRET=$secret \
        PLAID_PRODUCTS=auth PLAID_COUNTRY_CODES=US PLAID_CLIENT_NAME=bench \
        PLAID_USER_ID=bench-user NODE_WORKERS="$node_workers" \
        setpriv --reuid=www-data --regid=www-data --init-groups \
        node "$top/bench/node/$4" > "$work/$1.log" 2>&1 &
    echo $! > "$work/$1.pid"
}

nginx -e "$work/nginx-error.log" -c "$work/nginx.conf" -p "$work"
"$work/relay" "$relay_port" "$up_port" "$relay_delay" \
    "$work/relay.log" "$max_seconds" 2>"$work/relay.err" &
echo $! > relay.pid
"$httpd" -f "$work/httpd.conf" -k start
"$httpd" -f "$work/php/httpd.conf" -k start
start_node node "$node_port" "https://localhost:$up_port" server.js
if [ "$node_workers" -gt 0 ]; then
    start_node node2 "$node2_port" "https://localhost:$up_port" cluster.js
fi
start_node node-relay "$node_relay_port" "https://localhost:$relay_port" server.js
for _ in $(seq 50); do
    [ -f httpd.pid ] && [ -f nginx.pid ] && [ -f php/httpd.pid ] && break
    sleep 0.1
done
sleep 1

base="http://127.0.0.1:$port"
declare -A url=(
    [module]="$base/plaid/link-token"
    [proxy]="$base/proxy/link/token/create"
    [static]="$base/static/token.json"
    [node]="http://127.0.0.1:$node_port/api/create_link_token"
    [node2]="http://127.0.0.1:$node2_port/api/create_link_token"
    [php]="http://127.0.0.1:$php_port/link_token.php"
)
declare -A relay_url=(
    [module]="$base/relay/plaid/link-token"
    [proxy]="$base/relay/proxy/link/token/create"
    [node]="http://127.0.0.1:$node_relay_port/api/create_link_token"
    [php]="http://127.0.0.1:$php_port/relay/link_token.php"
)
for t in $targets; do
    bench_wait_answer "${url[$t]}" || {
        tail -5 httpd-error.log php/error_log node*.log >&2; exit 1; }
done
if [ "$relay_dur" -gt 0 ]; then
    for t in "${!relay_url[@]}"; do
        bench_wait_answer "${relay_url[$t]}" || {
            tail -5 httpd-error.log php/error_log node*.log relay.err >&2; exit 1; }
    done
fi

if [ "${1:-}" = serve ]; then
    # For profiling by hand: the servers stay up until this script is
    # stopped (Ctrl-C or kill) or BENCH_MAX_SECONDS have passed.
    echo "bench: serving" "${url[@]}" "${relay_url[@]}" >&2
    echo "bench: upstream https://localhost:$up_port, relay :$relay_port, CA $work/ca.crt" >&2
    trap 'kill $! 2>/dev/null; exit 0' INT TERM
    while :; do sleep 3600 & wait $! || true; done
fi

# ---------------------------------------------------------- measuring

hz=$(getconf CLK_TCK)
ncpu=$(nproc)
# family PIDFILE: a process and its children.
family() {
    local p
    p=$(cat "$1")
    echo "$p $(pgrep -P "$p" | sort -n | tr '\n' ' ')"
}
# The processes whose CPU a target costs, and those whose RSS is shown.
target_pids() {
    case $1 in
        module|proxy|static) family "$work/httpd.pid" ;;
        php) family "$work/php/httpd.pid" ;;
        node|node2) family "$work/$1.pid" ;;
        relay-node) family "$work/node-relay.pid" ;;
        relay-*) target_pids "${1#relay-}" ;;
    esac
}
rss_pids() {
    case $1 in
        module|proxy|static|relay-module|relay-proxy)
            pgrep -P "$(cat "$work/httpd.pid")" | sort -n ;;
        php|relay-php) pgrep -P "$(cat "$work/php/httpd.pid")" | sort -n ;;
        node2) pgrep -P "$(cat "$work/node2.pid")" | sort -n ;;
        node) cat "$work/node.pid" ;;
        relay-node) cat "$work/node-relay.pid" ;;
    esac
}
# RSS in kB of each of the target's processes, as a/b/...; for PHP's
# many children their mean, as ~MEANxCOUNT.
rss_of() {
    local pid
    for pid in $(rss_pids "$1"); do
        awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true
    done | case $1 in
        *php) awk '{ s += $1; n++ } END { printf "~%.0fx%d\n", n ? s / n : 0, n }' ;;
        *) paste -sd/ ;;
    esac
}
log_lines() { sleep 1.5; wc -l < upstream.log 2>/dev/null || echo 0; }

# run TARGET CONCURRENCY FILE URL SECONDS: one wrk run; one line in FILE.
run() {
    local target=$1 c=$2 file=$3 u=$4 d=$5 t=2
    local pids up l0 l1 r0 r1 rss0 rss1 c0 c1 u0 u1 b0 b1 out rest
    [ "$c" -lt 2 ] && t=1
    read -ra pids <<< "$(target_pids "$target")"
    read -ra up <<< "$(family nginx.pid)"
    l0=$(log_lines); r0=$(wc -l < relay.log); rss0=$(rss_of "$target")
    c0=$(bench_cpu_ticks "${pids[@]}"); u0=$(bench_cpu_ticks "${up[@]}")
    b0=$(bench_busy_ticks)
    out=$(BENCH_METHOD=$([ "$target" = static ] && echo GET || echo POST) \
          wrk -t"$t" -c"$c" -d"${d}s" -H "X-User: bench-user" \
              -s "$top/bench/post.lua" "$u" \
          | sed -n 's/^RESULT //p')
    [ -n "$out" ] || { echo "bench: wrk failed" >&2; exit 1; }
    c1=$(bench_cpu_ticks "${pids[@]}"); u1=$(bench_cpu_ticks "${up[@]}")
    b1=$(bench_busy_ticks)
    rss1=$(rss_of "$target"); r1=$(wc -l < relay.log); l1=$(log_lines)
    # New upstream connections in this run, and how many resumed TLS.
    rest=$(sed -n "$((l0 + 1)),${l1}p" upstream.log |
           awk '$2 == 1 { n++; if ($3 == "r") r++ } END { print n + 0, r + 0 }')
    echo "$target $c $out $((c1 - c0)) $((u1 - u0)) $rest ${rss0:--} ${rss1:--} $((b1 - b0)) $((r1 - r0))" |
        awk -v hz="$hz" -v ncpu="$ncpu" '{
            for (i = 3; i <= 8; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            secs = v["duration_us"] / 1e6
            rps = v["requests"] / secs
            cpu = v["requests"] ? $9 * 1e6 / hz / v["requests"] : 0
            upc = v["requests"] ? $10 * 1e6 / hz / v["requests"] : 0
            busy = 100 * $15 / hz / (secs * ncpu)
            printf "%s\t%s\t%d\t%.0f\t%d\t%d\t%.1f\t%.1f\t%d\t%d\t%s\t%s\t%d\t%.0f\t%d\n",
                $1, $2, v["requests"], rps, v["p50_us"], v["p99_us"], cpu, upc,
                $11, $12, $13, $14, v["socket_errors"] + v["non2xx"], busy, $16 }' |
        tee -a "$file" >&2
}

echo "bench: work directory $work; $dur s per run; targets $targets" >&2
echo "# target conc requests req/s p50_us p99_us cpu_us/req nginx_cpu_us/req new_conns resumed rss_before rss_after errors busy% relay_conns" >&2
for c in $concurrencies; do
    for _ in $(seq "$rounds"); do
        for t in $targets; do
            run "$t" "$c" runs.tsv "${url[$t]}" "$dur"
        done
    done
    run static "$c" runs.tsv "${url[static]}" "$dur"
done

# The relay pass: each target with Plaid RTT ms away, at concurrency 1.
# Right before each run a warm-up (8 connections, 2 s), so every child
# that may serve the measured connection has its own upstream connection
# (Node's agent closes one idle for 5 s).
relay_lateness=
if [ "$relay_dur" -gt 0 ]; then
    echo "bench: relay pass, RTT $((2 * relay_delay)) ms" >&2
    for _ in $(seq "$rounds"); do
        for t in module proxy node php; do
            wrk -t1 -c8 -d2s -H "X-User: bench-user" -s "$top/bench/post.lua" \
                "${relay_url[$t]}" >/dev/null
            run "relay-$t" 1 relay.tsv "${relay_url[$t]}" "$relay_dur"
        done
    done
    kill "$(cat relay.pid)" 2>/dev/null || true
    wait "$(cat relay.pid)" 2>/dev/null || true
    rm -f relay.pid
    relay_lateness=$(sed -n 's/^relay: //p' relay.err)
fi

# The soak: runs of the module at concurrency 16 until enough requests.
if [ "$soak" -gt 0 ]; then
    : > soak.tsv
    while [ "$(awk -F'\t' '{ s += $3 } END { print s + 0 }' soak.tsv)" -lt "$soak" ]; do
        run module 16 soak.tsv "${url[module]}" "$dur"
    done
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------- the report

version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }
npm_version() {
    node -p "require('$top/bench/node/node_modules/$1/package.json').version"
}

report() {
    local rtt=$((2 * relay_delay))
    echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $ncpu CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) of memory, kernel $(uname -r); load average $load_start at the start, $load_end at the end"
    echo "- httpd $("$httpd" -v | awk -F'[/ ]' '/version/ {print $4}') (module, proxy, static: event MPM, $servers children x $threads_per_child threads; php: prefork, $php_children children), nginx $(nginx -v 2>&1 | awk -F/ '{print $2}') (1 worker, keepalive_requests $up_keepalive), wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}')"
    echo "- Node $(node -v) (package $(version nodejs), its OpenSSL $(node -p process.versions.openssl)), plaid $(npm_version plaid) (axios $(npm_version axios)), express $(npm_version express); PHP $(php -r 'echo PHP_VERSION;') (libapache2-mod-php8.2 $(version libapache2-mod-php8.2), opcache as Debian ships it); libcurl $(version libcurl4), OpenSSL $(openssl version | awk '{print $2}')"
    echo "- $dur s per run, $rounds round(s), targets interleaved in each ($targets), static once per concurrency; wrk POSTs \`{}\` as JSON with \`X-User: bench-user\` (the module's PlaidUserId; the peers use the same fixed id), GET for the static file, 1 thread at concurrency 1, else 2"
    echo "- node is Plaid's quickstart as its users run it: one process, so one core by design; node2 is the same server in $node_workers cluster workers. php opens a TCP connection and negotiates TLS for every request (a new curl handle per request, as PHP pages do). All verify nginx's certificate with the bench's CA alone."
    echo
    echo "| conc | target | req/s | p50 µs | p99 µs | vs proxy | server CPU µs/req | nginx CPU µs/req | new upstream conns | of them TLS-resumed | RSS/child kB before → after | errors | machine busy |"
    echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
    awk -F'\t' '
        { k = $2 SUBSEP $1
          if (!(k in n)) { order[++m] = k; first_rss[k] = $11 }
          n[k]++; req[k] += $3; rps[k] += $4; p50[k] += $5; p99[k] += $6
          cpu[k] += $7 * $3; up[k] += $8 * $3; conns[k] += $9; res[k] += $10
          last_rss[k] = $12; err[k] += $13; busy[k] += $14 }
        END {
          for (i = 1; i <= m; i++) {
            k = order[i]; split(k, ct, SUBSEP)
            pk = ct[1] SUBSEP "proxy"
            ratio = (pk in n) ? sprintf("%.2fx", (rps[k] / n[k]) / (rps[pk] / n[pk])) : "-"
            resumed = conns[k] ? sprintf("%d (%.0f%%)", res[k], 100 * res[k] / conns[k]) : "-"
            printf "| %s | %s | %.0f | %.0f | %.0f | %s | %.1f | %.1f | %d | %s | %s → %s | %d | %.0f%% |\n",
              ct[1], ct[2], rps[k] / n[k], p50[k] / n[k], p99[k] / n[k], ratio,
              cpu[k] / req[k], up[k] / req[k], conns[k], resumed,
              first_rss[k], last_rss[k], err[k], busy[k] / n[k]
          }
        }' runs.tsv
    echo
    echo "Each row averages its runs (req/s, p50, p99). Server CPU is user+system"
    echo "time over the requests served of every process of the target's server:"
    echo "all of the event httpd's (module, proxy, static), all of PHP's prefork"
    echo "httpd's, Node's process (node2: the cluster's primary and workers); nginx"
    echo "CPU is the upstream's. Connections are counted by nginx"
    echo "(\`\$connection_requests\` = 1), resumption by \`\$ssl_session_reused\`."
    echo "RSS is per httpd child (php: the mean of its children x their number),"
    echo "Node's per process. Machine busy: all CPUs over the run, from /proc/stat"
    echo "(wrk, nginx and anything else running included)."
    echo
    echo "The module's ratios to each peer (req/s: above 1 the module serves more;"
    echo "CPU per request: below 1 it costs less):"
    echo
    awk -F'\t' -v targets="$targets" '
        { k = $2 SUBSEP $1; if (!($2 in seen)) { seen[$2]; cs[++nc] = $2 }
          n[k]++; rps[k] += $4; req[k] += $3; cpu[k] += $7 * $3 }
        END {
          np = split(targets, t, " "); h1 = "| conc | module req/s | module CPU µs/req"; h2 = "| ---: | ---: | ---:"
          for (j = 1; j <= np; j++) if (t[j] != "module") {
              h1 = h1 " | req/s ÷ " t[j] " | CPU ÷ " t[j]; h2 = h2 " | ---: | ---:" }
          print h1 " |"; print h2 " |"
          for (i = 1; i <= nc; i++) {
            mk = cs[i] SUBSEP "module"; if (!(mk in n)) continue
            line = sprintf("| %s | %.0f | %.1f", cs[i], rps[mk] / n[mk], cpu[mk] / req[mk])
            for (j = 1; j <= np; j++) if (t[j] != "module") {
                pk = cs[i] SUBSEP t[j]
                if (pk in n && rps[pk] && cpu[pk])
                    line = line sprintf(" | %.2fx | %.2fx", (rps[mk] / n[mk]) / (rps[pk] / n[pk]),
                                        (cpu[mk] / req[mk]) / (cpu[pk] / req[pk]))
                else line = line " | - | -" }
            print line " |" }
        }' runs.tsv
    if [ -s relay.tsv ]; then
        echo
        echo "### Relay pass: RTT $rtt ms, concurrency 1"
        echo
        echo "bench/relay.c between each target and nginx, ${relay_delay} ms each way; a"
        echo "new connection's first flight is held one RTT more, for the TCP handshake"
        echo "loopback skips. $rounds run(s) of $relay_dur s per target, each right after a 2 s"
        echo "warm-up at concurrency 8. RT: latency ÷ RTT. Server CPU per request"
        echo "includes the server's idle work over the run (few requests at 1 RTT each)."
        echo "Relay: $relay_lateness."
        echo
        echo "| target | requests | p50 ms | p99 ms | p50 RT | p99 RT | p50 − 1 RTT, ms | new connections through the relay | server CPU µs/req | errors |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        awk -F'\t' -v rtt="$rtt" '
            { k = $1; sub(/^relay-/, "", k); if (!(k in n)) order[++m] = k
              n[k]++; req[k] += $3; p50[k] += $5; p99[k] += $6; cpu[k] += $7 * $3
              err[k] += $13; conns[k] += $15 }
            END { for (i = 1; i <= m; i++) { k = order[i]
                a = p50[k] / n[k] / 1000; b = p99[k] / n[k] / 1000
                printf "| %s | %d | %.1f | %.1f | %.2f | %.2f | %+.1f | %d | %.0f | %d |\n",
                    k, req[k], a, b, a / rtt, b / rtt, a - rtt, conns[k], cpu[k] / req[k], err[k] } }' relay.tsv
    fi
    echo
    echo "### Connections, TLS resumption, memory"
    echo
    awk -F'\t' -v threads="$((servers * threads_per_child))" -v php="$php_children" -v nw="$node_workers" '
        { n[$1] += $3; c[$1] += $9; r[$1] += $10; if (!($1 in seen)) { seen[$1]; o[++m] = $1 } }
        END {
          w["module"] = threads " worker threads"; w["proxy"] = threads " worker threads"
          w["node"] = "1 process"; w["node2"] = nw " processes"; w["php"] = php " prefork children"
          for (i = 1; i <= m; i++) { t = o[i]; if (t == "static") continue
            printf "- %s (%s): %.1f new upstream connections per 100,000 requests; %d of %d new connections resumed TLS (%.0f%%), the first of each thread or process included\n",
                t, w[t], n[t] ? c[t] * 1e5 / n[t] : 0, r[t], c[t], c[t] ? 100 * r[t] / c[t] : 0 } }' runs.tsv
    awk '$2 == 1 { n[$4]++ } END { for (p in n) s = s sprintf("%s%s %d", s ? ", " : "", p, n[p]); print "- TLS version of every new upstream connection (all runs, relay pass and soak): " s }' upstream.log
    if [ -s soak.tsv ]; then
        awk -F'\t' '
            NR == 1 { rss0 = $11 }
            { req += $3; dur += $3 / $4; if ($6 > p99) p99 = $6; err += $13
              cpu += $7 * $3; conns += $9; res += $10; rss1 = $12 }
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
if [ -n "${BENCH_RESULTS:-}" ]; then cp report.md "$BENCH_RESULTS"; fi
echo >&2
echo "bench: logs and report in $work" >&2
