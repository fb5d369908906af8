#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian 12 packages mod_plaid_link needs. Idempotent: a quick
# no-op when everything is already installed. Run as root (or via sudo);
# only Debian's apt is used.
#
#   scripts/deps.sh          build the module and run the demo (scripts/run.sh)
#   scripts/deps.sh --test   also what the test suite needs (scripts/test.sh),
#                            for a development or CI machine only
set -euo pipefail

usage() { echo "usage: $0 [--test]" >&2; exit 2; }

# `make all` (apxs, the compiler, libcurl, jansson; libcrypto for HMAC) and
# the demo (openssl makes its certificate, apache2 brings htpasswd, curl
# asks the endpoint, ca-certificates verifies Plaid's sandbox host;
# SQLite's apr-util driver for mod_dbd, where the demo's module keeps the
# Items: apache2 depends on one of apr-util's drivers, not this one). None
# of these enables a module or changes the MPM of the system's Apache.
run_packages=(
    build-essential make
    apache2 apache2-dev libapr1-dev libaprutil1-dev libaprutil1-dbd-sqlite3
    libcurl4-openssl-dev libjansson-dev libssl-dev
    openssl curl ca-certificates
)

# Apache::Test (it ships with mod_perl) and LWP for t/, valgrind for
# scripts/test-valgrind.sh, mod_php for t/php.t and, with SQLite's PDO
# driver, for the example application that scripts/test-browser.sh runs
# (examples/app/plaid-item.php); redis-server for t/redis.t, which starts
# its own on a free port; SQLite's shell for t/items.t (PlaidItemStore;
# its apr-util driver is a run package) and the browser test; PostgreSQL
# and its apr-util driver for t/items_pg.t, which starts its own server in
# a temporary folder; node and npm for t/official_client.t (Plaid's Node
# client) and scripts/test-browser.sh. Installing these changes the
# system's Apache: libapache2-mod-perl2 enables mod_perl, and
# libapache2-mod-php8.2 switches it to the prefork MPM and enables PHP.
test_packages=(
    libapache2-mod-perl2 libwww-perl perl
    valgrind
    libapache2-mod-php8.2 php8.2-sqlite3
    redis-server
    sqlite3
    libaprutil1-dbd-pgsql postgresql
    nodejs npm
)

# A package whose command is there already counts as installed: a node
# from elsewhere (NodeSource's nodejs, which bundles npm and conflicts
# with Debian's npm package) serves as well, and apt must not replace it.
declare -A command_of=([nodejs]=node [npm]=npm)

packages=("${run_packages[@]}")
case "${1:-}" in
    "") ;;
    --test) packages+=("${test_packages[@]}") ;;
    *) usage ;;
esac
[ $# -le 1 ] || usage

missing=()
for p in "${packages[@]}"; do
    if [ -n "${command_of[$p]:-}" ] && command -v "${command_of[$p]}" >/dev/null; then
        continue
    fi
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$p")

done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root or sudo" >&2; exit 1; }
    sudo=(sudo)
fi
"${sudo[@]}" apt-get update
# No recommends: they would bring more than the lists above say.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
