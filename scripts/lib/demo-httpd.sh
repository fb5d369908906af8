# Sourced by scripts/run.sh and scripts/test-browser.sh: one httpd on
# 127.0.0.1 with the Plaid emulator (TLS) and the example site, so that the
# demo and the browser test serve the same thing.
#
#   demo_files RUN SECRET            certificate, secret file, htpasswd
#   demo_httpd_conf RUN TOP EMU_PORT SECRET
#                                    the server and the emulator's vhost
#   demo_site RUN TOP PORT EMU_PORT SECRET_FILE
#                                    the page and the endpoint, behind
#                                    basic auth (demo / demo)

demo_mods=/usr/lib/apache2/modules

demo_files() {
    local run=$1 secret=$2
    if [ ! -f "$run/server.crt" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
            -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
            -keyout "$run/server.key" -out "$run/server.crt" 2>/dev/null
    fi
    printf '%s\n' "$secret" > "$run/plaid-sandbox.secret"
    chmod 600 "$run/plaid-sandbox.secret"
    htpasswd -bc "$run/htpasswd" demo demo 2>/dev/null
    # The children (user nobody) read these.
    chmod 644 "$run/htpasswd" "$run/server.crt"
}

demo_httpd_conf() {
    local run=$1 top=$2 emu_port=$3 secret=$4
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
LoadModule socache_shmcb_module $demo_mods/mod_socache_shmcb.so
LoadModule ssl_module $demo_mods/mod_ssl.so
LoadModule plaid_emulator_module "$top/emulator/.libs/mod_plaid_emulator.so"
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"

# The Plaid emulator, standing in for https://sandbox.plaid.com.
Listen 127.0.0.1:$emu_port
<VirtualHost 127.0.0.1:$emu_port>
    SSLEngine on
    SSLCertificateFile "$run/server.crt"
    SSLCertificateKeyFile "$run/server.key"
    <Location "/">
        SetHandler plaid-emulator
        PlaidEmulatorEnv sandbox
        PlaidEmulatorCredentials 0123456789abcdef01234567 $secret
    </Location>
</VirtualHost>
CONF
}

demo_site() {
    local run=$1 top=$2 port=$3 emu_port=$4 secret_file=$5
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
        PlaidEnv           sandbox
        PlaidBaseURL       https://localhost:$emu_port
        PlaidCACertificate "$run/server.crt"
        PlaidClientId      0123456789abcdef01234567
        PlaidSecret        file:$secret_file
        PlaidClientName    "mod_plaid_link demo"
        PlaidLanguage      en
        PlaidCountryCodes  US CA
        PlaidProducts      auth transactions
    </Location>
</VirtualHost>
SITE
}
