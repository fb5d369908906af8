#!/usr/bin/env python3
"""bench/relay.py: a network round trip on loopback, for bench/gateway.sh.

    relay.py LISTEN_PORT TARGET_PORT DELAY_MS CONN_LOG MAX_SECONDS

Listens on 127.0.0.1:LISTEN_PORT and relays every connection to
127.0.0.1:TARGET_PORT, bytes untouched (TLS passes through), each chunk
delivered DELAY_MS after it arrived, in order, in both directions: an
RTT of twice DELAY_MS. A real TCP handshake costs a round trip before the
client can send; on loopback connect() returns at once, so what the client
sends before the server has said anything (TLS's ClientHello, after
whatever work the client does between connect() and it) is delayed by
three times DELAY_MS: as if connect() had taken the round trip. Work the
client does after that first send, while it waits for the server, so
overlaps two round trips here against one on a real network (libcurl
reads its CA file there). Bandwidth and slow start are not modelled (the
calls fit in a window).

Threads that sleep until each chunk is due, not an event loop: asyncio's
timers wake up to a millisecond late, a twentieth of the RTT each way.
The timer slack and the interpreter's switch interval are made small for
the same reason.

One line per accepted connection goes to CONN_LOG, so the caller counts
new connections. Exits by itself after MAX_SECONDS, or on SIGTERM/SIGINT,
and then prints to stderr how late its deliveries were.
"""
import queue
import signal
import socket
import sys
import threading
import time

lateness = {"chunks": 0, "sum": 0.0, "max": 0.0}
lateness_lock = threading.Lock()


def direction(src, dst, delay, first_delay, mine, theirs):
    """Copies src to dst, each chunk DELAY seconds late, or FIRST_DELAY
    while THEIRS (the other direction has carried a byte) is unset."""
    chunks = queue.SimpleQueue()

    def read():
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            mine.set()
            # Due times only grow (the other side answered in between), so
            # the chunks stay in order.
            chunks.put((time.monotonic()
                        + (delay if theirs.is_set() else first_delay), data))
            if not data:
                return

    threading.Thread(target=read, daemon=True).start()
    while True:
        due, data = chunks.get()
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        behind = time.monotonic() - due
        with lateness_lock:
            lateness["chunks"] += 1
            lateness["sum"] += behind
            lateness["max"] = max(lateness["max"], behind)
        try:
            if not data:
                dst.shutdown(socket.SHUT_WR)
                return
            dst.sendall(data)
        except OSError:
            return


def relay(client, target_port, delay):
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    for s in (client, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client_spoke, server_spoke = threading.Event(), threading.Event()
    ways = [threading.Thread(target=direction, daemon=True, args=a) for a in (
        (client, upstream, delay, 3 * delay, client_spoke, server_spoke),
        (upstream, client, delay, delay, server_spoke, client_spoke))]
    for t in ways:
        t.start()
    for t in ways:
        t.join()
    for s in (client, upstream):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    delay = float(sys.argv[3]) / 1000.0
    end = time.monotonic() + float(sys.argv[5])
    stop = threading.Event()
    sys.setswitchinterval(0.0001)
    try:
        # Inherited by the threads started below.
        with open("/proc/self/timerslack_ns", "w") as f:
            f.write("1000")
    except OSError:
        pass
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(128)
    listener.settimeout(0.2)
    with open(sys.argv[4], "a") as log:
        while not stop.is_set() and time.monotonic() < end:
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            client.settimeout(None)
            log.write("%.6f\n" % time.monotonic())
            log.flush()
            threading.Thread(target=relay, daemon=True,
                             args=(client, target_port, delay)).start()
    n = lateness["chunks"]
    print("relay: %d chunks delivered, on average %.3f ms late, at most "
          "%.3f ms" % (n, lateness["sum"] / n * 1e3 if n else 0,
                       lateness["max"] * 1e3), file=sys.stderr)


if __name__ == "__main__":
    main()
