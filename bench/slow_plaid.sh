#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/slow_plaid.sh: does a slow Plaid take the rest of the site down?
# Not a test: it prints figures for bench/LOAD.md.
#
#   bench/slow_plaid.sh            the module under the event MPM
#   bench/slow_plaid.sh worker     (or prefork)
#
# Starts on 127.0.0.1 the Plaid emulator (TLS, port SLOW_PORT+1) answering
# every call after 2 s (fault segment delay=2000), and the module's httpd
# (port SLOW_PORT) with Debian 12's default MPM sizes and keep-alive
# settings, since the promise is about a default Debian httpd. Three runs,
# each on a freshly started httpd:
#
#   baseline   the static page alone, no link-token load
#   default    PlaidMaxInFlight unset (a quarter of MaxRequestWorkers: 37)
#   no cap     PlaidMaxInFlight 10000, more than the MPM has threads
#
# Under load, wrk keeps SLOW_CONCURRENCY (200) connections POSTing `{}` to
# /plaid/link-token for SLOW_DURATION (30) s; 5 s in, when the MPM has had
# time to start its children, a second wrk fetches a small static page on
# the same vhost at SLOW_STATIC_CONCURRENCY (8) for SLOW_DURATION-10 s and
# records its requests/s and p50/p99. The baseline runs only that client.
# Both have a 60 s timeout, so a slow static answer counts in the latency
# instead of vanishing as a wrk timeout.
#
# Reports per run: the static page's req/s, p50, p99; link-token answers per
# status (httpd's access log, including those finished after wrk stopped);
# PL0110 lines; the calls the emulator received; the MPM's children at the
# end of the measurement.
#
# Knobs (environment): SLOW_DURATION, SLOW_CONCURRENCY,
# SLOW_STATIC_CONCURRENCY, SLOW_PORT (19400, uses SLOW_PORT and
# SLOW_PORT+1), SLOW_DIR (work directory, default build/slow-plaid-MPM).
# Installs wrk if missing (root, Debian's apt). Stops what it started, also
# on Ctrl-C.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
mpm=${1:-event}
case $mpm in event|worker|prefork) ;; *) echo "usage: $0 [event|worker|prefork]" >&2; exit 2 ;; esac
dur=${SLOW_DURATION:-30}
conc=${SLOW_CONCURRENCY:-200}
static_conc=${SLOW_STATIC_CONCURRENCY:-8}
port=${SLOW_PORT:-19400}
emu_port=$((port + 1))
# The static client starts once the MPM has started its children for the
# load, and stops before the load does, so all it sees is the steady burst.
settle=5
static_dur=$((dur - 2 * settle))
[ "$static_dur" -ge 5 ] || { echo "SLOW_DURATION: at least 15" >&2; exit 2; }
httpd=/usr/sbin/apache2
mods=/usr/lib/apache2/modules
work=${SLOW_DIR:-$top/build/slow-plaid-$mpm}

command -v wrk >/dev/null || {
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null
}
"$top/scripts/deps.sh" >&2
make -C "$top" -s all >/dev/null

rm -rf "$work"
mkdir -p "$work/emu" "$work/htdocs"
cd "$work"

pids=()
# Stop an httpd of this run and wait until it has gone, so that the next
# run (or the caller) finds the port free.
stop() {   # $1: directory
    [ -f "$work/$1/httpd.pid" ] || return 0
    "$httpd" -f "$work/$1/httpd.conf" -k stop 2>/dev/null || true
    for _ in $(seq 100); do [ -f "$work/$1/httpd.pid" ] || return 0; sleep 0.1; done
}
stop_all() {
    local p d
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for d in "$work"/*/; do
        [ "$(basename "$d")" = emu ] || stop "$(basename "$d")"
    done
    stop emu   # last: the module's calls in flight end as they would
}
trap stop_all EXIT
trap 'exit 130' INT TERM

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" \
    -keyout emu/server.key -out emu/server.crt 2>/dev/null
printf 'slow-sandbox-secret\n' > secret
# A small page, about the size of a site's home page without its images.
head -c 2048 /dev/zero | tr '\0' 'x' | sed 's/^/<!doctype html><title>static<\/title><p>/' \
    > htdocs/static.html
chmod 600 secret   # read by root at start-up only
chmod 644 emu/server.crt htdocs/static.html

common() {   # $1: directory, $2: MPM
    cat <<CONF
ServerRoot "$work/$1"
ServerName localhost
PidFile "$work/$1/httpd.pid"
DefaultRuntimeDir "$work/$1"
ErrorLog "$work/$1/error_log"
LogLevel warn
User nobody
Group nogroup
LoadModule mpm_$2_module $mods/mod_mpm_$2.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule mime_module $mods/mod_mime.so
TypesConfig /etc/mime.types
LogFormat "%>s %U %D" short
CustomLog "$work/$1/access_log" short
CONF
}

# The emulator: room for more calls than the module can make at once, so
# that it is never what limits them.
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
    PlaidEmulatorCredentials 0123456789abcdef01234567 slow-sandbox-secret
</Location>
CONF
} > emu/httpd.conf

# Debian 12's /etc/apache2/mods-available/mpm_*.conf and apache2.conf, as
# shipped (ServerLimit is httpd's default: 16, or 256 under prefork).
# The module's default cap is a quarter of MaxRequestWorkers, for the
# whole server.
default_cap=$((150 / 4))
if [ "$mpm" = prefork ]; then
    pool="StartServers 5
MinSpareServers 5
MaxSpareServers 10
MaxRequestWorkers 150"
else
    pool="StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150"
fi

front_conf() {   # $1: directory, $2: PlaidMaxInFlight line or nothing
    common "$1" "$mpm"
    cat <<CONF
$pool
MaxConnectionsPerChild 0
Timeout 300
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
Listen 127.0.0.1:$port
DocumentRoot "$work/htdocs"
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"
$2
<Location "/plaid/link-token">
    SetHandler plaid-link-token
    PlaidBaseURL       https://localhost:$emu_port/delay=2000
    PlaidCACertificate "$work/emu/server.crt"
    PlaidClientId      0123456789abcdef01234567
    PlaidSecret        file:$work/secret
    PlaidClientName    "slow plaid"
    PlaidLanguage      en
    PlaidCountryCodes  US
    PlaidProducts      auth
    PlaidUserId        "%{HTTP:X-User}"
</Location>
CONF
}

start() {   # $1: directory
    local out
    out=$("$httpd" -t -f "$work/$1/httpd.conf" 2>&1) || { echo "$out" >&2; exit 1; }
    "$httpd" -f "$work/$1/httpd.conf" -k start
}
# Until no call is left in flight: the access log stops growing. The MPM's
# own "OPTIONS *" (waking a spare child it retires, one a second after a
# burst) are not requests of the run.
drain() {   # $1: directory
    local before=-1 now
    while now=$(awk '$2 != "*"' "$work/$1/access_log" | wc -l); [ "$now" != "$before" ]; do
        before=$now; sleep 3
    done
}
emu_calls() { awk '$2 ~ /\/link\/token\/create$/' emu/access_log | wc -l; }
children() { ps --ppid "$(cat "$work/$1/httpd.pid")" -o pid= | wc -l; }

start emu
for _ in $(seq 50); do
    curl -sk -o /dev/null "https://localhost:$emu_port/" && break
    sleep 0.2
done

# run NAME CAP LOAD: one run on a fresh httpd; LOAD 0 for the baseline.
# Appends "name cap rps p50_us p99_us s200 s503 other pl0110 calls
# load_answers children" to runs.tsv.
run() {
    local name=$1 cap=$2 load=$3 d=$1 calls0 calls1 res kids load_res=
    mkdir -p "$d"
    front_conf "$d" "$(case $cap in default|-) ;; *) echo "PlaidMaxInFlight $cap" ;; esac)" > "$d/httpd.conf"
    start "$d"
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/static.html" && break
        sleep 0.2
    done
    : > "$d/access_log"   # the probe above is not part of the run
    calls0=$(emu_calls)
    if [ "$load" = 1 ]; then
        wrk -t 2 -c "$conc" -d "${dur}s" --timeout 60s -H "X-User: slow-user" \
            -s "$top/bench/post.lua" "http://127.0.0.1:$port/plaid/link-token" \
            > "$d/wrk-link.out" 2>&1 &
        pids+=($!)
    fi
    sleep "$settle"
    BENCH_METHOD=GET wrk -t 1 -c "$static_conc" -d "${static_dur}s" --timeout 60s \
        -s "$top/bench/post.lua" "http://127.0.0.1:$port/static.html" \
        > "$d/wrk-static.out" 2>&1
    kids=$(children "$d")   # what the MPM started for this load
    if [ "$load" = 1 ]; then
        wait "${pids[-1]}" || true
        unset 'pids[-1]'
        load_res=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$d/wrk-link.out")
    fi
    drain "$d"
    calls1=$(emu_calls)
    stop "$d"
    res=$(sed -n 's/^RESULT //p' "$d/wrk-static.out")
    [ -n "$res" ] || { echo "slow_plaid: the static client failed" >&2; cat "$d/wrk-static.out" >&2; exit 1; }
    awk -v name="$name" -v cap="$cap" -v res="$res" -v calls=$((calls1 - calls0)) \
        -v pl="$(grep -c PL0110 "$d/error_log" || true)" -v lr="${load_res:--}" -v kids="$kids" '
        $2 == "/plaid/link-token" { if ($1 == 200) ok++; else if ($1 == 503) busy++; else other++ }
        END {
            n = split(res, kv, " ")
            for (i = 1; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
            printf "%s\t%s\t%.0f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\n", name, cap,
                v["requests"] / (v["duration_us"] / 1e6), v["p50_us"], v["p99_us"],
                ok, busy, other, pl, calls, lr, kids
        }' "$d/access_log" | tee -a runs.tsv >&2
}

started=$(date +%s)
: > runs.tsv
echo "slow_plaid: $mpm MPM, work directory $work" >&2
echo "# run cap static_rps p50_us p99_us 200 503 other PL0110 emulator_calls wrk_link_answers children" >&2
run baseline - 0
run default default 1
run no-cap 10000 1

# ---------------------------------------------------------------- report

echo
echo "## $mpm MPM: $conc link-token connections for $dur s, the emulator answering in 2 s"
echo
echo "- machine: $(nproc) CPUs, $(free -g | awk '/^Mem/ {print $2}') GB, httpd $("$httpd" -v | awk -F'[/ ]' '/version/ {print $4}'), wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}')"
echo "- command: SLOW_DURATION=$dur SLOW_CONCURRENCY=$conc SLOW_STATIC_CONCURRENCY=$static_conc bench/slow_plaid.sh $mpm"
echo "- link-token load: wrk -t 2 -c $conc for $dur s, POST \`{}\` as JSON with an X-User header"
echo "- static client: wrk -t 1 -c $static_conc for $static_dur s, starting $settle s into the load"
echo
echo "| run | PlaidMaxInFlight | static req/s | p50 | p99 | link-token 200 | 503 | other | PL0110 lines | calls the emulator received | children |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
# No static answer at all in the measurement: each request waited longer.
awk -F'\t' -v none="> $static_dur s" -v dc="$default_cap" '
    function ms(us) { return $3 == 0 ? none : us < 1e6 ? sprintf("%.1f ms", us / 1000) : sprintf("%.2f s", us / 1e6) }
    { cap = $2 == "default" ? "unset (" dc ")" : $2
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, cap, $3,
          ms($4), ms($5), $1 == "baseline" ? "-" : $6, $1 == "baseline" ? "-" : $7,
          $1 == "baseline" ? "-" : $8, $9, $10, $12 }' runs.tsv
echo
echo "slow_plaid: elapsed $(( $(date +%s) - started )) s, logs in $work" >&2
