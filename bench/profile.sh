#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/profile.sh: instructions per request in httpd, the module against
# mod_proxy_http and the static file, whole request, per function.
#
# Starts `bench/run.sh serve` (its nginx upstream and its httpd.conf), then
# for each target runs callgrind on `apache2 -X` (prefork, one process,
# the same configuration) twice: N1 and N2 POSTs on one kept-alive
# connection. The difference of the two runs is what N2 - N1 requests cost,
# start-up, shutdown and the first connection's TLS handshake cancelled
# out. (callgrind_control cannot reach an httpd child that has switched to
# www-data: valgrind's pipes are root's. Hence two runs, not one.)
#
# Prints a Markdown table: instructions per request per target, then the
# PROFILE_TOP functions (20) costing the module most per request (self
# cost), beside their cost in the proxy, and the cost per shared object.
# Keeps the callgrind files in the work directory it names.
#
# Then, unless PROFILE_SYSCALLS=0, the same two runs under strace -c: the
# system calls per request per target (their kernel time is CPU that
# callgrind does not see).
#
# Knobs (environment): PROFILE_TARGETS ("module proxy static"),
# PROFILE_N1 (200), PROFILE_N2 (1200), PROFILE_TOP (20), PROFILE_PORT
# (19400; uses PROFILE_PORT..PROFILE_PORT+7 and +10), PROFILE_DIR.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
targets=${PROFILE_TARGETS:-"module proxy static"}
n1=${PROFILE_N1:-200}
n2=${PROFILE_N2:-1200}
top_n=${PROFILE_TOP:-20}
port=${PROFILE_PORT:-19400}
xport=$((port + 10))
work=${PROFILE_DIR:-$(mktemp -d /tmp/plaid-profile.XXXXXX)}
mkdir -p "$work/cg"
chmod 777 "$work/cg"   # callgrind writes as www-data

syscalls=${PROFILE_SYSCALLS:-1}
bench_install valgrind python3 strace

# The servers: run.sh's, with no peers to start but the ones it always does.
BENCH_DIR="$work" BENCH_PORT=$port BENCH_NODE_WORKERS=0 \
    "$top/bench/run.sh" serve > "$work/serve.log" 2>&1 &
serve=$!
stop() {
    kill "$serve" 2>/dev/null || true
    wait "$serve" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM
for _ in $(seq 600); do
    grep -q '^bench: serving' "$work/serve.log" && break
    kill -0 "$serve" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.5
done

# The same configuration in one prefork process on a port of its own.
sed -e "s|mod_mpm_event.so|mod_mpm_prefork.so|; s|mpm_event_module|mpm_prefork_module|" \
    -e "/^ThreadsPerChild\|^MinSpareThreads\|^MaxSpareThreads/d" \
    -e "s|^StartServers .*|StartServers 1|; s|^ServerLimit .*|ServerLimit 1|" \
    -e "s|^MaxRequestWorkers .*|MaxRequestWorkers 1|" \
    -e "s|^Listen .*|Listen 127.0.0.1:$xport|" \
    -e "s|^PidFile .*|PidFile \"$work/x.pid\"|; s|^ErrorLog .*|ErrorLog \"$work/x-error.log\"|" \
    "$work/httpd.conf" > "$work/x.conf"

declare -A path=(
    [module]=/plaid/link-token
    [proxy]=/proxy/link/token/create
    [static]=/static/token.json
)

# under TOOL... NAME PATH N: N POSTs on one connection to apache2 -X run
# under the tool (its output NAME.*), then the server stopped.
under() {
    local tool=() vg
    while [ "$1" != -- ]; do tool+=("$1"); shift; done
    shift
    rm -f "$work/x.pid"
    "${tool[@]}" /usr/sbin/apache2 -f "$work/x.conf" -X > "$work/cg/$1.log" 2>&1 &
    vg=$!
    for _ in $(seq 120); do
        # valgrind made the file as root; its dump at exit runs as www-data.
        chmod 666 "$work/cg/$1.out" 2>/dev/null || true
        [ -f "$work/x.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$xport/" && break
        sleep 0.5
    done
    python3 - "$xport" "$2" "$3" <<'PY'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
ok = 0
for _ in range(n):
    c.request('POST', path, body='{}', headers={
        'Content-Type': 'application/json', 'X-User': 'bench-user'})
    r = c.getresponse()
    r.read()
    ok += r.status == 200
if ok != n:
    sys.exit('profile: %d of %d answers were 200' % (ok, n))
PY
    kill -TERM "$(cat "$work/x.pid")"
    wait "$vg" || true
}

callgrind_run() {
    under valgrind --tool=callgrind --callgrind-out-file="$work/cg/$1.out" -- "$@"
    grep -q 'Collected' "$work/cg/$1.log" ||
        { cat "$work/cg/$1.log" >&2; exit 1; }
}

# strace_run NAME PATH N: the system calls, counted per name (NAME.sys).
strace_run() {
    under strace -f -c -o "$work/cg/$1.strace" -- "$@"
    # strace -c's rows: % time, seconds, usecs/call, calls, [errors,] name.
    awk 'NF >= 5 && $4 ~ /^[0-9]+$/ && $NF != "total" { print $NF "\t" $4 }' \
        "$work/cg/$1.strace" | sort > "$work/cg/$1.sys"
}

# functions OUT: "cost<TAB>function<TAB>object" per function (self cost).
functions() {
    callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null |
        awk '/^ *[0-9,]+ .*\[/ {
            c = $1; gsub(",", "", c)
            $1 = ""; sub(/^ *(\([ 0-9.%]*\))? */, "")
            obj = $0; sub(/.*\[/, "", obj); sub(/\]$/, "", obj)
            sub(/ \(.*$/, ""); sub(/ \[.*$/, "")
            n = split(obj, p, "/"); print c "\t" $0 "\t" p[n] }'
}

for t in $targets; do
    echo "profile: $t, $n1 and $n2 requests under callgrind" >&2
    callgrind_run "$t-$n1" "${path[$t]}" "$n1"
    callgrind_run "$t-$n2" "${path[$t]}" "$n2"
    # Per request: the difference of the two runs, per function.
    join -t $'\t' -a 2 -e 0 -o 0,1.2,2.2 \
        <(functions "$work/cg/$t-$n1.out" | awk -F'\t' '{ print $2 "|" $3 "\t" $1 }' | sort) \
        <(functions "$work/cg/$t-$n2.out" | awk -F'\t' '{ print $2 "|" $3 "\t" $1 }' | sort) |
        awk -F'\t' -v d=$((n2 - n1)) '{ printf "%s\t%.0f\n", $1, ($3 - $2) / d }' \
        > "$work/$t.per-request"
done

if [ "$syscalls" != 0 ]; then
    for t in $targets; do
        echo "profile: $t, $n1 and $n2 requests under strace" >&2
        strace_run "$t-$n1-s" "${path[$t]}" "$n1"
        strace_run "$t-$n2-s" "${path[$t]}" "$n2"
        join -t $'\t' -a 2 -e 0 -o 0,1.2,2.2 "$work/cg/$t-$n1-s.sys" "$work/cg/$t-$n2-s.sys" |
            awk -F'\t' -v d=$((n2 - n1)) '{ printf "%s\t%.2f\n", $1, ($3 - $2) / d }' |
            awk -F'\t' '$2 > 0.005' | sort -t $'\t' -k2,2nr > "$work/$t.syscalls"
    done
fi

total() { awk -F'\t' '{ s += $2 } END { printf "%.0f", s }' "$work/$1.per-request"; }
echo "## Instructions per request (callgrind, apache2 -X, $((n2 - n1)) requests)"
echo
echo "| target | instructions per request |"
echo "| --- | ---: |"
for t in $targets; do echo "| $t | $(total "$t") |"; done
if [ -f "$work/module.per-request" ]; then
    echo
    echo "### Per shared object"
    echo
    echo "| object | module | proxy |"
    echo "| --- | ---: | ---: |"
    for t in module proxy; do
        [ -f "$work/$t.per-request" ] || : > "$work/$t.per-request"
        awk -F'\t' '{ split($1, p, "|"); s[p[2]] += $2 } END { for (o in s) print o "\t" s[o] }' \
            "$work/$t.per-request" | sort > "$work/$t.per-object"
    done
    join -t $'\t' -a 1 -a 2 -e 0 -o 0,1.2,2.2 "$work/module.per-object" "$work/proxy.per-object" |
        sort -t $'\t' -k2,2nr | awk -F'\t' '$2 + $3 >= 500 { printf "| %s | %d | %d |\n", $1, $2, $3 }'
    echo
    echo "### The module's $top_n costliest functions (self cost per request)"
    echo
    echo "| function | object | module | proxy |"
    echo "| --- | --- | ---: | ---: |"
    join -t $'\t' -a 1 -e 0 -o 0,1.2,2.2 <(sort "$work/module.per-request") \
        <(sort "$work/proxy.per-request") | sort -t $'\t' -k2,2nr |
        awk -F'\t' -v n="$top_n" 'NR <= n { split($1, p, "|"); printf "| `%s` | %s | %d | %d |\n", p[1], p[2], $2, $3 }'
fi
if [ "$syscalls" != 0 ]; then
    echo
    echo "### System calls per request (strace -c, the same difference)"
    echo
    echo "| target | calls per request | the most frequent |"
    echo "| --- | ---: | --- |"
    for t in $targets; do
        echo "| $t | $(awk -F'\t' '{ s += $2 } END { printf "%.1f", s }' "$work/$t.syscalls") |" \
            "$(head -8 "$work/$t.syscalls" | awk -F'\t' '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }') |"
    done
fi
echo
echo "profile: callgrind files in $work/cg" >&2
