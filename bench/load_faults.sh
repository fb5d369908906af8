#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/load_faults.sh: load with upstream faults mixed in. Not a test: it
# prints figures for bench/LOAD.md.
#
#   bench/load_faults.sh            the module under the event MPM
#   bench/load_faults.sh prefork    (or worker)
#   LOAD_HANDLER=proxy bench/load_faults.sh event
#                                   the baseline: the same load and faults
#                                   through mod_proxy_http, no module
#
# Starts two httpd of its own on 127.0.0.1: the Plaid emulator (event MPM,
# TLS, port LOAD_PORT+1) standing in for Plaid, and the module under the
# chosen MPM (port LOAD_PORT). Keeping them apart means the MPM under load
# serves only browser requests, and its children's RSS is the module's.
# wrk (-t 2 -c LOAD_CONCURRENCY) POSTs JSON with a user header; about
# LOAD_FAULT_PERCENT of the requests go to locations whose PlaidBaseURL is an
# emulator fault (503, 500, 429 with Retry-After, truncated body, closed
# connection, a delay past PlaidTimeout, non-JSON, a 200 KiB body, nothing
# listening). A warm-up of LOAD_WARMUP requests at LOAD_WARMUP_CONCURRENCY
# comes first, then RSS per child is read, then LOAD_REQUESTS requests at
# LOAD_CONCURRENCY, then RSS again. The warm-up has more connections than
# the MPM has worker threads, so every thread of every child is busy at
# once: each child's pool of curl handles (at most one per thread) is at
# its largest before the first reading, and what grows after it is not
# the pool filling up.
#
# Reports: answers per status (from httpd's access log: every request it
# received, and as wrk saw them), requests sent (counted by the wrk script)
# against answers logged, wrk's socket errors, crashed children in the error
# log ("exit signal", "Segmentation fault"), RSS per child before and after.
# Exits non-zero when a child crashed, a request went unanswered or RSS grew
# by more than 1 MB in a child.
#
# Knobs (environment): LOAD_REQUESTS (100000), LOAD_ROUNDS (1: runs of
# LOAD_REQUESTS after the warm-up, RSS read after each), LOAD_CONCURRENCY (64),
# LOAD_WARMUP (20000), LOAD_WARMUP_CONCURRENCY (256), LOAD_FAULT_PERCENT (1), LOAD_PORT (19350, uses
# LOAD_PORT..LOAD_PORT+2), LOAD_DIR (work directory, default build/load-MPM),
# LOAD_FRONT_CONF (extra lines for the module's httpd, e.g. "MaxMemFree 64").
# Installs wrk if missing (root, Debian's apt). Stops what it started, also
# on Ctrl-C.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
mpm=${1:-event}
case $mpm in event|worker|prefork) ;; *) echo "usage: $0 [event|worker|prefork]" >&2; exit 2 ;; esac
requests=${LOAD_REQUESTS:-100000}
rounds=${LOAD_ROUNDS:-1}
conc=${LOAD_CONCURRENCY:-64}
warmup=${LOAD_WARMUP:-20000}
warmup_conc=${LOAD_WARMUP_CONCURRENCY:-256}
fault_pct=${LOAD_FAULT_PERCENT:-1}
port=${LOAD_PORT:-19350}
emu_port=$((port + 1))
dead_port=$((port + 2))   # nothing listens here
threads=2
httpd=/usr/sbin/apache2
mods=/usr/lib/apache2/modules
handler=${LOAD_HANDLER:-module}
case $handler in module|proxy) ;; *) echo "LOAD_HANDLER: module or proxy" >&2; exit 2 ;; esac
export LOAD_HANDLER=$handler   # load.lua reads it
work=${LOAD_DIR:-$top/build/load-$mpm$([ "$handler" != proxy ] || echo -proxy)}

command -v wrk >/dev/null || {
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null
}
"$top/scripts/deps.sh" >&2
make -C "$top" -s all >/dev/null

rm -rf "$work"
mkdir -p "$work/emu" "$work/front"
cd "$work"

stop_all() {
    for d in front emu; do
        if [ -f "$work/$d/httpd.pid" ]; then
            "$httpd" -f "$work/$d/httpd.conf" -k stop 2>/dev/null || true
        fi
    done
    [ -n "${wrk_pid:-}" ] && kill "$wrk_pid" 2>/dev/null || true
}
trap stop_all EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" \
    -keyout emu/server.key -out emu/server.crt 2>/dev/null
printf 'load-sandbox-secret\n' > front/secret
chmod 644 front/secret

common() {   # $1: directory, $2: MPM
    cat <<CONF
ServerRoot "$work/$1"
ServerName localhost
PidFile "$work/$1/httpd.pid"
ErrorLog "$work/$1/error_log"
LogLevel warn
User nobody
Group nogroup
LoadModule mpm_$2_module $mods/mod_mpm_$2.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule mime_module $mods/mod_mime.so
TypesConfig /etc/mime.types
Timeout 30
MaxConnectionsPerChild 0
CONF
}

# The emulator: a stand-in for Plaid with room for every connection.
{
    common emu event
    cat <<CONF
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule plaid_emulator_module "$top/emulator/.libs/mod_plaid_emulator.so"
ServerLimit 4
StartServers 4
ThreadsPerChild 64
MaxRequestWorkers 256
MinSpareThreads 32
MaxSpareThreads 256
Listen 127.0.0.1:$emu_port
SSLEngine on
SSLCertificateFile "$work/emu/server.crt"
SSLCertificateKeyFile "$work/emu/server.key"
<Location "/">
    SetHandler plaid-emulator
    PlaidEmulatorEnv sandbox
    PlaidEmulatorCredentials 0123456789abcdef01234567 load-sandbox-secret
</Location>
CONF
} > emu/httpd.conf

# The module under the MPM being measured. Every child exists from the
# start and none is retired, so RSS before and after is the same processes.
if [ "$mpm" = prefork ]; then
    pool="ServerLimit 128
StartServers 96
MinSpareServers 8
MaxSpareServers 128
MaxRequestWorkers 128"
else
    pool="ServerLimit 2
StartServers 2
ThreadsPerChild 64
MaxRequestWorkers 128
MinSpareThreads 16
MaxSpareThreads 128"
fi
emu="https://localhost:$emu_port"
# The fault locations: NAME=the emulator path that makes the fault (see
# docs/design.md); /plaid/fault/unreachable points where nothing listens.
fault_urls="503=status=503 500=status=500 429=status=429/retry_after=1
truncated=body=truncated close=close timeout=delay=1500 nonjson=body=nonjson
huge=body=huge"
faults="$(for f in $fault_urls; do printf '/plaid/fault/%s ' "${f%%=*}"; done)/plaid/fault/unreachable"

front_common() {
    common front "$mpm"
    cat <<CONF
$pool
${LOAD_FRONT_CONF:-}
Listen 127.0.0.1:$port
LogFormat "%>s %U %D %P" load
CustomLog "$work/front/access_log" load
CONF
}

# The module, or (LOAD_HANDLER=proxy) mod_proxy_http calling the same
# emulator URLs with kept-alive TLS connections: the same load through
# httpd's own upstream path, to tell the module's memory from httpd's.
if [ "$handler" = proxy ]; then
    {
        front_common
        cat <<CONF
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
SSLProxyEngine on
SSLProxyVerify require
SSLProxyCheckPeerName on
SSLProxyCACertificateFile "$work/emu/server.crt"
ProxyPass /plaid/link-token $emu/link/token/create keepalive=On
ProxyPass /plaid/fault/unreachable https://localhost:$dead_port/link/token/create
CONF
        for f in $fault_urls; do
            extra=
            [ "${f%%=*}" = timeout ] && extra=" timeout=1"
            echo "ProxyPass /plaid/fault/${f%%=*} $emu/${f#*=}/link/token/create keepalive=On$extra"
        done
    } > front/httpd.conf
else
    {
        front_common
        cat <<CONF
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"
# Calls in flight in the server (default: a quarter of MaxRequestWorkers)
# up to every worker: this measures the calls and their faults, not the
# limit (bench/slow_plaid.sh does), and the warm-up fills every pool.
PlaidMaxInFlight 128
PlaidBaseURL       $emu
PlaidCACertificate "$work/emu/server.crt"
PlaidClientId      0123456789abcdef01234567
PlaidSecret        file:$work/front/secret
PlaidClientName    "load test"
PlaidLanguage      en
PlaidCountryCodes  US
PlaidProducts      auth
PlaidUserId        "%{HTTP:X-User}"

<Location "/plaid/">
    SetHandler plaid-link-token
</Location>
<Location "/plaid/fault/unreachable">
    PlaidBaseURL https://localhost:$dead_port
</Location>
CONF
        for f in $fault_urls; do
            echo "<Location \"/plaid/fault/${f%%=*}\">"
            echo "    PlaidBaseURL $emu/${f#*=}"
            [ "${f%%=*}" = timeout ] && echo "    PlaidTimeout 1 1"
            echo "</Location>"
        done
    } > front/httpd.conf
fi

# wrk: each thread sends exactly its share, stops when all are answered and
# leaves a marker; wrk's main thread only wakes for SIGINT, which this
# script sends when all threads are done.
cat > load.lua <<'LUA'
local n = 0
local threads = {}

function setup(thread)
    n = n + 1
    thread:set("id", n)
    table.insert(threads, thread)
end

function init(args)
    quota = tonumber(args[1])
    pct = tonumber(args[2])
    markers = args[3]
    faults = {}
    for i = 4, #args do faults[#faults + 1] = args[i] end
    sent, got, reserved, statuses, fault_sent = 0, 0, 0, {}, 0
    math.randomseed(os.time() + id * 7919)
    proxied = os.getenv("LOAD_HANDLER") == "proxy"
end

-- Each connection asks delay() before each request: a thread reserves
-- exactly its quota, then parks its connections, so no request is left in
-- flight when it stops and sent == answered.
function delay()
    if reserved >= quota then return 3600000 end
    reserved = reserved + 1
    return 0
end

function request()
    local path = "/plaid/link-token"
    sent = sent + 1
    if math.random() * 100 < pct then
        path = faults[math.random(#faults)]
        fault_sent = fault_sent + 1
    end
    local user = "load-user-" .. id .. "-" .. (sent % 1000)
    local body = "{}"
    if proxied then
        -- What the module would send: the proxy only passes it on.
        body = '{"client_id":"0123456789abcdef01234567",'
            .. '"secret":"load-sandbox-secret","client_name":"load test",'
            .. '"language":"en","country_codes":["US"],"products":["auth"],'
            .. '"user":{"client_user_id":"' .. user .. '"}}'
    end
    return wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["X-User"] = user,
    }, body)
end

function response(status, headers, body)
    got = got + 1
    statuses[status] = (statuses[status] or 0) + 1
    if got == quota then
        local f = io.open(markers .. "/done-" .. id, "w")
        f:write(sent, "\n")
        f:close()
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local all, s, f = {}, 0, 0
    for _, t in ipairs(threads) do
        s = s + t:get("sent")
        f = f + t:get("fault_sent")
        for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end
    end
    io.write(string.format("WRK sent=%d fault_sent=%d answers=%d\n", s, f,
                           summary.requests))
    for k, v in pairs(all) do io.write(string.format("WRK status %s %d\n", k, v)) end
    local e = summary.errors
    io.write(string.format("WRK socket_errors connect=%d read=%d write=%d timeout=%d\n",
                           e.connect, e.read, e.write, e.timeout))
    io.write(string.format("WRK latency_us p50=%d p99=%d max=%d\n",
                           latency:percentile(50), latency:percentile(99), latency.max))
end
LUA

for d in emu front; do
    out=$("$httpd" -t -f "$work/$d/httpd.conf" 2>&1) || { echo "$out" >&2; exit 1; }
done
"$httpd" -f "$work/emu/httpd.conf" -k start
"$httpd" -f "$work/front/httpd.conf" -k start
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.2
done
sleep 1   # let the pool of children fill

# run N [C]: N answers at concurrency C ($conc); the summary goes to
# $work/wrk-N.out
run() {
    local total=$1 c=${2:-$conc} out=$work/wrk-$1.out marks=$work/marks-$1
    rm -rf "$marks"; mkdir -p "$marks"
    wrk -t "$threads" -c "$c" -d 3600s --timeout 10s -s load.lua \
        "http://127.0.0.1:$port" -- "$(( (total + threads - 1) / threads ))" \
        "$fault_pct" "$marks" $faults > "$out" 2>&1 &
    wrk_pid=$!
    while [ "$(ls "$marks" | wc -l)" -lt "$threads" ]; do
        kill -0 "$wrk_pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" || true
    wrk_pid=
    # Belt and braces: wait until the access log stops growing.
    local before=-1 now
    while now=$(wc -l < front/access_log); [ "$now" != "$before" ]; do
        before=$now; sleep 3
    done
}

# "pid rss_kb connections" of each child of the module's httpd; the
# connections to the emulator are the child's pooled curl handles.
children_rss() {
    local parent pid rss conns
    parent=$(cat front/httpd.pid)
    ps --ppid "$parent" -o pid=,rss= | sort -n | while read -r pid rss; do
        conns=$(ss -tnpH state established "( dport = :$emu_port )" 2>/dev/null \
                | grep -c "pid=$pid," || true)
        echo "$pid $rss $conns"
    done
}

started=$(date +%s)
run "$warmup" "$warmup_conc"
children_rss > rss-0
if [ "${LOAD_SMAPS:-0}" = 1 ]; then
    for pid in $(awk '{print $1}' rss-0); do
        cp "/proc/$pid/smaps" "smaps-$pid-0" 2>/dev/null || true
    done
fi
for r in $(seq "$rounds"); do
    warm_lines=$(wc -l < front/access_log)
    t0=$(date +%s.%N)
    run "$requests"
    t1=$(date +%s.%N)
    children_rss > "rss-$r"
    if [ "${LOAD_SMAPS:-0}" = 1 ]; then
        for pid in $(awk '{print $1}' "rss-$r"); do
            cp "/proc/$pid/smaps" "smaps-$pid-$r" 2>/dev/null || true
        done
    fi
done
cp rss-0 rss-before
cp "rss-$rounds" rss-after

# ---------------------------------------------------------------- report

main_lines=$(tail -n +"$((warm_lines + 1))" front/access_log)
logged=$(printf '%s\n' "$main_lines" | grep -c . || true)
sent=$(sed -n 's/^WRK sent=\([0-9]*\).*/\1/p' "wrk-$requests.out")
fault_sent=$(sed -n 's/.*fault_sent=\([0-9]*\).*/\1/p' "wrk-$requests.out")
answers=$(sed -n 's/.*answers=\([0-9]*\).*/\1/p' "wrk-$requests.out")
sockerr=$(sed -n 's/^WRK socket_errors //p' "wrk-$requests.out")
latency=$(sed -n 's/^WRK latency_us //p' "wrk-$requests.out")
wrk_socket_line=$(grep -m1 'Socket errors' "wrk-$requests.out" || echo "Socket errors: none")
crashes=$(cat front/error_log emu/error_log | grep -cE 'exit signal|Segmentation fault|AH00052|AH00060' || true)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')

echo
echo "## $mpm MPM, $handler: $requests requests at concurrency $conc, ~$fault_pct% to faults"
[ "$rounds" -eq 1 ] || echo "(figures of the last of $rounds rounds)"
echo
echo "- requests: $requests ($fault_sent to fault locations); answers wrk counted: $answers"
echo "  (wrk's request() ran $sent times: $((sent - requests)) re-sent after a connection closed under it)"
echo "- logged by httpd (every request it received): $logged"
echo "- wrk socket errors: $sockerr ($wrk_socket_line)"
echo "- latency (wrk, µs): $latency; wall time $secs s, $(awk -v n="$answers" -v s="$secs" 'BEGIN {printf "%d", n / s}') answers/s"
echo "- crashed children (exit signal / Segmentation fault in the error logs): $crashes"
echo
echo "| status | httpd's access log | as wrk saw it |"
echo "| --- | --- | --- |"
for s in $(printf '%s\n' "$main_lines" | awk '{print $1}' | sort -u); do
    n=$(printf '%s\n' "$main_lines" | awk -v s="$s" '$1 == s' | wc -l)
    w=$(sed -n "s/^WRK status $s //p" "wrk-$requests.out")
    echo "| $s | $n | ${w:-0} |"
done
echo
echo "Fault locations (httpd's access log):"
echo
echo "| location | requests | statuses |"
echo "| --- | --- | --- |"
for f in $faults; do
    lines=$(printf '%s\n' "$main_lines" | awk -v f="$f" '$2 == f')
    n=$(printf '%s\n' "$lines" | grep -c . || true)
    st=$(printf '%s\n' "$lines" | awk 'NF {c[$1]++} END {for (s in c) printf "%s×%d ", s, c[s]}')
    echo "| $f | $n | $st|"
done
echo
echo "RSS per child (KB) after $warmup warm-up requests at concurrency $warmup_conc, then after each round of $requests"
echo "(in brackets: the child's open connections to Plaid, i.e. its pooled curl handles):"
echo
hdr="| child | warm-up"; sep="| --- | ---"
for r in $(seq "$rounds"); do hdr="$hdr | round $r"; sep="$sep | ---"; done
echo "$hdr | growth in the last round |"; echo "$sep | --- |"
max_growth=0
while read -r pid before conns; do
    line="| $pid | $before ($conns)"
    prev=$before
    for r in $(seq "$rounds"); do
        read -r now c < <(awk -v p="$pid" '$1 == p {print $2, $3}' "rss-$r")
        if [ -z "$now" ]; then line="$line | (gone)"; prev=; break; fi
        line="$line | $now ($c)"
        [ "$r" -lt "$rounds" ] && prev=$now
        last=$now
    done
    if [ -z "$prev" ]; then max_growth=999999; echo "$line | |"; continue; fi
    g=$((last - prev))
    [ "$g" -gt "$max_growth" ] && max_growth=$g
    echo "$line | $g |"
done < rss-0
new=$(awk 'NR == FNR {seen[$1] = 1; next} !($1 in seen)' rss-before rss-after | wc -l)
echo
echo "children: $(wc -l < rss-before) before, $(wc -l < rss-after) after ($new new); largest growth ${max_growth} KB"
echo "work directory: $work"

status=0
[ "$crashes" -eq 0 ] || { echo "FAIL: $crashes crashed children"; status=1; }
[ "$logged" -eq "$requests" ] && [ "$answers" -eq "$requests" ] \
    || { echo "FAIL: $requests requests, wrk counted $answers answers, httpd logged $logged"; status=1; }
[ "$max_growth" -le 1024 ] || { echo "FAIL: a child grew by more than 1 MB"; status=1; }
echo "load_faults: elapsed $(( $(date +%s) - started )) s"
exit $status
