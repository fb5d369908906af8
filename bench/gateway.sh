#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/gateway.sh: one balance call from PHP, through the module's gateway
# (SetHandler plaid-api), by access_token and by item_id (PlaidItemStore),
# against PHP calling Plaid itself with curl, over a simulated network
# round trip. Not a test: it prints figures for bench/RESULTS.md.
#
# Starts, all on 127.0.0.1:
#   - the Plaid emulator (its own httpd, event MPM, TLS; port GATEWAY_PORT+1),
#     holding an Item whose access_token the pages use;
#   - bench/relay.c (port GATEWAY_PORT+2): every byte to and from the
#     emulator, each way GATEWAY_DELAY_MS late, TLS untouched; the only way
#     to the emulator for the pages;
#   - the site's httpd (prefork, mod_php, this module; port GATEWAY_PORT)
#     with the pages of bench/php/: direct.php (a new curl handle, so a new
#     TCP+TLS connection, per call, credentials in PHP's environment),
#     gateway.php (examples/plaid-api.php to the /plaid-api location on the
#     same httpd, whose PlaidBaseURL is the relay, by access_token) and
#     gateway_item.php (the same, by item_id). /plaid-api is configured as
#     a site migrating to PlaidItemStore has it (docs/items.md, "Migrating"):
#     PlaidItemStore dbd (SQLite through mod_dbd), PlaidItemKey, and
#     PlaidApiAllowAccessToken on, so that one location takes both; the
#     Item is put in the store with build/plaid-item-seal, as a migration
#     does.
# After GATEWAY_WARMUP calls to each page, curl (one kept connection) calls
# each page GATEWAY_CALLS times at concurrency 1, GATEWAY_ROUNDS times,
# alternating. Per page: p50 and p99 of the page as the driver saw it and of
# the call inside PHP, in ms and in round trips; new connections through the
# relay; CPU per call of the site's httpd, the emulator's and the relay's
# (the sum over their threads of /proc/PID/task/TID/schedstat, in ns; the
# relay's from /proc/PID/stat, whose threads come and go). Then, per round,
# the site's CPU per call by item_id less by access_token: through PHP
# (gateway_item.php less gateway.php), and, unless GATEWAY_API=0, straight:
# the targets api_token and api_item, measured in the same rounds, POST
# the balance call to /plaid-api themselves (curl, one kept connection, no
# PHP, whose CPU per call varies from round to round by more than the
# difference).
#
# With GATEWAY_CALLGRIND=1, then the instructions a gateway call costs in
# the site's httpd, by access_token and by item_id at /plaid-api and by
# access_token at a location without a store: callgrind on `apache2 -X`
# (the site's configuration, one process, Plaid the emulator without the
# relay), GATEWAY_CG_N1 and GATEWAY_CG_N2 POSTs straight to the location on
# one connection, no PHP; the difference of the two runs per call, per
# shared object and the costliest functions of the item_id call over the
# access_token call. Installs valgrind.
#
# Knobs (environment): GATEWAY_DELAY_MS each way (10: a 20 ms RTT),
# GATEWAY_CALLS (200), GATEWAY_WARMUP (50), GATEWAY_ROUNDS (1),
# GATEWAY_PAGES ("direct gateway gateway_item"; the order of each round,
# reversed every other round; api_token and api_item may be named too, e.g.
# GATEWAY_PAGES="api_token api_item" for the straight calls alone),
# GATEWAY_API (1),
# GATEWAY_CHILDREN prefork children (4), GATEWAY_DIRECT_CA (system: the
# direct page verifies with the system's CAs plus the bench's, as curl's
# default CA file would cost; bench: with the bench's CA alone, the least
# a handshake per call can cost), GATEWAY_PORT (19460, uses
# GATEWAY_PORT..GATEWAY_PORT+3), GATEWAY_DIR (work directory, default a new
# one in /tmp), GATEWAY_RESULTS (also write the report to this file),
# GATEWAY_CALLGRIND (0), GATEWAY_CG_N1 (100), GATEWAY_CG_N2 (600),
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
x_port=$((port + 3))
pages=${GATEWAY_PAGES:-"direct gateway gateway_item"}
for page in $pages; do
    case $page in direct|gateway|gateway_item|api_token|api_item) ;;
        *) echo "GATEWAY_PAGES: direct, gateway, gateway_item, api_token, api_item" >&2
           exit 2 ;; esac
done
# Both gateway pages: the difference is what the report is about, so
# the location is also called straight, without PHP's noise (GATEWAY_API).
has_page() { case " $pages " in *" $1 "*) return 0 ;; esac; return 1; }
targets=$pages
if has_page gateway && has_page gateway_item && ! has_page api_item \
        && [ "${GATEWAY_API:-1}" != 0 ]; then
    targets="$pages api_token api_item"
fi
callgrind=${GATEWAY_CALLGRIND:-0}
cg_n1=${GATEWAY_CG_N1:-100}
cg_n2=${GATEWAY_CG_N2:-600}
max_seconds=${GATEWAY_MAX_SECONDS:-900}
direct_ca=${GATEWAY_DIRECT_CA:-system}
case $direct_ca in system|bench) ;; *) echo "GATEWAY_DIRECT_CA: system or bench" >&2; exit 2 ;; esac
httpd=/usr/sbin/apache2
mods=/usr/lib/apache2/modules
client_id=0123456789abcdef01234567
secret=gateway-bench-secret-Qx81
rtt_ms=$((2 * delay_ms))

bench_install libapache2-mod-php8.2 php8.2-curl libaprutil1-dbd-sqlite3 sqlite3
[ "$callgrind" = 0 ] || bench_install valgrind python3
"$top/scripts/deps.sh" >&2
make -C "$top" -s all >/dev/null

work=${GATEWAY_DIR:-$(mktemp -d /tmp/plaid-gateway.XXXXXX)}
rm -rf "$work/emu" "$work/front" "$work/cg"
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
    # GATEWAY_CALLGRIND's apache2 -X, if it was running.
    if [ -f "$work/cg/x.pid" ]; then
        "$httpd" -f "$work/cg/x.conf" -k stop 2>/dev/null || true
    fi
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
chmod 600 front/secret   # read at start-up, as root
# The Items' key, read at start-up as root, as docs/items.md has it.
openssl rand -hex 32 > front/items.key
chmod 600 front/items.key

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
exchanged=$(emulator /item/public_token/exchange "{\"public_token\":\"$public\"}")
access_token=$(sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p' <<< "$exchanged")
item_id=$(sed -n 's/.*"item_id": *"\([^"]*\)".*/\1/p' <<< "$exchanged")
if [ -z "$access_token" ] || [ -z "$item_id" ]; then
    echo "gateway: no access_token or item_id from the emulator" >&2; exit 1
fi

# The same Item in the module's store, sealed by the migration tool as a
# site moving its tokens in does (docs/items.md); the folder is httpd's
# user's, since SQLite writes its journal beside the database.
mkdir -p front/items
sealed=$(printf '%s\n' "$access_token" |
    "$top/build/plaid-item-seal" front/items.key sandbox "$item_id" bench-user)
now=$(date +%s)
sqlite3 front/items/items.db <<SQL
CREATE TABLE IF NOT EXISTS plaid_items (
    environment VARCHAR(64) NOT NULL, item_id VARCHAR(128) NOT NULL,
    client_user_id VARCHAR(256) NOT NULL, institution_id VARCHAR(64) NOT NULL,
    status VARCHAR(96) NOT NULL, sealed VARCHAR(1024) NOT NULL,
    created BIGINT NOT NULL, updated BIGINT NOT NULL,
    PRIMARY KEY (environment, item_id));
INSERT INTO plaid_items VALUES ('sandbox', '$item_id', 'bench-user',
    'ins_109508', 'good', '$sealed', $now, $now);
SQL
chown -R www-data:www-data front/items

# The site: prefork with mod_php, as Debian's LAMP has it, and the module.
# Every child exists from the start and none is retired.
{
    common front prefork
    cat <<CONF
User www-data
Group www-data
LoadModule env_module $mods/mod_env.so
LoadModule dbd_module $mods/mod_dbd.so
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
SetEnv BENCH_ITEM_ID $item_id
DBDriver sqlite3
DBDParams $work/front/items/items.db
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
    # A site migrating to the module's store: by item_id, and by
    # access_token until its code has moved.
    PlaidItemStore dbd
    PlaidItemKey file:$work/front/items.key
    PlaidApiAllowAccessToken on
</Location>
# The same without a store (GATEWAY_CALLGRIND's third target).
<Location "/plaid-api-nostore">
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
for page in $pages; do
    case $page in api_*) continue ;; esac
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
    echo "gateway: serving $base/direct.php $base/gateway.php $base/gateway_item.php; relay https://127.0.0.1:$relay_port, emulator https://127.0.0.1:$emu_port, CA $work/ca.crt" >&2
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
# in FILE: "status seconds call_us". PAGE api_token and api_item: no PHP,
# the balance call POSTed straight to /plaid-api, by access_token or by
# item_id (call_us then empty).
drive() {
    local page=$1 n=$2 file=$3 cfg=$work/curl-$1.cfg url=$base/$1.php
    : > "$cfg"
    case $page in
        api_*)
            url=$base/plaid-api/accounts/balance/get
            printf 'header = "Content-Type: application/json"\n' >> "$cfg"
            if [ "$page" = api_token ]; then
                printf 'data = "{\\"access_token\\":\\"%s\\"}"\n' "$access_token" >> "$cfg"
            else
                printf 'data = "{\\"item_id\\":\\"%s\\"}"\n' "$item_id" >> "$cfg"
            fi ;;
    esac
    for _ in $(seq "$n"); do
        printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >> "$cfg"
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
# Children holding the Items' database open: mod_dbd's connection, kept by
# the child from its first call by item_id on (with the statements the
# module prepared on it).
dbs_open() {
    local pid fd n=0
    for pid in $(pgrep -P "$(cat "$work/front/httpd.pid")"); do
        for fd in /proc/"$pid"/fd/*; do
            if [ "$(readlink "$fd" 2>/dev/null)" = "$work/front/items/items.db" ]; then
                n=$((n + 1)); break
            fi
        done
    done
    echo "$n"
}
warmed() {   # $1: page: every child ready for it
    [ "$(kept)" -ge "$children" ] || return 1
    [ "$1" != gateway_item ] || [ "$(dbs_open)" -ge "$children" ]
}
for page in $pages; do
    case $page in api_*) continue ;; esac
    if [ "$page" = direct ]; then
        drive direct "$warmup" warmup-direct.txt
        continue
    fi
    # The driver's connection pins the PHP page to one child, whose module
    # then sits idle: warm up in bursts of 10 calls, each burst on a new
    # connection, until every child keeps a connection to Plaid (and, for
    # the item_id page, has its database open): at most 30 bursts past the
    # warm-up.
    : > "warmup-$page.txt"
    for i in $(seq $(( (warmup + 9) / 10 + 30 ))); do
        [ "$i" -gt $(( (warmup + 9) / 10 )) ] && warmed "$page" && break
        drive "$page" 10 burst.txt
        cat burst.txt >> "warmup-$page.txt"
    done
done
for page in $targets; do
    case $page in api_*) drive "$page" 10 "warmup-$page.txt" ;; esac
done
warm=$(kept)
dbs=$(dbs_open)

: > runs.tsv
for r in $(seq "$rounds"); do
    # Every other round in the reverse order, so that a drift of the
    # machine's load favours no page.
    order=$targets
    [ $((r % 2)) = 1 ] || order=$(tr ' ' '\n' <<< "$targets" | tac | paste -sd' ')
    for page in $order; do
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

# ------------------------------------------- instructions (callgrind)

# The site's configuration in one prefork process on a port of its own,
# Plaid the emulator itself (no relay: the delay changes no instruction).
x_conf() {
    sed -e "s|^StartServers .*|StartServers 1|; s|^ServerLimit .*|ServerLimit 1|" \
        -e "s|^MaxRequestWorkers .*|MaxRequestWorkers 1|" \
        -e "s|^Listen .*|Listen 127.0.0.1:$x_port|" \
        -e "s|^PidFile .*|PidFile \"$work/cg/x.pid\"|" \
        -e "s|^DefaultRuntimeDir .*|DefaultRuntimeDir \"$work/cg\"|" \
        -e "s|^ErrorLog .*|ErrorLog \"$work/cg/x-error.log\"|" \
        -e "s|127.0.0.1:$relay_port|127.0.0.1:$emu_port|" \
        "$work/front/httpd.conf" > "$work/cg/x.conf"
}

# cg_run NAME LOCATION BODY N: callgrind on apache2 -X for N POSTs of BODY
# to LOCATION/accounts/balance/get on one connection (NAME.out).
cg_run() {
    local name=$1 vg
    rm -f "$work/cg/x.pid"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg/$name.out" \
        "$httpd" -f "$work/cg/x.conf" -X > "$work/cg/$name.log" 2>&1 &
    vg=$!
    for _ in $(seq 120); do
        # valgrind made the file as root; its dump at exit runs as www-data.
        chmod 666 "$work/cg/$name.out" 2>/dev/null || true
        [ -f "$work/cg/x.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$x_port/" && break
        sleep 0.5
    done
    python3 - "$x_port" "$2/accounts/balance/get" "$3" "$4" <<'PY'
import http.client, sys
port, path, body, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
ok = 0
for _ in range(n):
    c.request('POST', path, body=body,
              headers={'Content-Type': 'application/json'})
    r = c.getresponse()
    r.read()
    ok += r.status == 200
if ok != n:
    sys.exit('gateway: %d of %d answers were 200' % (ok, n))
PY
    kill -TERM "$(cat "$work/cg/x.pid")"
    wait "$vg" || true
    grep -q 'Collected' "$work/cg/$name.log" ||
        { cat "$work/cg/$name.log" >&2; exit 1; }
}

# cg_functions OUT: "function|object<TAB>cost" per function (self cost).
cg_functions() {
    callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null |
        awk '/^ *[0-9,]+ .*\[/ {
            c = $1; gsub(",", "", c)
            $1 = ""; sub(/^ *(\([ 0-9.%]*\))? */, "")
            obj = $0; sub(/.*\[/, "", obj); sub(/\]$/, "", obj)
            sub(/ \(.*$/, ""); sub(/ \[.*$/, "")
            n = split(obj, p, "/"); print $0 "|" p[n] "\t" c }' | sort
}

# cg_target NAME LOCATION BODY: NAME.per-call, "function|object<TAB>
# instructions per call", from the difference of two runs (start-up,
# shutdown, the first TLS handshake and the database's opening cancel).
cg_target() {
    echo "gateway: callgrind, $1: $cg_n1 and $cg_n2 calls" >&2
    cg_run "$1-$cg_n1" "$2" "$3" "$cg_n1"
    cg_run "$1-$cg_n2" "$2" "$3" "$cg_n2"
    join -t $'\t' -a 2 -e 0 -o 0,1.2,2.2 \
        <(cg_functions "$work/cg/$1-$cg_n1.out") <(cg_functions "$work/cg/$1-$cg_n2.out") |
        awk -F'\t' -v d=$((cg_n2 - cg_n1)) '{ printf "%s\t%.1f\n", $1, ($3 - $2) / d }' \
        > "$work/cg/$1.per-call"
}
cg_total() { awk -F'\t' '{ s += $2 } END { printf "%.0f", s }' "$work/cg/$1.per-call"; }

cg_report() {
    local by_token by_item no_store
    no_store=$(cg_total nostore); by_token=$(cg_total token); by_item=$(cg_total item)
    echo
    echo "#### Instructions per gateway call (callgrind, apache2 -X, $((cg_n2 - cg_n1)) calls)"
    echo
    echo "| call | instructions per call | over by access_token at /plaid-api |"
    echo "| --- | ---: | ---: |"
    echo "| by access_token, a location without a store | $no_store | $((no_store - by_token)) |"
    echo "| by access_token, /plaid-api (store, PlaidApiAllowAccessToken on) | $by_token | 0 |"
    echo "| by item_id, /plaid-api | $by_item | $((by_item - by_token)) |"
    echo
    echo "By item_id over by access_token, per shared object and the costliest"
    echo "functions (self cost per call, the difference of two runs, so a few"
    echo "instructions either way are noise):"
    echo
    for t in token item; do
        awk -F'\t' '{ split($1, p, "|"); s[p[2]] += $2 } END { for (o in s) print o "\t" s[o] }' \
            "$work/cg/$t.per-call" | sort > "$work/cg/$t.per-object"
    done
    echo "| object | by item_id over by access_token |"
    echo "| --- | ---: |"
    join -t $'\t' -a 1 -a 2 -e 0 -o 0,1.2,2.2 "$work/cg/item.per-object" "$work/cg/token.per-object" |
        awk -F'\t' '{ printf "%s\t%.0f\n", $1, $2 - $3 }' | sort -t $'\t' -k2,2nr |
        awk -F'\t' '$2 >= 200 || $2 <= -200 { printf "| %s | %d |\n", $1, $2 }'
    echo
    echo "| function | object | by item_id over by access_token |"
    echo "| --- | --- | ---: |"
    join -t $'\t' -a 1 -a 2 -e 0 -o 0,1.2,2.2 "$work/cg/item.per-call" "$work/cg/token.per-call" |
        awk -F'\t' '{ printf "%s\t%.0f\n", $1, $2 - $3 }' | sort -t $'\t' -k2,2nr |
        awk -F'\t' 'NR <= 20 { split($1, p, "|"); printf "| `%s` | %s | %d |\n", p[1], p[2], $2 }'
}

if [ "$callgrind" != 0 ]; then
    mkdir -p "$work/cg"
    chmod 777 "$work/cg"   # callgrind writes as www-data
    x_conf
    cg_target nostore /plaid-api-nostore "{\"access_token\":\"$access_token\"}"
    cg_target token /plaid-api "{\"access_token\":\"$access_token\"}"
    cg_target item /plaid-api "{\"item_id\":\"$item_id\"}"
fi

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
    echo "- relay: $delay_ms ms each way, RTT $rtt_ms ms ($lateness); $warmup warm-up calls per page, then $calls calls per page in each of $rounds round(s), concurrency 1; after the warm-up $warm of the $children children kept a connection to Plaid$(has_page gateway_item && echo " and $dbs held the Items' database open")"
    echo "- the direct page verifies with $([ "$direct_ca" = system ] && echo "the system's CAs plus the bench's (what curl's default CA file costs)" || echo "the bench's CA alone"); the module with the system's CAs plus the bench's"
    echo
    echo "| page | calls | p50 ms | p99 ms | p50 RT | p99 RT | call in PHP p50 / p99 ms | in RT | new connections to Plaid | httpd CPU ms/call | emulator CPU ms/call | relay CPU ms/call | errors |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for page in $pages; do
        case $page in api_*) continue ;; esac
        cat calls-"$page"-*.txt > "all-$page.txt"
        n=$(grep -c . "all-$page.txt" || true)
        errors=$(awk '$1 != 200' "all-$page.txt" | wc -l)
        lat=$(awk '{ print $2 * 1000 }' "all-$page.txt" | pct 50)" "$(awk '{ print $2 * 1000 }' "all-$page.txt" | pct 99)
        call=$(awk '{ print $3 / 1000 }' "all-$page.txt" | pct 50)" "$(awk '{ print $3 / 1000 }' "all-$page.txt" | pct 99)
        read -r conns f e rl same < <(awk -F'\t' -v p="$page" '$1 == p {
            c += $3; f += $4; e += $5; r += $6; if ($7 != "yes") s = "no" }
            END { print c, f, e, r, (s == "" ? "yes" : s) }' runs.tsv)
        echo "$page $n $lat $call $conns $f $e $rl $errors $same" | awk -v rtt="$rtt_ms" '
            function rt(ms) { return rtt ? sprintf("%.2f", ms / rtt) : "-" }
            {
            printf "| %s | %d | %.1f | %.1f | %s | %s | %.1f / %.1f | %s / %s | %d | %.3f | %.2f | %.2f | %d%s |\n",
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
    if has_page gateway && has_page gateway_item; then
        by_round gateway gateway_item "through PHP (the pages)"
    fi
    case " $targets " in
        *" api_item "*) by_round api_token api_item "straight to /plaid-api (curl, no PHP)" ;;
    esac
    [ "$callgrind" = 0 ] || cg_report
}

# by_round TOKEN ITEM TITLE: the site's CPU per call by item_id (target
# ITEM) less by access_token (TOKEN), round by round (each round measures
# both, one after the other), and their errors.
by_round() {
    local errors
    errors=$(cat calls-"$1"-*.txt calls-"$2"-*.txt | awk '$1 != 200' | wc -l)
    echo
    echo "#### By item_id over by access_token, $3, round by round"
    echo
    echo "| round | $1 (access_token) ms/call | $2 (item_id) ms/call | difference ms/call |"
    echo "| --- | ---: | ---: | ---: |"
    awk -F'\t' -v t="$1" -v i="$2" '$1 == t || $1 == i {
            n[$1 FS $2] = $4 }
        END {
            for (r = 1; (t FS r) in n; r++) {
                a = n[t FS r] / calls / 1e6
                b = n[i FS r] / calls / 1e6
                d = b - a; s += d; ds[r] = d
                if (r == 1 || d < lo) lo = d
                if (r == 1 || d > hi) hi = d
                printf "| %d | %.3f | %.3f | %+.3f |\n", r, a, b, d
            }
            r--
            # The median too: one round that the machine disturbed moves
            # the mean, not it.
            for (x = 2; x <= r; x++)
                for (y = x; y > 1 && ds[y - 1] > ds[y]; y--) {
                    v = ds[y]; ds[y] = ds[y - 1]; ds[y - 1] = v }
            if (r > 0)
                printf "| %d rounds | | | mean %+.3f, median %+.3f (from %+.3f to %+.3f) |\n",
                    r, s / r, (ds[int((r + 1) / 2)] + ds[int(r / 2) + 1]) / 2, lo, hi
        }' calls="$calls" runs.tsv
    echo
    echo "$calls calls of each in each round; answers other than 200: $errors."
}
report | tee report.md
[ -n "${GATEWAY_RESULTS:-}" ] && cp report.md "$GATEWAY_RESULTS"
echo "gateway: logs and report in $work" >&2
