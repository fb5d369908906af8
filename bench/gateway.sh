#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/gateway.sh: one balance call from PHP, through the module's gateway
# (SetHandler plaid-api) against PHP calling Plaid itself with curl, over a
# simulated network round trip. Not a test: it prints figures for
# bench/RESULTS.md.
#
# Starts, all on 127.0.0.1:
#   - the Plaid emulator (its own httpd, event MPM, TLS; port GATEWAY_PORT+1),
#     holding an Item whose access_token both pages use;
#   - bench/relay.c (port GATEWAY_PORT+2): every byte to and from the
#     emulator, each way GATEWAY_DELAY_MS late, TLS untouched; the only way
#     to the emulator for both pages;
#   - the site's httpd (prefork, mod_php, this module; port GATEWAY_PORT)
#     with the pages of bench/php/: direct.php (a new curl handle, so a new
#     TCP+TLS connection, per call, credentials in PHP's environment) and
#     gateway.php (examples/plaid-api.php to the /plaid-api location on the
#     same httpd, whose PlaidBaseURL is the relay).
# After GATEWAY_WARMUP calls to each page, curl (one kept connection) calls
# each page GATEWAY_CALLS times at concurrency 1, GATEWAY_ROUNDS times,
# alternating. Per page: p50 and p99 of the page as the driver saw it and of
# the call inside PHP, in ms and in round trips; new connections through the
# relay; CPU per call of the site's httpd, the emulator's and the relay's
# (the sum over their threads of /proc/PID/task/TID/schedstat, in ns; the
# relay's from /proc/PID/stat, whose threads come and go).
#
# Knobs (environment): GATEWAY_DELAY_MS each way (10: a 20 ms RTT),
# GATEWAY_CALLS (200), GATEWAY_WARMUP (50), GATEWAY_ROUNDS (1),
# GATEWAY_CHILDREN prefork children (4), GATEWAY_DIRECT_CA (system: the
# direct page verifies with the system's CAs plus the bench's, as curl's
# default CA file would cost; bench: with the bench's CA alone, the least
# a handshake per call can cost), GATEWAY_PORT (19460, uses
# GATEWAY_PORT..GATEWAY_PORT+2), GATEWAY_DIR (work directory, default a new
# one in /tmp), GATEWAY_RESULTS (also write the report to this file),
# GATEWAY_MAX_SECONDS (900: after that everything started here stops, even
# if this script was killed). `bench/gateway.sh serve` only starts the
# servers, for looking by hand. Installs what Debian 12 lacks (as root); reads
# nothing in /etc/apache2.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
delay_ms=${GATEWAY_DELAY_MS:-10}
calls=${GATEWAY_CALLS:-200}
warmup=${GATEWAY_WARMUP:-50}
rounds=${GATEWAY_ROUNDS:-1}
children=${GATEWAY_CHILDREN:-4}
port=${GATEWAY_PORT:-19460}
emu_port=$((port + 1))
relay_port=$((port + 2))
max_seconds=${GATEWAY_MAX_SECONDS:-900}
direct_ca=${GATEWAY_DIRECT_CA:-system}
case $direct_ca in system|bench) ;; *) echo "GATEWAY_DIRECT_CA: system or bench" >&2; exit 2 ;; esac
httpd=/usr/sbin/apache2
mods=/usr/lib/apache2/modules
client_id=0123456789abcdef01234567
secret=gateway-bench-secret-Qx81
rtt_ms=$((2 * delay_ms))

bench_install libapache2-mod-php8.2 php8.2-curl
"$top/scripts/deps.sh" >&2
make -C "$top" -s all >/dev/null

work=${GATEWAY_DIR:-$(mktemp -d /tmp/plaid-gateway.XXXXXX)}
rm -rf "$work/emu" "$work/front"
mkdir -p "$work/emu/state" "$work/front"
chmod 755 "$work"
cd "$work"
# The relay: C, so that the instrument adds microseconds, not the
# millisecond per round trip its Python version did.
cc -O2 -Wall -Wextra -Werror -pthread -o "$work/relay" "$top/bench/relay.c"

stop_all() {
    local d
    for d in front emu; do
        if [ -f "$work/$d/httpd.pid" ]; then
            "$httpd" -f "$work/$d/httpd.conf" -k stop 2>/dev/null || true
        fi
    done
    if [ -n "${relay_pid:-}" ]; then kill "$relay_pid" 2>/dev/null || true; fi
    if [ -n "${driver_pid:-}" ]; then kill "$driver_pid" 2>/dev/null || true; fi
    # Gone before the next run takes the ports.
    for _ in $(seq 50); do
        [ -f "$work/front/httpd.pid" ] || [ -f "$work/emu/httpd.pid" ] || break
        sleep 0.1
    done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# A private CA and the emulator's certificate (RSA 2048, as many API hosts
# still serve). PHP and the module verify with the system's CAs plus it.
bench_certs "$work" "$work/emu" "gateway bench CA"
cat /etc/ssl/certs/ca-certificates.crt ca.crt > ca-bundle.crt
chmod 644 ca-bundle.crt
printf '%s\n' "$secret" > front/secret
chmod 644 front/secret

# ---------------------------------------------------------------- servers

common() {   # $1: directory, $2: MPM
    cat <<CONF
ServerRoot "$work/$1"
ServerName localhost
PidFile "$work/$1/httpd.pid"
DefaultRuntimeDir "$work/$1"
ErrorLog "$work/$1/error_log"
LogLevel warn
LoadModule mpm_$2_module $mods/mod_mpm_$2.so
LoadModule authz_core_module $mods/mod_authz_core.so
Timeout 30
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
CONF
}

# The emulator, standing in for Plaid: kept-alive connections stay open
# 60 s (a cloud load balancer's usual idle timeout).
{
    common emu event
    cat <<CONF
User nobody
Group nogroup
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule plaid_emulator_module "$top/emulator/.libs/mod_plaid_emulator.so"
PlaidEmulatorStateDir "$work/emu/state"
KeepAliveTimeout 60
ServerLimit 2
StartServers 2
ThreadsPerChild 16
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32
Listen 127.0.0.1:$emu_port
SSLSessionCache "shmcb:$work/emu/ssl_scache(512000)"
SSLEngine on
SSLCertificateFile "$work/emu/server.crt"
SSLCertificateKeyFile "$work/emu/server.key"
<Location "/">
    SetHandler plaid-emulator
    PlaidEmulatorEnv sandbox
    PlaidEmulatorCredentials $client_id $secret
</Location>
CONF
} > emu/httpd.conf

"$work/relay" "$relay_port" "$emu_port" "$delay_ms" \
    "$work/relay.log" "$max_seconds" 2>"$work/relay.err" &
relay_pid=$!
# The watchdog: stops it all once this script is gone (even by SIGKILL) or
# GATEWAY_MAX_SECONDS have passed, whichever comes first.
(
    end=$((SECONDS + max_seconds))
    while [ $SECONDS -lt $end ] && kill -0 $$ 2>/dev/null; do sleep 1; done
    stop_all
) >/dev/null 2>&1 &

out=$("$httpd" -t -f "$work/emu/httpd.conf" 2>&1) || { echo "$out" >&2; exit 1; }
"$httpd" -f "$work/emu/httpd.conf" -k start
for _ in $(seq 50); do
    curl -s -o /dev/null --cacert ca.crt "https://127.0.0.1:$emu_port/" && break
    sleep 0.2
done
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$relay_port") 2>/dev/null && break
    sleep 0.2
done

# An Item, as the application holds it after Link: set up straight at the
# emulator, not through the relay.
emulator() {   # $1: path, $2: JSON body without the credentials
    curl -s --cacert ca.crt -H 'Content-Type: application/json' \
        -d "{\"client_id\":\"$client_id\",\"secret\":\"$secret\",${2#\{}" \
        "https://127.0.0.1:$emu_port$1"
}
public=$(emulator /sandbox/public_token/create \
    '{"institution_id":"ins_109508","initial_products":["transactions"]}' |
    sed -n 's/.*"public_token": *"\([^"]*\)".*/\1/p')
access_token=$(emulator /item/public_token/exchange "{\"public_token\":\"$public\"}" |
    sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
[ -n "$access_token" ] || { echo "gateway: no access_token from the emulator" >&2; exit 1; }

# The site: prefork with mod_php, as Debian's LAMP has it, and the module.
# Every child exists from the start and none is retired.
{
    common front prefork
    cat <<CONF
User www-data
Group www-data
LoadModule env_module $mods/mod_env.so
LoadModule php_module $mods/libphp8.2.so
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"
ServerLimit $children
StartServers $children
MaxRequestWorkers $children
MinSpareServers 1
MaxSpareServers $children
KeepAliveTimeout 5
Listen 127.0.0.1:$port
DocumentRoot "$top/bench/php"
<Directory "$top/bench/php">
    AllowOverride None
    Require all granted
</Directory>
<FilesMatch "\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
SetEnv BENCH_ACCESS_TOKEN $access_token
SetEnv BENCH_GATEWAY http://127.0.0.1:$port/plaid-api
# Only the direct page holds the credentials.
<Files "direct.php">
    SetEnv BENCH_PLAID_URL https://127.0.0.1:$relay_port
    SetEnv BENCH_PLAID_CLIENT_ID $client_id
    SetEnv BENCH_PLAID_SECRET $secret
    SetEnv BENCH_CA_BUNDLE $work/$([ "$direct_ca" = system ] && echo ca-bundle.crt || echo ca.crt)
</Files>

<Location "/plaid-api">
    SetHandler plaid-api
    PlaidApiPaths /accounts/balance/get
    PlaidEnv sandbox
    PlaidBaseURL https://127.0.0.1:$relay_port
    PlaidCACertificate "$work/ca-bundle.crt"
    PlaidClientId $client_id
    PlaidSecret file:$work/front/secret
</Location>
CONF
} > front/httpd.conf

out=$("$httpd" -t -f "$work/front/httpd.conf" 2>&1) || { echo "$out" >&2; exit 1; }
"$httpd" -f "$work/front/httpd.conf" -k start
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.2
done
sleep 1   # let every child start

base="http://127.0.0.1:$port"
for page in direct gateway; do
    got=$(curl -s -w ' %{http_code}' "$base/$page.php")
    case $got in
        *' 200') ;;
        *) echo "gateway: $page.php answers: $got" >&2
           tail -5 front/error_log emu/error_log >&2; exit 1 ;;
    esac
done

if [ "${1:-}" = serve ]; then
    # For looking by hand: everything stays up until this script is stopped
    # (Ctrl-C or kill) or GATEWAY_MAX_SECONDS have passed.
    echo "gateway: serving $base/direct.php $base/gateway.php; relay https://127.0.0.1:$relay_port, emulator https://127.0.0.1:$emu_port, CA $work/ca.crt" >&2
    end=$((SECONDS + max_seconds))
    while [ $SECONDS -lt "$end" ]; do sleep 1; done
    exit 0
fi

# ---------------------------------------------------------- measuring

pids_of() {   # $1: httpd directory: the parent and its children
    local parent
    parent=$(cat "$work/$1/httpd.pid")
    { echo "$parent"; pgrep -P "$parent" | sort -n; } | paste -sd' '
}
# CPU time in ns of every thread of the given processes (printed with %.0f:
# mawk's %d stops at 2^31).
cpu_ns() {
    local pid
    for pid in "$@"; do cat /proc/"$pid"/task/*/schedstat; done |
        awk '{ s += $1 } END { printf "%.0f\n", s }'
}
# CPU time in ns of a process, its ended threads included (the relay's
# live as long as a connection), from clock ticks: coarser.
cpu_ticks_ns() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1e9 / hz }' "/proc/$1/stat"
}

# drive PAGE N FILE: N calls to PAGE on one kept connection, one line each
# in FILE: "status seconds call_us".
drive() {
    local page=$1 n=$2 file=$3 cfg=$work/curl-$1.cfg
    : > "$cfg"
    for _ in $(seq "$n"); do
        printf 'url = "%s/%s.php"\noutput = "/dev/null"\n' "$base" "$page" >> "$cfg"
    done
    curl -s --max-time 30 -K "$cfg" \
        -w '%{http_code} %{time_total} %header{x-call-us}\n' > "$file" &
    driver_pid=$!
    wait "$driver_pid" || true
    driver_pid=
}

echo "gateway: work directory $work; RTT $rtt_ms ms; $calls calls per page and round" >&2
# Connections from the site's children to the relay: the module's kept ones.
kept() { ss -tnH state established "( dport = :$relay_port )" | wc -l; }
drive direct "$warmup" warmup-direct.txt
# The driver's connection pins the PHP page to one child, whose module then
# sits idle: warm up in bursts of 10 calls, each burst on a new connection,
# until every child keeps a connection (at most 30 bursts past the warm-up).
: > warmup-gateway.txt
for i in $(seq $(( (warmup + 9) / 10 + 30 ))); do
    [ "$i" -gt $(( (warmup + 9) / 10 )) ] && [ "$(kept)" -ge "$children" ] && break
    drive gateway 10 burst.txt
    cat burst.txt >> warmup-gateway.txt
done
warm=$(kept)

: > runs.tsv
for r in $(seq "$rounds"); do
    for page in direct gateway; do
        read -ra front <<< "$(pids_of front)"
        read -ra emu <<< "$(pids_of emu)"
        c0=$(wc -l < relay.log)
        f0=$(cpu_ns "${front[@]}"); e0=$(cpu_ns "${emu[@]}"); r0=$(cpu_ticks_ns "$relay_pid")
        drive "$page" "$calls" "calls-$page-$r.txt"
        f1=$(cpu_ns "${front[@]}"); e1=$(cpu_ns "${emu[@]}"); r1=$(cpu_ticks_ns "$relay_pid")
        c1=$(wc -l < relay.log)
        same=yes
        [ "${front[*]} ${emu[*]}" = "$(pids_of front) $(pids_of emu)" ] || same=no
        printf '%s\t%d\t%d\t%d\t%d\t%d\t%s\n' "$page" "$r" $((c1 - c0)) \
            $((f1 - f0)) $((e1 - e0)) $((r1 - r0)) "$same" >> runs.tsv
    done
done

# How a connection through the relay is secured; then the relay stops and
# tells how late it delivered.
tls=$(curl -sv -o /dev/null --cacert ca.crt "https://127.0.0.1:$relay_port/" 2>&1 |
      sed -n 's/.*SSL connection using \([^ ]*\) \/ \([^ ]*\).*/\1 \2/p' | head -1)
kill "$relay_pid" 2>/dev/null || true
wait "$relay_pid" || true
relay_pid=
lateness=$(sed -n 's/^relay: //p' relay.err)

# ---------------------------------------------------------- the report

# pct P: the P-th percentile (nearest rank) of the numbers on stdin.
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'; }

report() {
    local page lat call n errors conns f e rl same php_v curl_v ssl_v
    php_v=$(dpkg-query -W -f='${Version}' libapache2-mod-php8.2)
    curl_v=$(dpkg-query -W -f='${Version}' libcurl4)
    ssl_v=$(openssl version | awk '{print $2}')
    echo "### Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) of memory, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
    echo "- httpd $("$httpd" -v | awk -F'[/ ]' '/version/ {print $4}') (site: prefork, $children children; emulator: event), libapache2-mod-php8.2 $php_v (opcache as Debian ships it), libcurl $curl_v, OpenSSL $ssl_v; $tls to the emulator, RSA 2048 certificate"
    echo "- relay: $delay_ms ms each way, RTT $rtt_ms ms ($lateness); $warmup warm-up calls per page, then $calls calls per page in each of $rounds round(s), concurrency 1; after the warm-up $warm of the $children children kept a connection to Plaid"
    echo "- the direct page verifies with $([ "$direct_ca" = system ] && echo "the system's CAs plus the bench's (what curl's default CA file costs)" || echo "the bench's CA alone"); the module with the system's CAs plus the bench's"
    echo
    echo "| page | calls | p50 ms | p99 ms | p50 RT | p99 RT | call in PHP p50 / p99 ms | in RT | new connections to Plaid | httpd CPU ms/call | emulator CPU ms/call | relay CPU ms/call | errors |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for page in direct gateway; do
        cat calls-$page-*.txt > all-$page.txt
        n=$(grep -c . all-$page.txt || true)
        errors=$(awk '$1 != 200' all-$page.txt | wc -l)
        lat=$(awk '{ print $2 * 1000 }' all-$page.txt | pct 50)" "$(awk '{ print $2 * 1000 }' all-$page.txt | pct 99)
        call=$(awk '{ print $3 / 1000 }' all-$page.txt | pct 50)" "$(awk '{ print $3 / 1000 }' all-$page.txt | pct 99)
        read -r conns f e rl same < <(awk -F'\t' -v p="$page" '$1 == p {
            c += $3; f += $4; e += $5; r += $6; if ($7 != "yes") s = "no" }
            END { print c, f, e, r, (s == "" ? "yes" : s) }' runs.tsv)
        echo "$page $n $lat $call $conns $f $e $rl $errors $same" | awk -v rtt="$rtt_ms" '
            function rt(ms) { return rtt ? sprintf("%.2f", ms / rtt) : "-" }
            {
            printf "| %s | %d | %.1f | %.1f | %s | %s | %.1f / %.1f | %s / %s | %d | %.2f | %.2f | %.2f | %d%s |\n",
                $1, $2, $3, $4, rt($3), rt($4), $5, $6, rt($5), rt($6),
                $7, $8 / $2 / 1e6, $9 / $2 / 1e6, $10 / $2 / 1e6, $11,
                $12 == "yes" ? "" : " (a process changed: CPU incomplete)" }'
    done
    echo
    echo "The page's latency is the driver's (curl, one kept connection to the"
    echo "site); the call's is hrtime() around the call to Plaid inside PHP. RT:"
    echo "latency divided by the relay's RTT. New connections: accepted by the"
    echo "relay during the measured calls. CPU: the schedstat time of every"
    echo "thread of the site's httpd (PHP, and the module for the gateway) and"
    echo "of the emulator's httpd over the measured calls; the relay's (the"
    echo "simulated network, on the same $(nproc) CPUs) from its clock ticks."
}
report | tee report.md
[ -n "${GATEWAY_RESULTS:-}" ] && cp report.md "$GATEWAY_RESULTS"
echo "gateway: logs and report in $work" >&2
