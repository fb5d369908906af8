#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo as a newcomer meets it: scripts/run.sh, in a directory of its
# own, with the emulator (no keys, whatever .env says), after a change to
# a source file so that it compiles:
#   - it prints no compiler line (the build's output goes to its log);
#   - every curl line it prints works as printed: the lines are taken
#     from its output and run, in order, in one bash, each answer checked;
#   - the application's store holds item_ids, never an access_token, nor
#     does the module's SQLite file (PlaidItemStore dbd) in clear;
#   - scripts/run.sh stop stops it, and leaves no secret or Item (the
#     module's store, its key and the application's store).
# Ports (127.0.0.1): PLAID_DEMO_PORT (19256) and PLAID_DEMO_EMULATOR_PORT
# (19257). Ends with "N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top" || exit 1
port=${PLAID_DEMO_PORT:-19256}
emu_port=${PLAID_DEMO_EMULATOR_PORT:-19257}

passed=0
failed=0
# check NAME DETAIL COMMAND...: ok when COMMAND succeeds, else DETAIL too.
check() {
    local name=$1 detail=$2
    shift 2
    if "$@"; then
        passed=$((passed + 1))
        echo "ok - $name"
    else
        failed=$((failed + 1))
        echo "not ok - $name"
        [ -z "$detail" ] || printf '%s\n' "$detail" | sed 's/^/#   /'
    fi
}
has() { grep -qF -- "$2" <<<"$1"; }

run=$(mktemp -d /tmp/plaid-demo.XXXXXX)
demo() {
    env -u PLAID_CLIENT_ID -u PLAID_SECRET -u PLAID_ENV -u PLAID_PRODUCTS \
        -u PLAID_COUNTRY_CODES PLAID_DEMO_RUN_DIR="$run" PLAID_DEMO_ENV_FILE=/dev/null \
        PLAID_DEMO_PORT="$port" PLAID_DEMO_EMULATOR_PORT="$emu_port" ./scripts/run.sh "$@"
}
cleanup() {
    demo stop >/dev/null 2>&1
    rm -rf "$run"
}
trap cleanup EXIT

# A changed source: make compiles it, into the log only.
touch mod_plaid_link.c
out=$(demo 2>&1)
rc=$?
check "run.sh starts the demo" "$out" [ $rc -eq 0 ]
compiler=$(grep -E '(^|[ /])(cc|gcc|x86_64-linux-gnu-gcc|libtool|apxs|ar)( |:)|warning:|Syntax OK|^make' <<<"$out")
check "it prints no compiler or make line" "$compiler" [ -z "$compiler" ]
check "the build's output is in its log" "$(tail -n 5 "$run/run.log" 2>/dev/null)" \
    grep -q "mod_plaid_link.c" "$run/run.log"
check "it prints the page's address and login" "$out" \
    has "$out" "http://127.0.0.1:$port/  (user demo, password demo)"

# The lines to paste: indented, not comments. Each runs as printed, in one
# shell, so that a variable one sets is there for the next.
mapfile -t lines < <(sed -n 's/^  \([^ #].*\)$/\1/p' <<<"$out")
check "it prints seven lines to paste" "$(printf '%s\n' "${lines[@]}")" [ ${#lines[@]} -eq 7 ]

# What each handler's answer must hold, by the URL the line asks.
expect() {
    case $1 in
        */plaid/link-token) echo '"link_token":"link-sandbox-' ;;
        */plaid/exchange) echo '"item_id":"' ;;
        */plaid/items) echo '"status":"good"' ;;
        */balances) echo '"name":"Plaid Checking"' ;;
        */plaid-api/accounts/get) echo '"accounts":[{' ;;
        */plaid-metrics) echo 'plaid_link_requests_total{' ;;
    esac
}
site="http://127.0.0.1:$port"
for line in "${lines[@]}"; do
    url=$(grep -oE "$site/[^ ]*" <<<"$line" | tail -n 1)
    url=${url%%[^A-Za-z0-9/:._-]*}
    path=${url#"$site"}
    if [[ $line =~ ^([a-z_]+)=\$\(curl\  ]]; then
        var=${BASH_REMATCH[1]}
        eval "$line"
        check "$var=\$(curl ... $path) sets \$$var" "$line" [ -n "${!var}" ]
        continue
    fi
    want=$(expect "$url")
    if [[ $line != curl\ * ]] || [ -z "$want" ]; then
        check "a line this test knows: $line" "add its URL to expect() in $0" false
        continue
    fi
    answer=$(eval "$line" 2>&1) && has "$answer" "$want"
    works=$?
    check "curl ... $path works as printed" "$line"$'\n'"-> $answer" [ "$works" = 0 ]
    check "... and its answer holds no access_token" "$answer" \
        [ "$(grep -c "access-sandbox-" <<<"$answer")" = 0 ]
done

# The module keeps the Items: the application's store and the module's
# hold item_ids, and no access_token (the module's only sealed).
stored=$(cat "$run/app/items.jsonl" 2>/dev/null)
check "the application's store holds item_ids" "$stored" has "$stored" '"item_id":"'
check "and no access_token" "$stored" [ "$(grep -c "access" <<<"$stored")" = 0 ]
check "nor does the module's SQLite file" "" \
    eval '[ -s "$run/app/plaid-items.db" ] && ! grep -q "access-sandbox-" "$run/app/plaid-items.db"'
key_mode=$(stat -c %a "$run/plaid-items.key" 2>/dev/null)
check "PlaidItemKey's file is mode 600" "$key_mode" [ "$key_mode" = 600 ]

pid=$(cat "$run/httpd.pid" 2>/dev/null)
stop_out=$(demo stop 2>&1)
stopped=1
{ [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && ! curl -s -o /dev/null "$site/"; } || stopped=0
check "run.sh stop stops httpd" "$stop_out" [ $stopped = 1 ]
left=$(ls "$run"/*.secret "$run/plaid-items.key" "$run/app/plaid-items.db" \
    "$run/app/items.jsonl" 2>/dev/null)
check "and leaves no secret and no Item (the module's store and its key, the application's)" \
    "$left" [ -z "$left" ]
leaked=$(grep -c "access-sandbox-" "$run/error_log")
check "the error log holds no access_token" "$leaked lines" [ "$leaked" = 0 ]

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
