#!/usr/bin/env bash
# Install the Debian 12 packages mod_plaid_link needs to build and test.
# Idempotent: a quick no-op when everything is already installed. Run as
# root (or via sudo) on a fresh machine; only Debian's apt is used.
set -euo pipefail

packages=(
    build-essential make pkg-config
    apache2 apache2-dev libapr1-dev libaprutil1-dev
    libcurl4-openssl-dev libjansson-dev
    libapache2-mod-perl2 libwww-perl perl
    openssl curl ca-certificates
    valgrind
    libapache2-mod-php8.2
)

missing=()
for p in "${packages[@]}"; do
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
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
