"""Running out of descriptors (low `ulimit -n`): no spinning, no death, service resumes."""

import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (LO4, Backend, check, check_eq, connect, cpu_seconds, fail, free_port, main,  # noqa: E402
                       outcome, poll_until, recv_exact, scratch, sha, start, stderr_text, test, wait_listening,
                       write_file)

LIMIT = 160        # descriptors for the proxy: room for ~32 idle sessions, not for 28 busy ones with pipes
STUCK = 28
BULK = 6 << 20   # beyond the 4 MiB a send buffer can grow to (tcp_wmem): the proxy must hold its pipes
DATA = os.urandom(BULK)


def low_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


@test
def descriptor_exhaustion(binary):
    release = threading.Event()

    def handler(c, info):
        mode = c.recv(1)
        c.sendall(b"G")
        if mode == b"E":
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)
        # Bulk both ways; reading starts only at `release`, so the proxy's
        # directions stay blocked holding whatever pipes they could get.
        t = threading.Thread(target=lambda: (c.sendall(DATA), c.shutdown(socket.SHUT_WR)), daemon=True)
        t.start()
        release.wait(60)
        n, h = 0, __import__("hashlib").sha256()
        while True:
            d = c.recv(1 << 16)
            if not d:
                break
            n += len(d)
            h.update(d)
        t.join(60)
        info["n"], info["sha"] = n, h.hexdigest()

    b = Backend(handler)
    b.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    port = free_port()
    conf = write_file("emfile.conf", f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n")
    p = start(binary, ["-d", "-n", "-s", "-f", conf], preexec=low_limit)
    wait_listening(LO4, port, p)

    clients = []
    for i in range(STUCK):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect((LO4, port))
        s.sendall(b"B")
        check_eq(recv_exact(s, 1), b"G", f"greeting of stuck session {i}")
        clients.append(s)

    def send_bulk(s):
        try:
            s.sendall(DATA)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    senders = [threading.Thread(target=send_bulk, args=(s,), daemon=True) for s in clients]
    for t in senders:
        t.start()

    # New connections now find no descriptor left: each is turned away promptly.
    def turned_away():
        try:
            s = connect(LO4, port, timeout=5)
            s.sendall(b"E")
            kind, data, _ = outcome(s, 0.5)
            s.close()
            return kind in ("eof", "reset") and not data
        except OSError:
            return False
    check(poll_until(turned_away, 20, interval=0.2),
          f"no connection was turned away for lack of descriptors{' ' + stderr_text(p)[-300:]}")
    check(p.poll() is None, "the proxy died")
    for _ in range(3):
        turned_away()

    # While descriptors stay short, the proxy sleeps (backoff), it does not spin.
    c0, t0 = cpu_seconds(p.pid), time.monotonic()
    time.sleep(1.5)  # the measurement window
    used = cpu_seconds(p.pid) - c0
    check(used < 0.3 * (time.monotonic() - t0), f"proxy burnt {used:.2f}s CPU in 1.5s while out of descriptors")
    err = stderr_text(p)
    check_eq(err.count("Too many open files"), 1, "accept4 EMFILE logged once for the episode")

    # Let the stuck sessions drain: every byte still arrives.
    release.set()
    got = []
    for s in clients:
        n, h = 0, __import__("hashlib").sha256()
        s.settimeout(60)
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            n += len(d)
            h.update(d)
        got.append((n, h.hexdigest()))
        s.close()
    for t in senders:
        t.join(60)
    want = (BULK, sha(DATA))
    bad = [i for i, g in enumerate(got) if g != want]
    check(not bad, f"sessions {bad[:5]} lost data server->client: {got[bad[0]] if bad else ''}")
    conns = b.wait_conns(STUCK)
    for i, c in enumerate(conns[:STUCK]):
        check(c["done"].wait(60), f"backend {i} did not finish")
    bad = [i for i, c in enumerate(conns[:STUCK]) if (c.get("n"), c.get("sha")) != want]
    check(not bad, f"sessions {bad[:5]} lost data client->server")

    # Service resumes.
    def served():
        try:
            s = connect(LO4, port, timeout=5)
            s.sendall(b"E")
            if s.recv(1) != b"G":
                return False
            s.sendall(b"back")
            ok = recv_exact(s, 4, 5) == b"back"
            s.close()
            return ok
        except (OSError, Exception):
            return False
    check(poll_until(served, 15, interval=0.2), f"service did not resume{' ' + stderr_text(p)[-300:]}")
    check(poll_until(lambda: "accepting connections again" in stderr_text(p), 5), "recovery logged")


if __name__ == "__main__":
    main()
