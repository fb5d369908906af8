#!/usr/bin/env bash
# The demo: builds the module, starts httpd on 127.0.0.1 with the example
# page, the link-token endpoint and the exchange (handing the Item to
# examples/app/plaid-item.cgi, which stores nothing), and prints a curl
# line that gets a link_token.
#   scripts/run.sh         start (or restart) the demo
#   scripts/run.sh stop    stop it
#
# The endpoint calls a Plaid emulator in the same httpd, unless Plaid API
# keys are given, as Plaid's quickstart takes them: PLAID_CLIENT_ID,
# PLAID_SECRET, PLAID_ENV (sandbox, the default), and optionally
# PLAID_PRODUCTS and PLAID_COUNTRY_CODES, from the environment or from a
# .env file at the top of the tree (the environment wins). Then it calls
# https://sandbox.plaid.com and the page opens real Plaid Link. Production
# keys also need PLAID_DEMO_ALLOW_PRODUCTION=1.
#
# It installs only what building and running need (scripts/deps.sh) and
# leaves the system's Apache as it is: httpd runs from demo-run/httpd.conf.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
run="$top/demo-run"
port=${PLAID_DEMO_PORT:-8080}
emu_port=${PLAID_DEMO_EMULATOR_PORT:-8443}
httpd=/usr/sbin/apache2

die() { echo "run.sh: $*" >&2; exit 1; }

if [ "${1:-}" = stop ]; then
    [ -f "$run/httpd.pid" ] && "$httpd" -f "$run/httpd.conf" -k stop || true
    # httpd read the secret at start-up; a stopped demo leaves none behind.
    rm -f "$run"/*.secret
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
load_env_file "$top/.env"

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

"$top/scripts/deps.sh"
make -s all >/dev/null

mkdir -p "$run"
. "$top/scripts/lib/demo-httpd.sh"
demo_files "$run"
rm -f "$run"/*.secret
emulator=
if [ -n "$client_id" ]; then
    [ "$env" = production ] && echo "run.sh: warning: the demo calls Plaid's production environment" >&2
    demo_secret "$run/plaid-$env.secret" "$secret"
    {
        demo_httpd_conf "$run" "$top"
        demo_site "$run" "$top" "$port" "$run/plaid-$env.secret" "$env" "$client_id"
    } > "$run/httpd.conf"
    upstream="Plaid's $env environment, https://$env.plaid.com, as client_id ...${client_id: -4}"
else
    demo_secret "$run/plaid-sandbox.secret" demo-sandbox-secret
    {
        demo_httpd_conf "$run" "$top"
        demo_emulator "$run" "$top" "$emu_port" demo-sandbox-secret
        demo_site "$run" "$top" "$port" "$run/plaid-sandbox.secret" sandbox \
            "$demo_emulator_client_id" "$emu_port"
    } > "$run/httpd.conf"
    upstream="the Plaid emulator on https://localhost:$emu_port (your own keys: see .env.example)"
    emulator="https://localhost:$emu_port"
fi
secret=

"$httpd" -t -f "$run/httpd.conf"
if [ -f "$run/httpd.pid" ] && kill -0 "$(cat "$run/httpd.pid")" 2>/dev/null; then
    "$httpd" -f "$run/httpd.conf" -k stop || true
    sleep 1
fi
"$httpd" -f "$run/httpd.conf" -k start || { tail -n 20 "$run/error_log"; exit 1; }
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done

cmd="curl -s -u demo:demo -X POST -H 'Content-Type: application/json' -d '{}' http://127.0.0.1:$port/plaid/link-token"
echo "httpd is running on http://127.0.0.1:$port; the endpoints call $upstream."
echo "Get a link_token:"
echo "  $cmd"
echo "Answer:"
answer=$(eval "$cmd")
echo "  $answer"
# With the emulator, what the page does next: Link turns the link_token
# into a public_token (the emulator's /link/complete stands for that), and
# the exchange hands the Item to the application, which answers the item_id.
if [ -n "$emulator" ] && [[ $answer =~ \"link_token\":\"([^\"]+)\" ]]; then
    public=$(curl -sk -X POST -H 'Content-Type: application/json' \
        -d "{\"link_token\":\"${BASH_REMATCH[1]}\"}" "$emulator/link/complete")
    if [[ $public =~ \"public_token\":\"([^\"]+)\" ]]; then
        echo "Link's public_token, exchanged (the page's onSuccess):"
        echo "  $(curl -s -u demo:demo -X POST -H 'Content-Type: application/json' \
            -d "{\"public_token\":\"${BASH_REMATCH[1]}\"}" "http://127.0.0.1:$port/plaid/exchange")"
    fi
fi
echo "Example page (user demo, password demo): http://127.0.0.1:$port/"
echo "Error log: $run/error_log    Stop: scripts/run.sh stop"
