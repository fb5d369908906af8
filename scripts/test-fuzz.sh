#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target in fuzz/ for a while, from its seed corpus in
# fuzz/corpus/<target>/, and prints the executions each made. Not part of
# ./scripts/test.sh (that replays the seeds: `make fuzz-replay`).
#
#   scripts/test-fuzz.sh                 every target, 300 s each
#   FUZZ_SECONDS=60 scripts/test-fuzz.sh answer extra
#   FUZZ_JOBS=2                          targets run side by side (default: cores)
#   FUZZ_MERGE=1                         add inputs with new coverage to fuzz/corpus/
#
# Work files go to build/fuzz-run/<target>/ (grown corpus, crash-*, log).
# Exits non-zero when a target found a crash, a leak, a sanitizer report or
# a broken FUZZ_CHECK; the reproducer is build/fuzz-run/<target>/crash-*.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${FUZZ_SECONDS:-300}
jobs=${FUZZ_JOBS:-$(nproc)}

need=()
for p in clang-14 libclang-rt-14-dev libapr1-dev libaprutil1-dev \
         libcurl4-openssl-dev libjansson-dev make; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] \
        || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "test-fuzz: installing ${need[*]}"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${need[@]}" || exit 1
fi

make -s fuzz || exit 1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz/fuzz_*.c; do t=${f#fuzz/fuzz_}; targets+=("${t%.c}"); done
fi

run_one() {
    local t=$1 dir=build/fuzz-run/$1 dict=()
    rm -rf "$dir"; mkdir -p "$dir/corpus"
    case $t in answer|extra) dict=(-dict=fuzz/json.dict) ;; esac
    # The grown corpus is a scratch copy: fuzz/corpus/ changes only by merge.
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "build/fuzz/$t" "$dir/corpus" "fuzz/corpus/$t" "${dict[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/" >"$dir/log" 2>&1
    echo $? >"$dir/rc"
}

running=0
for t in "${targets[@]}"; do
    [ -f "fuzz/fuzz_$t.c" ] || { echo "test-fuzz: no target $t" >&2; exit 2; }
    echo "test-fuzz: $t for ${seconds}s"
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

bad=0
printf '\n%-10s %14s %10s %8s  %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
    dir=build/fuzz-run/$t
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
    size=$(find "$dir/corpus" -type f | wc -l)
    if [ "$(cat "$dir/rc")" = 0 ] && ! ls "$dir"/crash-* "$dir"/leak-* \
            "$dir"/timeout-* "$dir"/oom-* >/dev/null 2>&1; then
        result="no finding"
    else
        result="FINDING: see $dir/log and $(ls "$dir"/crash-* "$dir"/leak-* \
            "$dir"/timeout-* "$dir"/oom-* 2>/dev/null | tr '\n' ' ')"
        bad=1
    fi
    printf '%-10s %14s %10s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$size" "$result"
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        # Only inputs that reach coverage the checked-in seeds miss.
        "build/fuzz/$t" -merge=1 "fuzz/corpus/$t" "$dir/corpus" \
            >"$dir/merge.log" 2>&1
        echo "           merged: $(grep -o 'added [0-9]* new units' "$dir/merge.log")"
    fi
done
exit $bad
