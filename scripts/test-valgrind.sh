#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Apache::Test suite with httpd under valgrind, in one process (-X).
#
#   scripts/test-valgrind.sh            event MPM (the default)
#   TEST_MPM=worker scripts/test-valgrind.sh
#
# The module calls the Plaid emulator hosted in the same httpd, so a single
# process must serve both sides: a threaded MPM does (under -X it still runs
# one process with ThreadsPerChild threads); prefork cannot, it would wait
# for itself. t/graceful.t and t/webhook_restart.t are left out: under -X
# httpd ignores SIGUSR1.
#
# Passes when valgrind reports no error (invalid read/write, use of an
# uninitialised value, bad free...) and no definitely lost block, with
# scripts/valgrind.supp silencing what httpd, APR, OpenSSL and libcurl keep
# until exit by design; and when the suite itself passes. The valgrind log
# is kept in build/valgrind.log.
set -uo pipefail

# Apache::Test runs "$httpd -X -d t -f t/conf/httpd.conf ..." with this very
# script as httpd: start apache2 under valgrind, ask it anything else plain.
if [ -n "${PLAID_VALGRIND_LOG:-}" ]; then
    for a in "$@"; do
        case $a in -V|-v|-l|-L|-M|-S|-t|-T) exec /usr/sbin/apache2 "$@" ;; esac
    done
    exec valgrind --log-file="$PLAID_VALGRIND_LOG" \
        --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --num-callers=30 \
        --suppressions="$PLAID_VALGRIND_SUPP" --gen-suppressions=all \
        --keep-debuginfo=yes --vgdb=no \
        /usr/sbin/apache2 "$@"
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

# Apache::Test and valgrind are among the test packages.
./scripts/deps.sh --test || exit 1
make -s all >/dev/null || exit 1

export TEST_MPM=${TEST_MPM:-event}
if [ "$TEST_MPM" = prefork ]; then
    echo "test-valgrind: prefork cannot serve the emulator from one process" >&2
    exit 2
fi
mkdir -p build
log=$root/build/valgrind.log
export PLAID_VALGRIND_LOG=$log PLAID_VALGRIND_SUPP=$root/scripts/valgrind.supp
# valgrind is slow to start httpd and slower to answer: a TLS handshake
# between the module and the emulator, both under valgrind, can outlast the
# suite's usual 2 s connect timeout.
export PLAID_TEST_TIMEOUT=${PLAID_TEST_TIMEOUT:-"15 30"}
export APACHE_TEST_STARTUP_TIMEOUT=${APACHE_TEST_STARTUP_TIMEOUT:-180}

tests=()
for t in t/*.t; do
    case $t in
        # Under -X httpd ignores SIGUSR1, and these restart it.
        t/graceful.t|t/webhook_restart.t) ;;
        *) tests+=("$t") ;;
    esac
done

perl t/TEST -clean >/dev/null 2>&1
rm -f "$log"
perl t/TEST -one-process -httpd "$root/scripts/test-valgrind.sh" "${tests[@]}"
suite=$?

# t/TEST returns once the port is closed; valgrind then checks for leaks.
for _ in $(seq 120); do
    grep -q 'ERROR SUMMARY' "$log" 2>/dev/null && break
    sleep 1
done
[ "$suite" -eq 0 ] && perl t/TEST -clean >/dev/null 2>&1

echo
echo "=== valgrind: $log"
sed -n '/HEAP SUMMARY/,$p' "$log"
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
if [ -z "$errors" ]; then
    echo "test-valgrind: no ERROR SUMMARY in $log (httpd did not exit cleanly)"
    exit 1
fi
if [ "$errors" != 0 ]; then
    echo "test-valgrind: valgrind found $errors errors: see $log"
    exit 1
fi
[ "$suite" -eq 0 ] || { echo "test-valgrind: the suite failed under valgrind"; exit 1; }
echo "test-valgrind: no errors, no definite leaks; the suite passed"
