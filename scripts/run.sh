#!/usr/bin/env bash
# The demo: builds the module and the Plaid emulator, starts httpd on
# 127.0.0.1 with both, and prints a curl line that gets a link_token.
#   scripts/run.sh         start (or restart) the demo
#   scripts/run.sh stop    stop it
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
run="$top/demo-run"
port=${PLAID_DEMO_PORT:-8080}
emu_port=${PLAID_DEMO_EMULATOR_PORT:-8443}
httpd=/usr/sbin/apache2

if [ "${1:-}" = stop ]; then
    [ -f "$run/httpd.pid" ] && "$httpd" -f "$run/httpd.conf" -k stop || true
    exit 0
fi

"$top/scripts/deps.sh"
make -s all >/dev/null

mkdir -p "$run"
. "$top/scripts/lib/demo-httpd.sh"
demo_files "$run" demo-sandbox-secret
{
    demo_httpd_conf "$run" "$top" "$emu_port" demo-sandbox-secret
    demo_site "$run" "$top" "$port" "$emu_port" "$run/plaid-sandbox.secret"
} > "$run/httpd.conf"

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
echo "httpd is running on http://127.0.0.1:$port (emulator on https://localhost:$emu_port)."
echo "Get a link_token:"
echo "  $cmd"
echo "Answer:"
echo "  $(eval "$cmd")"
echo "Example page (user demo, password demo): http://127.0.0.1:$port/"
echo "Error log: $run/error_log    Stop: scripts/run.sh stop"
