# shellcheck shell=bash
# Sourced by scripts/run.sh and scripts/test-browser.sh: one httpd on
# 127.0.0.1 with the example site, and the Plaid emulator (TLS) when the
# endpoint does not call Plaid itself, so that the demo and the browser test
# serve the same thing.
#
#   demo_files RUN                   certificate, htpasswd
#   demo_secret FILE SECRET          the secret in FILE, mode 600
#   demo_httpd_conf RUN TOP          the server (modules, logs)
#   demo_emulator RUN TOP EMU_PORT SECRET
#                                    the emulator's vhost, standing in for
#                                    https://sandbox.plaid.com
#   demo_site RUN TOP PORT SECRET_FILE ENV CLIENT_ID [EMU_PORT]
#                                    the page and the endpoint, behind
#                                    basic auth (demo / demo); the endpoint
#                                    calls the emulator on EMU_PORT, or
#                                    without it Plaid's ENV host (system CAs)
#
# demo_products and demo_country_codes, when set, replace the endpoint's
# PlaidProducts (auth transactions) and PlaidCountryCodes (US CA).

demo_mods=/usr/lib/apache2/modules
# The client id the emulator accepts (with the SECRET given to demo_emulator).
demo_emulator_client_id=0123456789abcdef01234567

demo_files() {
    local run=$1
    if [ ! -f "$run/server.crt" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
            -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
            -keyout "$run/server.key" -out "$run/server.crt" 2>/dev/null
    fi
    htpasswd -bc "$run/htpasswd" demo demo 2>/dev/null
    # The children (user nobody) read these.
    chmod 644 "$run/htpasswd" "$run/server.crt"
}

demo_secret() {
    local file=$1 secret=$2
    # Created under umask 077, so never readable by others even for a
    # moment (an existing file would keep its mode: removed first). printf
    # is a builtin: the secret is on no command line that ps shows.
    (umask 077 && rm -f "$file" && printf '%s\n' "$secret" > "$file")
}

demo_httpd_conf() {
    local run=$1 top=$2
    cat <<CONF
ServerRoot "$run"
ServerName localhost
PidFile "$run/httpd.pid"
ErrorLog "$run/error_log"
LogLevel info plaid_link:debug
User nobody
Group nogroup
LoadModule mpm_event_module $demo_mods/mod_mpm_event.so
LoadModule authz_core_module $demo_mods/mod_authz_core.so
LoadModule authz_user_module $demo_mods/mod_authz_user.so
LoadModule authn_core_module $demo_mods/mod_authn_core.so
LoadModule authn_file_module $demo_mods/mod_authn_file.so
LoadModule auth_basic_module $demo_mods/mod_auth_basic.so
LoadModule dir_module $demo_mods/mod_dir.so
LoadModule mime_module $demo_mods/mod_mime.so
TypesConfig /etc/mime.types
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"
CONF
}

demo_emulator() {
    local run=$1 top=$2 emu_port=$3 secret=$4
    cat <<CONF

# The Plaid emulator, standing in for https://sandbox.plaid.com.
LoadModule socache_shmcb_module $demo_mods/mod_socache_shmcb.so
LoadModule ssl_module $demo_mods/mod_ssl.so
LoadModule plaid_emulator_module "$top/emulator/.libs/mod_plaid_emulator.so"
Listen 127.0.0.1:$emu_port
<VirtualHost 127.0.0.1:$emu_port>
    SSLEngine on
    SSLCertificateFile "$run/server.crt"
    SSLCertificateKeyFile "$run/server.key"
    <Location "/">
        SetHandler plaid-emulator
        PlaidEmulatorEnv sandbox
        PlaidEmulatorCredentials $demo_emulator_client_id $secret
    </Location>
</VirtualHost>
CONF
}

demo_site() {
    local run=$1 top=$2 port=$3 secret_file=$4 env=$5 client_id=$6 emu_port=${7:-}
    local upstream
    if [ -n "$emu_port" ]; then
        upstream="PlaidBaseURL       https://localhost:$emu_port
        PlaidCACertificate \"$run/server.crt\""
    else
        upstream="# https://$env.plaid.com, verified with the system's CAs."
    fi
    cat <<SITE

# The site: the example page (examples/link.html) at /, and the endpoint
# as an admin writes it, both behind basic auth.
Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    DocumentRoot "$top/examples"
    DirectoryIndex link.html
    <Directory "$top/examples">
        Require all granted
    </Directory>
    <Location "/">
        AuthType Basic
        AuthName "mod_plaid_link demo"
        AuthUserFile "$run/htpasswd"
        Require valid-user
    </Location>
    <Location "/plaid/link-token">
        SetHandler plaid-link-token
        PlaidEnv           $env
        $upstream
        PlaidClientId      $client_id
        PlaidSecret        file:$secret_file
        PlaidClientName    "mod_plaid_link demo"
        PlaidLanguage      en
        PlaidCountryCodes  ${demo_country_codes:-US CA}
        PlaidProducts      ${demo_products:-auth transactions}
    </Location>
</VirtualHost>
SITE
}
