#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian way in, end to end, on this machine's own httpd:
#   1. `make install DESTDIR=...` lays out the .so and the a2enmod files;
#   2. dpkg-buildpackage builds libapache2-mod-plaid-link from debian/;
#   3. apt installs the .deb (its postinst a2enmods the module), a site in
#      /etc/apache2/sites-available puts the example endpoint and a Plaid
#      emulator on 127.0.0.1 ports, `apache2ctl configtest` passes, the
#      system apache2 starts and the endpoint answers with a link_token;
#   4. everything is undone: site and module disabled, apache2 stopped (or
#      restarted as it was), the package purged, temporary files removed.
# Ends with "N passed, N failed" and exits non-zero on any failure.
# Ports: PLAID_PACKAGE_PORT (default 19240), PLAID_PACKAGE_EMULATOR_PORT
# (19241), both on 127.0.0.1; Debian's ports.conf is set aside meanwhile so
# that nothing listens beyond loopback.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${PLAID_PACKAGE_PORT:-19240}
emu_port=${PLAID_PACKAGE_EMULATOR_PORT:-19241}
pkg=libapache2-mod-plaid-link
site=plaid-link-package-test
site_file=/etc/apache2/sites-available/$site.conf
pidfile=/var/run/apache2/apache2.pid

passed=0
failed=0
ok()     { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
check()  { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

if [ "$(id -u)" -ne 0 ]; then
    echo "test-package: needs root (it installs a package into /etc/apache2)" >&2
    not_ok "run as root"; finish; exit 1
fi

# One run at a time: the package and apache2 are the machine's.
exec 9>/run/lock/plaid-link-package-test.lock
flock -w 600 9 || { not_ok "lock"; finish; exit 1; }

"$top/scripts/deps.sh" || { not_ok "deps"; finish; exit 1; }
need=()
for p in dpkg-dev debhelper fakeroot rsync; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] \
        || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "test-package: installing ${need[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${need[@]}" >/dev/null \
        || { not_ok "install ${need[*]}"; finish; exit 1; }
fi

work=$(mktemp -d /tmp/plaid-package.XXXXXX)
chmod 755 "$work"        # the children (www-data) read the CA file
log=$work/error.log

# What the machine looked like, to leave it so.
was_running=0
[ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && was_running=1
if dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed; then
    echo "test-package: $pkg is installed already (a left-over?); it is purged at the end"
fi

cleanup() {
    echo "# cleaning up"
    cd /
    if [ "$was_running" -eq 0 ]; then
        apache2ctl stop >/dev/null 2>&1
        for _ in $(seq 50); do
            [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || break
            sleep 0.1
        done
    fi
    a2dissite -q "$site" >/dev/null 2>&1
    rm -f "$site_file"
    a2dismod -q plaid_link >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$pkg" >/dev/null 2>&1
    [ -f "$work/ports.conf.orig" ] && cp -p "$work/ports.conf.orig" "$ports"
    [ "$was_running" -eq 1 ] && apache2ctl restart >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# Test servers bind to 127.0.0.1 only: Debian's ports.conf (Listen 80, and
# 443 with mod_ssl) is set aside while the test runs; cleanup puts it back.
ports=/etc/apache2/ports.conf
if [ -f "$ports" ]; then
    cp -p "$ports" "$work/ports.conf.orig"
    echo "# set aside by mod_plaid_link's package test; restored at its end" > "$ports"
fi

# --- 1. make install DESTDIR=... -----------------------------------------
echo "# copying the tree to $work/src"
rsync -a --exclude .git --exclude 't/logs*' --exclude demo-run \
    --exclude node_modules --exclude tests/browser/artifacts \
    --exclude .libs --exclude '*.lo' --exclude '*.la' --exclude '*.slo' \
    --exclude build "$top/" "$work/src/"
cd "$work/src" || exit 1

libexec=$(apxs -q LIBEXECDIR)
if make -s all >"$work/make.log" 2>&1 \
   && make -s install DESTDIR="$work/destdir" >>"$work/make.log" 2>&1; then
    ok "make install DESTDIR=... runs"
else
    not_ok "make install DESTDIR=... runs"; tail -n 20 "$work/make.log"
fi
check "make install: the .so is under DESTDIR$libexec" \
    test -f "$work/destdir$libexec/mod_plaid_link.so"
check "make install: plaid_link.load and .conf are under DESTDIR/etc/apache2/mods-available" \
    test -f "$work/destdir/etc/apache2/mods-available/plaid_link.load" -a \
         -f "$work/destdir/etc/apache2/mods-available/plaid_link.conf"
check "make install: plaid_link.load loads $libexec/mod_plaid_link.so" \
    grep -qx "LoadModule plaid_link_module $libexec/mod_plaid_link.so" \
    "$work/destdir/etc/apache2/mods-available/plaid_link.load"
check "make install: plaid-item-seal is under DESTDIR/usr/bin" \
    test -x "$work/destdir/usr/bin/plaid-item-seal"
check "make install: nothing installed outside DESTDIR" \
    test ! -e /etc/apache2/mods-available/plaid_link.load
# The emulator stands in for Plaid below; keep it, build the package afresh.
mkdir -p "$work/emulator"
cp emulator/.libs/mod_plaid_emulator.so "$work/emulator/"

# --- 2. dpkg-buildpackage ------------------------------------------------
echo "# dpkg-buildpackage -us -uc -b (log: $work/build.log)"
if dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1; then
    ok "dpkg-buildpackage builds $pkg"
else
    not_ok "dpkg-buildpackage builds $pkg"; tail -n 30 "$work/build.log"
    finish; exit 1
fi
deb=$(ls "$work"/${pkg}_*.deb | head -n 1)
depends=$(dpkg-deb -f "$deb" Depends)
echo "# Depends: $depends"
check "the package depends on libcurl" grep -q 'libcurl' <<<"$depends"
check "the package depends on jansson" grep -q 'libjansson' <<<"$depends"
check "the package depends on the httpd module API (dh_apache2)" \
    grep -q 'apache2-api-' <<<"$depends"
contents=$(dpkg-deb -c "$deb")
ships() { grep -q " \./$1\$" <<<"$contents"; }
check "the package ships the .so, .load and .conf where Debian's apache2 looks" \
    eval 'ships usr/lib/apache2/modules/mod_plaid_link.so &&
          ships etc/apache2/mods-available/plaid_link.load &&
          ships etc/apache2/mods-available/plaid_link.conf' 
check "the package ships plaid-item-seal in /usr/bin (migration, docs/items.md)" \
    ships usr/bin/plaid-item-seal

# --- 3. install, enable, configtest, start, ask ------------------------------
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >"$work/install.log" 2>&1; then
    ok "apt-get install ./$(basename "$deb")"
else
    not_ok "apt-get install ./$(basename "$deb")"; tail -n 20 "$work/install.log"
    finish; exit 1
fi
check "the postinst enabled the module (apache2-maintscript-helper)" \
    test -L /etc/apache2/mods-enabled/plaid_link.load
check "a2enmod plaid_link" a2enmod plaid_link
openssl rand -hex 32 > "$work/items.key"
chmod 600 "$work/items.key"
sealed=$(printf 'access-sandbox-00000000-0000-4000-8000-000000000000' |
         /usr/bin/plaid-item-seal "$work/items.key" sandbox item0package user0 2>&1)
check "the installed plaid-item-seal seals a token (v1.<key id>.)" \
    grep -Eq '^v1\.[0-9a-f]{8}\.' <<<"$sealed"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" \
    -keyout "$work/emulator.key" -out "$work/emulator.crt" 2>/dev/null
printf 'package-test-sandbox-secret\n' > "$work/plaid-sandbox.secret"
chmod 600 "$work/plaid-sandbox.secret"
htpasswd -bc "$work/htpasswd" alice alice-password 2>/dev/null
chmod 644 "$work/htpasswd" "$work/emulator.crt"

cat > "$site_file" <<CONF
# Written by $top/scripts/test-package.sh; removed when it ends.

# The emulator needs TLS. mod_ssl is loaded here rather than with a2enmod,
# which would also make ports.conf listen on 443.
<IfModule !socache_shmcb_module>
    LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
<IfModule !ssl_module>
    LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
</IfModule>
LoadModule plaid_emulator_module $work/emulator/mod_plaid_emulator.so

Listen 127.0.0.1:$emu_port
Listen 127.0.0.1:$port

# The Plaid emulator, standing in for https://sandbox.plaid.com.
<VirtualHost 127.0.0.1:$emu_port>
    ServerName localhost
    ErrorLog $log
    SSLEngine on
    SSLCertificateFile $work/emulator.crt
    SSLCertificateKeyFile $work/emulator.key
    <Location "/">
        SetHandler plaid-emulator
        PlaidEmulatorEnv sandbox
        PlaidEmulatorCredentials 0123456789abcdef01234567 package-test-sandbox-secret
    </Location>
</VirtualHost>

# The example endpoint from mods-available/plaid_link.conf.
<VirtualHost 127.0.0.1:$port>
    ServerName www.example.com
    ErrorLog $log
    LogLevel info plaid_link:debug
    <Location "/plaid/link-token">
        SetHandler plaid-link-token
        PlaidEnv           sandbox
        PlaidBaseURL       https://localhost:$emu_port
        PlaidCACertificate $work/emulator.crt
        PlaidClientId      0123456789abcdef01234567
        PlaidSecret        file:$work/plaid-sandbox.secret
        PlaidClientName    "Example Bank App"
        PlaidLanguage      en
        PlaidCountryCodes  US CA
        PlaidProducts      auth transactions

        AuthType Basic
        AuthName "Example"
        AuthUserFile $work/htpasswd
        Require valid-user
    </Location>
</VirtualHost>
CONF
check "a2ensite $site" a2ensite -q "$site"

if out=$(apache2ctl configtest 2>&1) && grep -q 'Syntax OK' <<<"$out"; then
    ok "apache2ctl configtest"
else
    not_ok "apache2ctl configtest"; echo "$out"
fi

if [ "$was_running" -eq 1 ]; then
    apache2ctl restart >"$work/start.log" 2>&1
else
    apache2ctl start >"$work/start.log" 2>&1
fi
up=0
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && { up=1; break; }
    sleep 0.1
done
if [ "$up" -eq 1 ]; then
    ok "apache2ctl start: the system apache2 answers on 127.0.0.1:$port"
else
    not_ok "apache2ctl start"; cat "$work/start.log"; tail -n 20 "$log" 2>/dev/null
fi

answer=$(curl -s -u alice:alice-password -X POST \
    -H 'Content-Type: application/json' -d '{}' \
    -w '\n%{http_code}' "http://127.0.0.1:$port/plaid/link-token")
status=${answer##*$'\n'}
body=${answer%$'\n'*}
echo "# answer: $status $body"
check "a signed-in POST gets 200" test "$status" = 200
check "the answer carries a sandbox link_token from the emulator" \
    grep -Eq '"link_token": *"link-sandbox-[0-9a-f-]{36}"' <<<"$body"
check "PL0101 in the vhost's error log: the installed module created it" \
    grep -q "PL0101: link_token created: vhost=www.example.com:$port location=/plaid/link-token" "$log"

status=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' -d '{}' \
    "http://127.0.0.1:$port/plaid/link-token")
check "without a user the endpoint answers 401 (basic auth in front)" test "$status" = 401

# The module, not luck, made configtest pass: without it the site is refused.
apache2ctl stop >/dev/null 2>&1
for _ in $(seq 50); do
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null || break
    sleep 0.1
done
a2dismod -q plaid_link >/dev/null
# (LogLevel plaid_link:debug is the first line to fail: "Cannot find module".)
if ! out=$(apache2ctl configtest 2>&1) && grep -q "plaid_link\|Plaid" <<<"$out"; then
    ok "after a2dismod plaid_link, configtest refuses the site"
else
    not_ok "after a2dismod plaid_link, configtest refuses the site"
    echo "$out"
fi

# --- 4. undo, and check it is undone ---------------------------------------
trap - EXIT
cleanup
check "the package is gone" \
    bash -c "! dpkg-query -W -f='\${db:Status-Status}' $pkg 2>/dev/null | grep -qx installed"
check "mods-available, mods-enabled and sites hold nothing of ours" \
    bash -c "! ls /etc/apache2/mods-available/plaid_link.* /etc/apache2/mods-enabled/plaid_link.* \
             /etc/apache2/sites-enabled/$site.conf $site_file >/dev/null 2>&1"
if [ "$was_running" -eq 0 ]; then
    check "apache2 is stopped again" \
        bash -c "! { [ -f $pidfile ] && kill -0 \$(cat $pidfile) 2>/dev/null; }"
fi
finish
