#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/transport.sh: the transport (src/plaid_http.c) alone, no httpd.
# Builds bench/transport.c against src/, starts the benchmark's TLS upstream
# (bench/run.sh serve), and prints calls/s and CPU µs per call at 1 and 8
# threads; with CALLGRIND=1 also the user-space instructions per call,
# which, unlike time, do not depend on what else the machine is doing.
# Each line is followed by bench/rawtls.c's: the same call over OpenSSL
# directly, without libcurl (a yardstick, not a transport of the module).
# Then bench/handle_rss.c: RSS per pooled handle, 64 of them, with a CA
# file and with the system's CAs.
#   BENCH_SECONDS (5), BENCH_THREADS ("1 8"); ports as bench/run.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/plaid-transport.XXXXXX)
chmod 755 "$work"   # httpd (www-data) walks the path down to its files
seconds=${BENCH_SECONDS:-5}
up_port=${BENCH_UPSTREAM_PORT:-19143}

"$top/scripts/deps.sh" >&2
# rawtls: the same call over OpenSSL directly, as a yardstick;
# handle_rss: what a pooled handle costs in RSS.
for prog in transport rawtls handle_rss; do
    cc -O2 -g -Wall -Wextra -Werror -I"$top/include" \
        $(apr-1-config --cflags --cppflags --includes) \
        -o "$work/$prog" "$top/bench/$prog.c" "$top"/src/*.c \
        $(apr-1-config --link-ld --libs) $(apu-1-config --link-ld) \
        -lcurl -ljansson -lssl -lcrypto
done

BENCH_DIR="$work/serve" "$top/bench/run.sh" serve 2> "$work/serve.log" &
serve=$!
trap 'kill $serve 2>/dev/null; wait $serve 2>/dev/null || true' EXIT
# run.sh builds the module first: give it time.
until grep -q 'bench: serving' "$work/serve.log" 2>/dev/null; do
    kill -0 $serve 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.5
done

url="https://localhost:$up_port/link/token/create"
ca="$work/serve/ca.crt"
for t in ${BENCH_THREADS:-1 8}; do
    "$work/transport" "$url" "$ca" "$t" "$seconds"
    "$work/rawtls" localhost "$up_port" "$ca" "$t" "$seconds"
done
# 64 handles, as in an event child: with the benchmark's CA file, and with
# the system's CAs (verification fails there, the store is built anyway).
"$work/handle_rss" "$url" "$ca" 64
"$work/handle_rss" "$url" system 64
if [ "${CALLGRIND:-0}" = 1 ]; then
    command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
    for prog in transport rawtls; do
        if [ $prog = transport ]; then args=("$url" "$ca" 1 "$seconds")
        else args=(localhost "$up_port" "$ca" 1 "$seconds"); fi
        out=$(valgrind --tool=callgrind --collect-atstart=no --toggle-collect=loop \
                  --callgrind-out-file="$work/callgrind-$prog.out" \
                  "$work/$prog" "${args[@]}" 2>&1)
        echo "$out" | awk -v prog=$prog '/calls=/ { for (i = 1; i <= NF; i++) if ($i ~ /^calls=/) { split($i, a, "="); n = a[2] } }
            /Collected/ { ir = $NF; gsub(",", "", ir) }
            END { printf "callgrind %s: %.0f user-space instructions per call (%d calls)\n", prog, ir / n, n }'
        echo "callgrind_annotate --inclusive=yes $work/callgrind-$prog.out"
    done
fi
