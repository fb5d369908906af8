#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one command that proves mod_plaid_link works: installs what a fresh
# Debian 12 machine lacks, builds with warnings as errors, runs the unit
# tests, then the Apache::Test suite against the real httpd under each MPM.
# For a development or CI machine: the test packages change the system's
# Apache (scripts/deps.sh --test says how).
# Ends with "N passed, N failed" (N counts steps) and exits non-zero when
# any step failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

passed=0
failed=0
failed_steps=()

step() {
    local name=$1; shift
    echo
    echo "=== $name: $*"
    if "$@"; then
        echo "=== $name: ok"
        passed=$((passed + 1))
        return 0
    fi
    echo "=== $name: FAILED"
    failed=$((failed + 1))
    failed_steps+=("$name")
    return 1
}

skip() {
    echo "=== $1: not run ($2)"
    failed=$((failed + 1))
    failed_steps+=("$1")
}

finish() {
    echo
    [ ${#failed_steps[@]} -eq 0 ] || echo "failed: ${failed_steps[*]}"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

# httpd drops to nobody; it must be able to reach t/ (AH00035 otherwise).
d=$root
while [ "$d" != / ]; do
    if [ "$(( 0$(stat -c %a "$d") & 1 ))" -eq 0 ]; then
        echo "warning: $d lacks o+x; httpd (user nobody) cannot read t/htdocs" >&2
    fi
    d=$(dirname "$d")
done

mpm_run() {
    rm -rf "t/logs.$1"
    perl t/TEST -clean >/dev/null 2>&1
    TEST_MPM=$1 perl t/TEST
    local rc=$?
    # Keep the logs of a failed run for a look; clean otherwise.
    if [ $rc -eq 0 ]; then
        perl t/TEST -clean >/dev/null 2>&1
    else
        cp -r t/logs "t/logs.$1" 2>/dev/null
        echo "(logs of the $1 run kept in t/logs.$1)"
    fi
    return $rc
}

if ! step deps ./scripts/deps.sh --test; then
    skip build "deps failed"; skip unit "deps failed"
    for mpm in event prefork worker; do skip "apache-test-$mpm" "deps failed"; done
    finish
fi

if ! step build make clean all; then
    skip unit "build failed"
    for mpm in event prefork worker; do skip "apache-test-$mpm" "build failed"; done
    finish
fi

step unit make unit

for mpm in event prefork worker; do
    step "apache-test-$mpm" mpm_run "$mpm"
done

step unit-asan make unit-asan
step fuzz-replay make fuzz-replay
step valgrind ./scripts/test-valgrind.sh
step package ./scripts/test-package.sh
step demo ./scripts/test-demo.sh
step browser ./scripts/test-browser.sh

finish
