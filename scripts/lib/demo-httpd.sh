# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Sourced by scripts/run.sh and scripts/test-browser.sh: one httpd on
# 127.0.0.1 with the example site, and the Plaid emulator (TLS) when the
# endpoints do not call Plaid itself, so that the demo and the browser test
# serve the same thing.
#
#   demo_files RUN                   certificate, htpasswd
#   demo_secret FILE SECRET          the secret in FILE, mode 600
#   demo_app_dir DIR                 a directory the children (user nobody)
#                                    may write, for the application's
#                                    database and the module's Items
#   demo_item_key FILE               PlaidItemKey's file (64 hex digits,
#                                    mode 600), made when missing
#   demo_httpd_conf RUN TOP          the server (MPM, modules, logs)
#   demo_emulator RUN TOP EMU_PORT SECRET
#                                    the emulator's vhost, standing in for
#                                    https://sandbox.plaid.com
#   demo_site RUN TOP PORT SECRET_FILE ENV CLIENT_ID [EMU_PORT]
#                                    the page, the link-token endpoint, the
#                                    exchange (the module keeps the Items:
#                                    PlaidItemStore dbd, SQLite), the
#                                    user's Items (plaid-items), the ITEM
#                                    webhooks, and the application behind
#                                    the exchange's hand-off with its
#                                    balances page, the
#                                    gateway that page calls Plaid through
#                                    (loopback only) and the metrics
#                                    (loopback only); all else behind basic
#                                    auth (demo / demo). The endpoints call
#                                    the emulator on EMU_PORT, or without it
#                                    Plaid's ENV host (system CAs)
#
# Set before calling, when the defaults do not do:
#   demo_mpm            event (default), worker or prefork
#   demo_app            the application behind PlaidExchangeHandoff and
#                       its balances page (/balances):
#                       cgi (default): examples/app/plaid-item.cgi and
#                         plaid-balances.cgi, Perl with its core modules
#                         (Debian's apache2 depends on perl): no package
#                         beyond apache2;
#                       php: examples/app/plaid-item.php and
#                         plaid-balances.php; needs prefork,
#                         libapache2-mod-php8.2 and php8.2-sqlite3
#   demo_app_db         the application's database (outside the document
#                       root, in a directory from demo_app_dir): SQLite
#                       with php, a file of JSON lines with cgi; item_ids
#                       and users only, never an access_token
#   demo_items_db       the module's Items (PlaidItemStore dbd): an SQLite
#                       file in a directory from demo_app_dir (SQLite
#                       writes its journal beside it)
#   demo_items_key      PlaidItemKey's file (demo_item_key)
#   demo_link           plaid (default): the page loads Plaid's Link
#                       script; emulated (with EMU_PORT): the emulator's
#                       (emulator/link-initialize.js), which finishes Link
#                       offline
#   demo_api_paths      the gateway's PlaidApiPaths (/accounts/balance/get)
#   demo_products, demo_country_codes
#                       the link-token endpoint's PlaidProducts (auth
#                       transactions) and PlaidCountryCodes (US CA)

demo_mods=/usr/lib/apache2/modules
# The client id the emulator accepts (with the SECRET given to demo_emulator).
demo_emulator_client_id=0123456789abcdef01234567
# Where the exchange hands the Item over: a URL-path of its own (a browser
# that asks for it gets 404 from the module), mapped to the application.
demo_handoff=/plaid/item
# Where the webhook endpoint hands a verified webhook over, the same way.
demo_webhook_handoff=/plaid/app-webhook
# What the page fetches after a link (link.html's data-balances): the
# application's balances page.
demo_balances=/balances
# The script examples/link.html loads, which the emulated Link replaces.
demo_plaid_link_js=https://cdn.plaid.com/link/v2/stable/link-initialize.js

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

demo_item_key() {
    local file=$1
    # The key the module seals the access_tokens under: made once, kept
    # with the Items it opens, and never on a command line.
    [ -s "$file" ] || (umask 077 && openssl rand -hex 32 > "$file")
    chmod 600 "$file"
}

demo_app_dir() {
    local dir=$1
    # The module's Items (sealed) and the application's item_ids: only the
    # children's user reads them (httpd started by another user than root
    # keeps that user).
    mkdir -p "$dir"
    [ "$(id -u)" -ne 0 ] || chown nobody:nogroup "$dir"
    chmod 700 "$dir"
}

demo_httpd_conf() {
    local run=$1 top=$2 mpm=${demo_mpm:-event} app=${demo_app:-cgi}
    cat <<CONF
ServerRoot "$run"
ServerName localhost
PidFile "$run/httpd.pid"
DefaultRuntimeDir "$run"
ErrorLog "$run/error_log"
LogLevel info plaid_link:debug
User nobody
Group nogroup
LoadModule mpm_${mpm}_module $demo_mods/mod_mpm_${mpm}.so
LoadModule authz_core_module $demo_mods/mod_authz_core.so
LoadModule authz_user_module $demo_mods/mod_authz_user.so
LoadModule authz_host_module $demo_mods/mod_authz_host.so
LoadModule authn_core_module $demo_mods/mod_authn_core.so
LoadModule authn_file_module $demo_mods/mod_authn_file.so
LoadModule auth_basic_module $demo_mods/mod_auth_basic.so
LoadModule alias_module $demo_mods/mod_alias.so
LoadModule dir_module $demo_mods/mod_dir.so
LoadModule env_module $demo_mods/mod_env.so
LoadModule mime_module $demo_mods/mod_mime.so
TypesConfig /etc/mime.types
LoadModule status_module $demo_mods/mod_status.so
LoadModule headers_module $demo_mods/mod_headers.so
LoadModule filter_module $demo_mods/mod_filter.so
LoadModule substitute_module $demo_mods/mod_substitute.so
# mod_dbd with SQLite (Debian's libaprutil1-dbd-sqlite3): where the module
# keeps the Items (PlaidItemStore dbd).
LoadModule dbd_module $demo_mods/mod_dbd.so
# The cache the children share: the webhook endpoint's keys and replay
# marks (and mod_ssl's sessions, with the emulator).
LoadModule socache_shmcb_module $demo_mods/mod_socache_shmcb.so
LoadModule plaid_link_module "$top/.libs/mod_plaid_link.so"
# mod_status's page, with the module's section (docs/metrics.md).
<Location "/server-status">
    SetHandler server-status
</Location>
CONF
    case $app in
        php)
            # Debian's mod_php: not thread-safe, so prefork only.
            echo "LoadModule php_module $demo_mods/libphp8.2.so" ;;
        cgi)
            # mod_cgi forks from a single-threaded child; a threaded MPM
            # needs mod_cgid's daemon (its socket in DefaultRuntimeDir).
            if [ "$mpm" = prefork ]; then
                echo "LoadModule cgi_module $demo_mods/mod_cgi.so"
            else
                echo "LoadModule cgid_module $demo_mods/mod_cgid.so"
            fi ;;
    esac
}

demo_emulator() {
    local run=$1 top=$2 emu_port=$3 secret=$4
    cat <<CONF

# The Plaid emulator, standing in for https://sandbox.plaid.com.
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

# The application's files and what runs them, as a <Directory> section
# (behind the site's basic auth, like the page; Aliases, as /app/ is closed
# to browsers), and the gateway its balances page calls on this vhost
# (PORT).
demo_app_section() {
    local top=$1 port=$2 item balances webhook run_it
    case ${demo_app:-cgi} in
        php)
            item=plaid-item.php balances=plaid-balances.php
            webhook=plaid-webhook.php
            run_it="SetHandler application/x-httpd-php" ;;
        cgi)
            item=plaid-item.cgi balances=plaid-balances.cgi
            webhook=plaid-webhook.cgi
            run_it="Options +ExecCGI
        SetHandler cgi-script" ;;
    esac
    cat <<APP

    # The application: notes the user's item_id in this file (the module
    # keeps the Item itself), shows the signed-in user's balances, and
    # hears of ITEM webhooks after the module has kept their status.
    SetEnv PLAID_EXAMPLE_DB "$demo_app_db"
    Alias "$demo_handoff" "$top/examples/app/$item"
    Alias "$demo_balances" "$top/examples/app/$balances"
    Alias "$demo_webhook_handoff" "$top/examples/app/$webhook"
    <Directory "$top/examples/app">
        $run_it
    </Directory>

    # The gateway the balances page calls Plaid through (docs/php.md), with
    # the connection above; only the paths it uses. This vhost listens on
    # loopback only, so the module's rule (loopback callers only) admits
    # the application. It sends no credentials: Require local replaces the
    # site's basic auth here, and is httpd's own second lock. (A browser on
    # this machine is on loopback too, and an item_id is no secret: a site
    # served beyond loopback keeps the gateway on a vhost of its own.)
    SetEnv PLAID_API_URL "http://127.0.0.1:$port/plaid-api"
    <Location "/plaid-api">
        SetHandler plaid-api
        PlaidApiPaths ${demo_api_paths:-/accounts/balance/get}
        Require local
    </Location>

    # The module's counters, for Prometheus (docs/metrics.md).
    <Location "/plaid-metrics">
        SetHandler plaid-metrics
        Require local
    </Location>
APP
}

# Plaid Link, emulated: the page asks for the emulator's Link script where
# it would ask for Plaid's (mod_substitute rewrites that one URL), and that
# script's Continue asks the emulator's /link/complete for the
# public_token. Both on the site itself, behind its basic auth: a browser
# would not trust the emulator's own certificate.
demo_emulated_link() {
    local top=$1
    cat <<LINK

    # Plaid Link, emulated (offline): the page loads the emulator's Link.
    <Files "link.html">
        AddOutputFilterByType SUBSTITUTE text/html
        Substitute "s|$demo_plaid_link_js|/emulated-link/link-initialize.js|n"
    </Files>
    Alias "/emulated-link/link-initialize.js" "$top/emulator/link-initialize.js"
    <Location "/emulated-link/link/complete">
        SetHandler plaid-emulator
        PlaidEmulatorEnv sandbox
    </Location>
LINK
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

# The site: the example page (examples/link.html) at /, the module's
# handlers as an admin writes them, and the application behind the
# exchange; the page, the endpoints and the application behind basic auth,
# the gateway and the metrics for callers on this machine.
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
    # The page differs between a demo with the emulator and one with your
    # keys: a browser must not keep one for the other.
    <Files "link.html">
        Header set Cache-Control "no-store"
    </Files>
    # The application's files are not pages: they answer only as the
    # exchange's hand-off ($demo_handoff, below).
    <Location "/app/">
        Require all denied
    </Location>

    # The connection every handler inherits.
    PlaidEnv           $env
    $upstream
    PlaidClientId      $client_id
    PlaidSecret        file:$secret_file

    # The module keeps the Items (docs/items.md): the access_tokens sealed
    # in this SQLite file under the key; the application gets item_ids.
    DBDriver           sqlite3
    DBDParams          "$demo_items_db"
    PlaidItemStore     dbd
    PlaidItemKey       file:$demo_items_key

    <Location "/plaid/link-token">
        SetHandler plaid-link-token
        PlaidClientName    "mod_plaid_link demo"
        PlaidLanguage      en
        PlaidCountryCodes  ${demo_country_codes:-US CA}
        PlaidProducts      ${demo_products:-auth transactions}
    </Location>

    # Link's public_token, exchanged; the module keeps the Item, and the
    # application gets its item_id.
    <Location "/plaid/exchange">
        SetHandler plaid-public-token-exchange
        PlaidExchangeHandoff $demo_handoff
    </Location>

    # The signed-in user's Items: GET lists them, DELETE /plaid/items/<id>
    # removes one (the page's "Linked accounts").
    <Location "/plaid/items">
        SetHandler plaid-items
    </Location>

    # Plaid's webhooks (signed: no basic auth): ITEM webhooks keep the
    # Items' status, then go to the application.
    <Location "/plaid/webhook">
        SetHandler plaid-webhook
        PlaidWebhookHandoff $demo_webhook_handoff
        Require all granted
    </Location>
    # Its hand-off: an internal redirect, checked like any request (a
    # browser that asks for it gets 404 from the module).
    <Location "$demo_webhook_handoff">
        Require all granted
    </Location>
$(demo_app_section "$top" "$port")
$([ "${demo_link:-plaid}" != emulated ] || demo_emulated_link "$top")
</VirtualHost>
SITE
}
