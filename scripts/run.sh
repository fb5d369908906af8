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
mods=/usr/lib/apache2/modules

if [ "${1:-}" = stop ]; then
    [ -f "$run/httpd.pid" ] && "$httpd" -f "$run/httpd.conf" -k stop || true
    exit 0
fi

"$top/scripts/deps.sh"
make -s all >/dev/null

mkdir -p "$run"
if [ ! -f "$run/server.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost" \
        -keyout "$run/server.key" -out "$run/server.crt" 2>/dev/null
fi
printf 'demo-sandbox-secret\n' > "$run/plaid-sandbox.secret"
chmod 600 "$run/plaid-sandbox.secret"
htpasswd -bc "$run/htpasswd" demo demo 2>/dev/null
chmod 644 "$run/htpasswd"

cat > "$run/httpd.conf" <<CONF
ServerRoot "$run"
ServerName localhost
PidFile "$run/httpd.pid"
ErrorLog "$run/error_log"
LogLevel info plaid_link:debug
User nobody
Group nogroup
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authn_file_module $mods/mod_authn_file.so
LoadModule auth_basic_module $mods/mod_auth_basic.so
LoadModule dir_module $mods/mod_dir.so
LoadModule mime_module $mods/mod_mime.so
TypesConfig /etc/mime.types
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule plaid_emulator_module "$top/emulator/.libs/mod_plaid_emulator.so"
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"

Listen 127.0.0.1:$emu_port
Listen 127.0.0.1:$port

# The Plaid emulator, standing in for https://sandbox.plaid.com.
<VirtualHost 127.0.0.1:$emu_port>
    SSLEngine on
    SSLCertificateFile "$run/server.crt"
    SSLCertificateKeyFile "$run/server.key"
    <Location "/">
        SetHandler plaid-emulator
        PlaidEmulatorEnv sandbox
        PlaidEmulatorCredentials 0123456789abcdef01234567 demo-sandbox-secret
    </Location>
</VirtualHost>

# The site: what an admin writes.
<VirtualHost 127.0.0.1:$port>
    # The example page (examples/link.html) at /, behind the same basic auth.
    DocumentRoot "$top/examples"
    DirectoryIndex link.html
    <Directory "$top/examples">
        AuthType Basic
        AuthName "mod_plaid_link demo"
        AuthUserFile "$run/htpasswd"
        Require valid-user
    </Directory>

    <Location "/plaid/link-token">
        SetHandler plaid-link-token
        PlaidEnv          sandbox
        PlaidBaseURL      https://localhost:$emu_port
        PlaidCACertificate "$run/server.crt"
        PlaidClientId     0123456789abcdef01234567
        PlaidSecret       file:$run/plaid-sandbox.secret
        PlaidClientName   "mod_plaid_link demo"
        PlaidLanguage     en
        PlaidCountryCodes US CA
        PlaidProducts     auth transactions

        AuthType Basic
        AuthName "mod_plaid_link demo"
        AuthUserFile "$run/htpasswd"
        Require valid-user
    </Location>
</VirtualHost>
CONF

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
