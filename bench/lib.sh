# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# bench/lib.sh: what the bench scripts share (sourced, not run): installing
# what Debian 12 lacks, the private CA and localhost certificate an upstream
# on loopback serves, stopping an httpd of the bench's own, and reading the
# CPU time of processes. Nothing here reads or writes /etc/apache2.

# bench_install PACKAGE...: apt-get installs those dpkg does not list as
# installed (as root), quietly. A caller that accepts any provider of a
# command (nginx or nginx-light, Node from anywhere) tests `command -v`
# itself and names the package only when the command is missing.
bench_install() {
    local p status missing=()
    for p in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$status" = installed ] || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "bench: installing ${missing[*]}" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# bench_certs CA_DIR KEY_DIR SUBJECT: a private CA (CA_DIR/ca.crt, .key,
# subject SUBJECT) and a certificate it signed for localhost and 127.0.0.1
# (KEY_DIR/server.crt, .key), RSA 2048 as many API hosts still serve,
# valid two days. Certificates readable by all (httpd's children, Node).
bench_certs() {
    local ca=$1 keys=$2 subject=$3
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$subject" \
        -keyout "$ca/ca.key" -out "$ca/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$keys/server.key" -out "$keys/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$ca/san.ext"
    openssl x509 -req -in "$keys/server.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" \
        -CAcreateserial -days 2 -extfile "$ca/san.ext" -out "$keys/server.crt" 2>/dev/null
    chmod 644 "$ca/ca.crt" "$keys/server.crt"
}

# bench_stop_httpd CONF PIDFILE: stops the httpd started with CONF and
# waits (5 s at most) until its pid file is gone, so the port is free for
# whatever comes next.
bench_stop_httpd() {
    [ -f "$2" ] || return 0
    /usr/sbin/apache2 -f "$1" -k stop 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$2" ] || return 0; sleep 0.1; done
}

# bench_cpu_ticks PID...: user + system time of the given processes, every
# thread included, in clock ticks (getconf CLK_TCK); a process gone
# counts 0.
bench_cpu_ticks() {
    local pid t=0
    for pid in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}

# bench_busy_ticks: clock ticks the whole machine spent busy (all CPUs:
# user, nice, system, irq, softirq, steal) since boot, from /proc/stat.
bench_busy_ticks() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# bench_wait_answer URL [SECONDS]: waits until a POST of `{}` (and the
# header X-User: bench-user, the bench locations' PlaidUserId) to URL answers
# with a link_token (10 s at most); prints the last answer and fails if it
# never did.
bench_wait_answer() {
    local got=
    for _ in $(seq $((${2:-10} * 5))); do
        got=$(curl -s --max-time 5 -H 'Content-Type: application/json' \
            -H 'X-User: bench-user' -d '{}' "$1" || true)
        case $got in *link_token*) return 0 ;; esac
        sleep 0.2
    done
    echo "bench: $1 answers no link_token: ${got:-nothing}" >&2
    return 1
}
