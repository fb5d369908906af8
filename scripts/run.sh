#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo: builds the module, starts httpd on 127.0.0.1 with the example
# page and the module's handlers (the link-token endpoint, the exchange,
# which keeps the Item (PlaidItemStore dbd, SQLite, under a key made in
# demo-run/) and hands its item_id to examples/app/plaid-item.cgi, the
# user's Items (plaid-items), the ITEM webhooks, the gateway that
# examples/app/plaid-balances.cgi calls Plaid through by item_id, and the
# metrics), and prints the page's address and a curl line for each
# handler. The application holds no access_token.
#   scripts/run.sh         start (or restart) the demo
#   scripts/run.sh stop    stop it
#
# The endpoints call a Plaid emulator in the same httpd, and the page's
# Link is the emulator's (offline; no bank), unless Plaid API keys are
# given, as Plaid's quickstart takes them: PLAID_CLIENT_ID, PLAID_SECRET,
# PLAID_ENV (sandbox, the default), and optionally PLAID_PRODUCTS and
# PLAID_COUNTRY_CODES, from the environment or from a .env file at the top
# of the tree (the environment wins). Then it calls
# https://sandbox.plaid.com and the page opens real Plaid Link. Production
# keys also need PLAID_DEMO_ALLOW_PRODUCTION=1.
#
# It installs only what building and running need (scripts/deps.sh) and
# leaves the system's Apache as it is: httpd runs from demo-run/httpd.conf.
# The build's output goes to demo-run/run.log.
#
# PLAID_DEMO_PORT (8080) and PLAID_DEMO_EMULATOR_PORT (8443) change the
# ports; PLAID_DEMO_RUN_DIR (demo-run) and PLAID_DEMO_ENV_FILE (.env) the
# directory and the keys file, for tests that run a demo of their own.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
run=${PLAID_DEMO_RUN_DIR:-$top/demo-run}
port=${PLAID_DEMO_PORT:-8080}
emu_port=${PLAID_DEMO_EMULATOR_PORT:-8443}
httpd=/usr/sbin/apache2
log="$run/run.log"
# The module's Items (PlaidItemStore dbd): the key their access_tokens are
# sealed under (made here, mode 600) and the SQLite file.
items_key="$run/plaid-items.key"
items_db="$run/app/plaid-items.db"

die() { echo "run.sh: $*" >&2; exit 1; }

# httpd -k stop signals the parent, which removes its pid file as it ends.
stop_demo() {
    local pid
    if [ -f "$run/httpd.pid" ] && pid=$(cat "$run/httpd.pid") \
       && kill -0 "$pid" 2>/dev/null; then
        "$httpd" -f "$run/httpd.conf" -k stop 2>/dev/null || kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$run/httpd.pid"
    # httpd read the secret at start-up; a stopped demo leaves none behind,
    # nor the Items (whose access_tokens the emulator forgets as it stops
    # anyway): the module's store and its key, the application's item_ids.
    rm -f "$run"/*.secret "$items_key" "$items_db" "$items_db-journal" \
        "$run/app/items.jsonl"
}

if [ "${1:-}" = stop ]; then
    stop_demo
    exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [stop]" >&2; exit 2; }

# NAME=VALUE lines as in Plaid's quickstart (# comments, "export ",
# quotes). The file is read, not sourced, so nothing in it runs; a variable
# already set in the environment wins, as with dotenv.
load_env_file() {
    local file=$1 line name value
    [ -f "$file" ] || return 0
    if [ -n "$(find -L "$file" -perm /go=r)" ]; then
        echo "run.sh: warning: $file holds your Plaid secret and others can read it (chmod 600 $file)" >&2
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Z_]+)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
        name=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
        case $name in
            PLAID_CLIENT_ID|PLAID_SECRET|PLAID_ENV|PLAID_PRODUCTS|PLAID_COUNTRY_CODES) ;;
            *) continue ;;
        esac
        if [[ $value =~ ^\"([^\"]*)\"[[:space:]]*(#.*)?$ || $value =~ ^\'([^\']*)\'[[:space:]]*(#.*)?$ ]]; then
            value=${BASH_REMATCH[1]}
        else
            value=${value%%[[:space:]]#*}
            value=${value%"${value##*[![:space:]]}"}
        fi
        [ -n "${!name+set}" ] || printf -v "$name" '%s' "$value"
    done < "$file"
}
load_env_file "${PLAID_DEMO_ENV_FILE:-$top/.env}"

client_id=${PLAID_CLIENT_ID:-}
secret=${PLAID_SECRET:-}
env=${PLAID_ENV:-sandbox}
# httpd inherits this script's environment, and with it every CGI or PHP
# page it might run: the secret goes to a file, never there.
unset PLAID_SECRET

case $env in
    sandbox) ;;
    production)
        if [ -n "$client_id$secret" ] && [ "${PLAID_DEMO_ALLOW_PRODUCTION:-}" != 1 ]; then
            die "PLAID_ENV=production calls Plaid with real bank data (and may be billed); set PLAID_DEMO_ALLOW_PRODUCTION=1 to do so, or use your sandbox keys"
        fi ;;
    development)
        die "PLAID_ENV=development: Plaid retired the development environment; use sandbox (or production)" ;;
    *)
        die "PLAID_ENV=$env: use sandbox or production" ;;
esac

# The values below are written into httpd.conf: only what Plaid's own look
# like, so that none can add a line to it.
if [ -n "$client_id$secret" ]; then
    [ -n "$client_id" ] || die "PLAID_SECRET is set but PLAID_CLIENT_ID is not"
    [ -n "$secret" ] || die "PLAID_CLIENT_ID is set but PLAID_SECRET is not"
    [[ $client_id =~ ^[A-Za-z0-9]+$ ]] || die "PLAID_CLIENT_ID: letters and digits only (the client_id of https://dashboard.plaid.com/developers/keys)"
    [[ $secret =~ ^[[:graph:]]+$ ]] || die "PLAID_SECRET: no spaces or control characters"
fi
# The quickstart separates them with commas; httpd wants spaces.
list=${PLAID_PRODUCTS:-auth transactions}
read -ra words <<<"${list//,/ }"
demo_products=${words[*]}
list=${PLAID_COUNTRY_CODES:-US CA}
read -ra words <<<"${list//,/ }"
demo_country_codes=${words[*]}
[[ $demo_products =~ ^[a-z_]+( [a-z_]+)*$ ]] \
    || die "PLAID_PRODUCTS: product names separated by commas or spaces (auth,transactions)"
[[ $demo_country_codes =~ ^[A-Z]{2}( [A-Z]{2})*$ ]] \
    || die "PLAID_COUNTRY_CODES: two-letter codes separated by commas or spaces (US,CA)"

mkdir -p "$run"
# The children (user nobody) read htpasswd and the certificate in it.
chmod 755 "$run"
: > "$log"
echo "run.sh: building mod_plaid_link and the Plaid emulator (log: $log)"
if ! { "$top/scripts/deps.sh" && make all; } >>"$log" 2>&1; then
    echo "run.sh: the build failed; the end of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
fi

stop_demo
. "$top/scripts/lib/demo-httpd.sh"
demo_files "$run"
demo_app_dir "$run/app"
demo_app_db="$run/app/items.jsonl"     # stop_demo removes it
demo_items_db=$items_db demo_items_key=$items_key
demo_item_key "$items_key"
# The gateway's paths: the balances page's, those of the lines below, and
# Plaid's sandbox call that puts an Item into ITEM_LOGIN_REQUIRED (by
# item_id, as every call the gateway makes about an Item).
demo_api_paths="/accounts/balance/get /accounts/get /sandbox/public_token/create /sandbox/item/reset_login"
if [ -n "$client_id" ]; then
    [ "$env" = production ] && echo "run.sh: warning: the demo calls Plaid's production environment" >&2
    demo_secret "$run/plaid-$env.secret" "$secret"
    {
        demo_httpd_conf "$run" "$top"
        demo_site "$run" "$top" "$port" "$run/plaid-$env.secret" "$env" "$client_id"
    } > "$run/httpd.conf"
    upstream="Plaid's $env environment (https://$env.plaid.com) as client_id ...${client_id: -4}; the page opens Plaid Link"
else
    demo_secret "$run/plaid-sandbox.secret" demo-sandbox-secret
    {
        demo_httpd_conf "$run" "$top"
        demo_emulator "$run" "$top" "$emu_port" demo-sandbox-secret
        demo_link=emulated demo_site "$run" "$top" "$port" "$run/plaid-sandbox.secret" sandbox \
            "$demo_emulator_client_id" "$emu_port"
    } > "$run/httpd.conf"
    upstream="the Plaid emulator on https://localhost:$emu_port, offline; the page's Link is the emulator's (your own sandbox keys: see .env.example)"
    env=sandbox
fi
secret=

if ! "$httpd" -t -f "$run/httpd.conf" >>"$log" 2>&1; then
    echo "run.sh: httpd refused demo-run's configuration; the end of $log:" >&2
    tail -n 10 "$log" >&2
    exit 1
fi
if ! "$httpd" -f "$run/httpd.conf" -k start >>"$log" 2>&1; then
    echo "run.sh: httpd did not start; the end of $run/error_log:" >&2
    tail -n 20 "$run/error_log" >&2
    exit 1
fi
site="http://127.0.0.1:$port"
up=
for _ in $(seq 100); do
    curl -s -o /dev/null "$site/" && { up=1; break; }
    sleep 0.1
done
[ -n "$up" ] || { tail -n 20 "$run/error_log" >&2; die "httpd does not answer on $site"; }

# A JSON answer's string field, or a failure.
json_field() {
    [[ $2 =~ \"$1\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]] && printf '%s' "${BASH_REMATCH[1]}"
}

# Plaid's sandbox makes a public_token for one of its test banks without
# Link (/sandbox/public_token/create): the printed lines use that call.
sandbox_public_token_body="{\"institution_id\":\"ins_109508\",\"initial_products\":[\"${demo_products// /\",\"}\"]}"

# An Item of run.sh's own, linked for user demo as the page links one (a
# sandbox public_token, then the module's exchange, which keeps the Item
# and hands the application its item_id), so that the printed gateway line
# has an item_id to send. Only in the sandbox.
make_demo_item() {
    local answer public
    answer=$(curl -s --max-time 30 -H 'Content-Type: application/json' \
        -d "$sandbox_public_token_body" "$site/plaid-api/sandbox/public_token/create")
    public=$(json_field public_token "$answer") || { echo "$answer"; return 1; }
    answer=$(curl -s --max-time 30 -u demo:demo -H 'Content-Type: application/json' \
        -d "{\"public_token\":\"$public\",\"institution_id\":\"ins_109508\"}" "$site/plaid/exchange")
    json_field item_id "$answer" || { echo "$answer"; return 1; }
}

item_id=
if [ "$env" = sandbox ]; then
    if ! item_id=$(make_demo_item); then
        echo "run.sh: warning: no Item for the gateway's line: Plaid answered ${item_id:-nothing}" >&2
        item_id=
    fi
fi

# -w '\n': the module's answers end without a newline.
json='-H '\''Content-Type: application/json'\'
echo
echo "The demo's page: $site/  (user demo, password demo)"
echo "Plaid: $upstream."
echo
echo "Each handler with curl; paste the lines into bash, in this order:"
echo "  # plaid-link-token: a link_token for user demo, as the page's button gets one"
echo "  curl -s -w '\\n' -u demo:demo $json -d '{}' $site/plaid/link-token"
if [ "$env" = sandbox ]; then
    echo "  # a public_token, as Link gives one (Plaid's sandbox call, through the gateway)"
    echo "  pt=\$(curl -s $json -d '$sandbox_public_token_body' $site/plaid-api/sandbox/public_token/create | grep -o 'public-sandbox-[^\"]*')"
    echo "  # plaid-public-token-exchange: the module exchanges it, keeps the Item (PlaidItemStore) and hands its item_id to examples/app/plaid-item.cgi"
    echo "  curl -s -u demo:demo $json -d \"{\\\"public_token\\\":\\\"\$pt\\\"}\" $site/plaid/exchange"
fi
echo "  # plaid-items: user demo's Items, kept by the module (item_id, institution, status; never a token)"
echo "  curl -s -w '\\n' -u demo:demo -H 'X-Requested-With: fetch' $site/plaid/items"
echo "  # the application's balances page (examples/app/plaid-balances.cgi), which calls Plaid through the gateway by item_id"
echo "  curl -s -u demo:demo $site/balances"
if [ -n "$item_id" ]; then
    echo "  # plaid-api, the gateway (callers on this machine only): /accounts/get by the item_id of an Item run.sh linked"
    echo "  curl -s -w '\\n' $json -d '{\"item_id\":\"$item_id\"}' $site/plaid-api/accounts/get"
fi
echo "  # plaid-metrics: the module's counters (callers on this machine only)"
echo "  curl -s $site/plaid-metrics"
echo
echo "httpd's log: $run/error_log    Stop: ./scripts/run.sh stop"
