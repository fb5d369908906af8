#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The example page in a real browser: builds the module and the emulator,
# starts an httpd like scripts/run.sh's in a directory of its own, but under
# prefork with mod_php and the PHP application that stores Items in SQLite
# (examples/app/plaid-item.php) and shows their balances through the
# module's gateway (examples/app/plaid-balances.php), and lets
# tests/browser/link.test.js drive Debian's chromium (playwright-core)
# through examples/link.html:
#   - a vhost whose endpoints work: the click ends in Plaid.create({token});
#     Link's onSuccess (a stand-in that gets a public_token from the
#     emulator) leads to the exchange, the page shows the item_id the
#     application answered, and the database holds the Item; then the
#     page shows the Item's accounts and balances and lists it under
#     "Linked accounts" (the module keeps it: PlaidItemStore dbd, SQLite),
#     and no access_token reaches the browser or either database (the
#     application's holds item_ids); back from a bank's OAuth sign-in
#     (?oauth_state_id=), the page re-opens Link with the same token; an
#     Item the emulator's /sandbox/item/reset_login (asked through the
#     gateway by item_id) put into ITEM_LOGIN_REQUIRED gets the
#     customer's message and the status error:ITEM_LOGIN_REQUIRED;
#     "Linked accounts" shows it with "Fix", which finishes Link's update
#     mode and makes it good again (the module asks Plaid's /item/get),
#     its balances back; "Remove" removes it;
#   - a vhost whose endpoint has a wrong secret: the page shows a message
#     for the customer and, as the reference to quote to support, the
#     correlation id of the error log's PL0100 line;
#   - the demo itself, as scripts/run.sh starts it (event MPM, the CGI
#     application), in a directory of its own: with the emulator, the page
#     loads the emulator's Link, whose dialog says so, and finishes Link
#     offline, up to "Account linked" and the balances; with keys (made
#     up; the module's calls go to a closed port), the page asks for
#     Plaid's Link script instead (answered by the test, not loaded).
# Screenshots land in tests/browser/artifacts/. Installs what the tests
# need when it is missing (scripts/deps.sh --test: mod_php switches the
# system's Apache to prefork), chromium, node and the npm packages. Ends
# with "N passed, N failed".
# Ports (127.0.0.1): PLAID_BROWSER_PORT (19250, the working site),
# PLAID_BROWSER_BAD_PORT (19251, the failing one), PLAID_BROWSER_EMULATOR_PORT
# (19252); the demo's: PLAID_BROWSER_DEMO_PORT, PLAID_BROWSER_DEMO_EMULATOR_PORT
# and PLAID_BROWSER_DEMO_KEYS_PORT (PLAID_BROWSER_PORT + 3, + 4, + 5).
# PLAID_BROWSER_KEEP=1 keeps the run directory.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top" || exit 1
port=${PLAID_BROWSER_PORT:-19250}
bad_port=${PLAID_BROWSER_BAD_PORT:-19251}
emu_port=${PLAID_BROWSER_EMULATOR_PORT:-19252}
demo_port=${PLAID_BROWSER_DEMO_PORT:-$((port + 3))}
demo_emu_port=${PLAID_BROWSER_DEMO_EMULATOR_PORT:-$((port + 4))}
keys_port=${PLAID_BROWSER_DEMO_KEYS_PORT:-$((port + 5))}
httpd=/usr/sbin/apache2

fail_setup() {
    echo "test-browser: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

./scripts/deps.sh --test || fail_setup "deps failed"
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || fail_setup "needs root to install ${need[*]}"
    echo "test-browser: installing ${need[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${need[@]}" fonts-dejavu-core >/dev/null || fail_setup "apt-get install ${need[*]} failed"
fi
if [ ! -d tests/browser/node_modules/playwright-core ] \
   || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
    # playwright-core brings no browser; Debian's chromium is the one used.
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) \
        || fail_setup "npm ci in tests/browser failed"
fi

run=$(mktemp -d /tmp/plaid-browser.XXXXXX)
chmod 755 "$run"        # the children (user nobody) read htpasswd and the CA
db="$run/app/items.sqlite"
# scripts/run.sh in a directory of its own (DIR [VAR=VALUE...]): no .env,
# no keys but those given, no proxy but those given.
demo() {
    local dir=$1
    shift
    env -u PLAID_CLIENT_ID -u PLAID_SECRET -u PLAID_ENV -u PLAID_PRODUCTS \
        -u PLAID_COUNTRY_CODES -u https_proxy -u HTTPS_PROXY -u all_proxy \
        -u ALL_PROXY -u no_proxy -u NO_PROXY PLAID_DEMO_RUN_DIR="$dir" \
        PLAID_DEMO_ENV_FILE=/dev/null "$@" ./scripts/run.sh
}
cleanup() {
    [ -d "$run/demo" ] && PLAID_DEMO_RUN_DIR="$run/demo" ./scripts/run.sh stop
    [ -d "$run/demo-keys" ] && PLAID_DEMO_RUN_DIR="$run/demo-keys" ./scripts/run.sh stop
    [ -f "$run/httpd.pid" ] && "$httpd" -f "$run/httpd.conf" -k stop 2>/dev/null
    for _ in $(seq 50); do
        [ -f "$run/httpd.pid" ] || break
        sleep 0.1
    done
    if [ "${PLAID_BROWSER_KEEP:-0}" = 1 ]; then
        echo "# run directory kept: $run"
    else
        rm -rf "$run"
    fi
}
trap cleanup EXIT

make -s all >"$run/make.log" 2>&1 || { tail -n 30 "$run/make.log"; fail_setup "make failed"; }

. "$top/scripts/lib/demo-httpd.sh"
demo_files "$run"
# The emulator's secret.
emu_secret=browser-sandbox-secret
demo_secret "$run/plaid-sandbox.secret" "$emu_secret"
demo_secret "$run/wrong.secret" wrong-secret-for-browser-test
demo_app_dir "$run/app"
client_id=$demo_emulator_client_id
# Debian's mod_php runs under prefork only.
demo_mpm=prefork demo_app=php demo_app_db=$db
# The module's Items, one store for both sites, under a key of the run's.
demo_items_db="$run/app/plaid-items.db" demo_items_key="$run/plaid-items.key"
demo_item_key "$demo_items_key"
# The balances page's path, and Plaid's sandbox call the test makes by
# item_id.
demo_api_paths="/accounts/balance/get /sandbox/item/reset_login"
{
    demo_httpd_conf "$run" "$top"
    demo_emulator "$run" "$top" "$emu_port" "$emu_secret"
    # The working site, as scripts/run.sh serves it.
    demo_site "$run" "$top" "$port" "$run/plaid-sandbox.secret" sandbox "$client_id" "$emu_port"
    # The failing site: the same page, an endpoint with the wrong secret.
    demo_site "$run" "$top" "$bad_port" "$run/wrong.secret" sandbox "$client_id" "$emu_port"
} > "$run/httpd.conf"

"$httpd" -t -f "$run/httpd.conf" >/dev/null 2>&1 \
    || { "$httpd" -t -f "$run/httpd.conf"; fail_setup "httpd -t failed"; }
"$httpd" -f "$run/httpd.conf" -k start \
    || { tail -n 20 "$run/error_log"; fail_setup "httpd did not start"; }
up=0
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && curl -s -o /dev/null "http://127.0.0.1:$bad_port/" \
        && { up=1; break; }
    sleep 0.1
done
[ "$up" -eq 1 ] || { tail -n 20 "$run/error_log"; fail_setup "httpd does not answer"; }

demo "$run/demo" PLAID_DEMO_PORT="$demo_port" PLAID_DEMO_EMULATOR_PORT="$demo_emu_port" \
    >"$run/demo.out" 2>&1 || { cat "$run/demo.out"; fail_setup "scripts/run.sh failed"; }
# With made-up keys, whose calls to Plaid go to a closed port through the
# proxy the module follows (https_proxy): nothing leaves the machine.
demo "$run/demo-keys" PLAID_DEMO_PORT="$keys_port" PLAID_CLIENT_ID=0123456789abcdef01234567 \
    PLAID_SECRET=made-up-for-the-browser-test https_proxy=http://127.0.0.1:9 \
    >"$run/demo-keys.out" 2>&1 \
    || { cat "$run/demo-keys.out"; fail_setup "scripts/run.sh with keys failed"; }

rm -rf tests/browser/artifacts
PLAID_BROWSER_GOOD_URL="http://127.0.0.1:$port/" \
PLAID_BROWSER_BAD_URL="http://127.0.0.1:$bad_port/" \
PLAID_BROWSER_ERROR_LOG="$run/error_log" \
PLAID_BROWSER_EMULATOR_URL="https://localhost:$emu_port" \
PLAID_BROWSER_DB="$db" \
PLAID_BROWSER_ITEMS_DB="$demo_items_db" \
PLAID_BROWSER_DEMO_URL="http://127.0.0.1:$demo_port/" \
PLAID_BROWSER_DEMO_KEYS_URL="http://127.0.0.1:$keys_port/" \
PLAID_BROWSER_DEMO_ERROR_LOG="$run/demo/error_log" \
PLAID_BROWSER_USER=demo PLAID_BROWSER_PASSWORD=demo \
    node tests/browser/link.test.js
rc=$?
if [ $rc -ne 0 ]; then
    cp "$run/error_log" tests/browser/artifacts/error_log 2>/dev/null \
        && echo "# httpd's error log kept in tests/browser/artifacts/error_log"
fi
exit $rc
