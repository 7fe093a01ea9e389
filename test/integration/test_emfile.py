"""Running out of descriptors (low `ulimit -n`): no spinning, no death, service resumes."""

import collections
import fcntl
import os
import resource
import socket
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (START_WAIT, Backend, LO4, check, check_eq, connect, cpu_seconds, fail, free_port, main, outcome,  # noqa: E402
                       poll_until, proc_tail, recv_exact, rst_close, scaled, sha, start, stderr_text, stop,
                       test, wait_listening, write_file)

LIMIT = 160        # descriptors for the proxy: room for ~32 idle sessions, not for 28 busy ones with pipes
RESERVE = 96       # descriptors the proxy keeps out of its session budget (2 per session)
STUCK = 28
BULK = 6 << 20   # beyond the 4 MiB a send buffer can grow to (tcp_wmem): the proxy must hold its pipes
DATA = os.urandom(BULK)
BURST = 40       # connections queued at once while out of descriptors
WINDOW = 1.5     # seconds the queue is watched


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_usage(pid, limit):
    """The proxy's descriptors by kind, for failure messages."""
    kinds = collections.Counter()
    try:
        for n in os.listdir(f"/proc/{pid}/fd"):
            try:
                kinds[os.readlink(f"/proc/{pid}/fd/{n}").split(":")[0]] += 1
            except OSError:
                pass
    except OSError as e:
        return str(e)
    return f"{sum(kinds.values())} of {limit} descriptors in use: " + ", ".join(f"{k} {v}" for k, v in kinds.items())


def queued_bytes(s):
    return int.from_bytes(fcntl.ioctl(s.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little")


def closed_by_peer(s):
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


@test
def descriptor_exhaustion(binary):
    release = threading.Event()

    def handler(c, info):
        mode = c.recv(1)
        if not mode:
            return  # a queued connection, cut before it said anything
        c.sendall(b"G")
        if mode == b"E":
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)
        # Bulk both ways; reading starts only at `release`, so the proxy's
        # directions stay blocked holding whatever pipes they could get.
        info["sock"] = c
        t = threading.Thread(target=lambda: (c.sendall(DATA), c.shutdown(socket.SHUT_WR)), daemon=True)
        t.start()
        release.wait(scaled(60))
        n, h = 0, __import__("hashlib").sha256()
        while True:
            d = c.recv(1 << 16)
            if not d:
                break
            n += len(d)
            h.update(d)
        t.join(scaled(60))
        info["n"], info["sha"] = n, h.hexdigest()

    b = Backend(handler)
    b.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    port = free_port()
    conf = write_file("emfile.conf", f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n")

    def start_proxy(limit):
        p = start(binary, ["-d", "-n", "-s", "-f", conf],
                  preexec=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
        wait_listening(LO4, port, p)
        check(poll_until(lambda: "session slots" in stderr_text(p), START_WAIT), f"the proxy never started{proc_tail(p)}")
        return p

    # Once running, the proxy takes descriptors in pairs (two sockets per
    # session, two per pipe), so only an even room above what it holds at rest
    # can be filled to the last descriptor. What it holds at rest varies (one
    # more for the privileged spawner's channel when started as root): read it.
    limit = LIMIT
    p = start_proxy(limit)
    if (limit - fd_count(p.pid)) % 2:
        stop(p)
        limit += 1
        p = start_proxy(limit)
    check((limit - fd_count(p.pid)) % 2 == 0, f"odd room at rest, twice: {fd_usage(p.pid, limit)}")
    slots = (limit - RESERVE) // 2

    def served(timeout):
        """A new session that works (echo), kept open; None if it does not."""
        try:
            s = connect(LO4, port, timeout=timeout)
        except OSError:
            return None
        try:
            s.sendall(b"E")
            if recv_exact(s, 1, timeout) == b"G":
                s.sendall(b"back")
                if recv_exact(s, 4, timeout) == b"back":
                    return s
        except Exception:  # reset, closed or timed out: not served
            pass
        s.close()
        return None

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

    # The stuck directions take pipes until descriptors run out; those that get
    # none copy with read/write and never ask again while their data flows. So
    # where the sessions stop depends on what else held descriptors at that
    # moment (a probe's two sockets left exactly room for the next probe, which
    # was then served, forever). Hence: wait for them to settle, read the
    # proxy's descriptor table, and fill any room left with idle sessions kept
    # open, until not one descriptor below the limit is free.
    fillers = []
    conns = b.wait_conns(STUCK)[:STUCK]
    check(poll_until(lambda: all("sock" in c for c in conns), 30), "the backend never started its bulk")
    last = {"n": -1, "since": 0.0}

    def settled():
        # Every direction has moved data (so has asked for a pipe) and the
        # descriptor count has held still for a while, or hit the limit.
        if not all(queued_bytes(s) > 0 for s in clients) or not all(queued_bytes(c["sock"]) > 0 for c in conns):
            return False
        n, now = fd_count(p.pid), time.monotonic()
        if n != last["n"]:
            last["n"], last["since"] = n, now
        return n >= limit or now - last["since"] >= 0.5
    check(poll_until(settled, 60, interval=0.05),
          f"the stuck sessions never settled: {fd_usage(p.pid, limit)}")
    while fd_count(p.pid) < limit:
        check(len(fillers) < slots - STUCK,
              f"{len(fillers)} idle sessions added and still room for more: {fd_usage(p.pid, limit)}")
        f = served(timeout=10)
        check(f is not None, f"an idle session with descriptors free was not served: {fd_usage(p.pid, limit)}")
        fillers.append(f)

    # New connections now find no descriptor left: each is turned away promptly.
    def turned_away():
        try:
            s = connect(LO4, port, timeout=5)
            s.sendall(b"E")
            # Beyond the longest backoff (1 s): the listener may be asleep.
            kind, data, _ = outcome(s, scaled(5))
            if data:
                fillers.append(s)  # served after all: its descriptors stay taken
                return False
            s.close()
            return kind in ("eof", "reset")
        except OSError:
            return False
    check(poll_until(turned_away, 30, interval=0.2),
          f"no connection was turned away for lack of descriptors: {fd_usage(p.pid, limit)} {stderr_text(p)[-300:]}")
    check(p.poll() is None, "the proxy died")

    # While descriptors stay short, the proxy sleeps between failing accepts
    # (backoff), it does not spin: a queue of connections is worked off at the
    # backoff's pace (at most one per first backoff step of 50 ms), not in a
    # loop as fast as accept4 can fail.
    queued = [socket.create_connection((LO4, port), timeout=scaled(5)) for _ in range(BURST)]
    c0, t0 = cpu_seconds(p.pid), time.monotonic()
    time.sleep(WINDOW)  # the measurement window
    used = cpu_seconds(p.pid) - c0
    elapsed = time.monotonic() - t0
    gone = sum(1 for s in queued if closed_by_peer(s))
    for s in queued:
        rst_close(s)
    check(used < 0.3 * elapsed, f"proxy burnt {used:.2f}s CPU in {elapsed:.2f}s while out of descriptors")
    most = 1 + int(elapsed / 0.05)
    check(gone <= most, f"{gone} of {BURST} queued connections turned away in {elapsed:.2f}s: "
          f"no backoff between failing accepts (at most {most} expected)")
    err = stderr_text(p)
    check_eq(err.count("Too many open files"), 1, "accept4 EMFILE logged once for the episode")

    # Let the stuck sessions drain: every byte still arrives.
    release.set()
    got = []
    for i, s in enumerate(clients):
        n, h = 0, __import__("hashlib").sha256()
        s.settimeout(scaled(60))
        while True:
            try:
                d = s.recv(1 << 16)
            except OSError as e:
                fail(f"stuck session {i} after {n} bytes: {e}; {fd_usage(p.pid, limit)}"
                     f" {stderr_text(p)[-1500:]}")
            if not d:
                break
            n += len(d)
            h.update(d)
        got.append((n, h.hexdigest()))
        s.close()
    for t in senders:
        t.join(scaled(60))
    want = (BULK, sha(DATA))
    bad = [i for i, g in enumerate(got) if g != want]
    check(not bad, f"sessions {bad[:5]} lost data server->client: {got[bad[0]] if bad else ''}")
    for i, c in enumerate(conns):
        check(c["done"].wait(scaled(60)), f"backend {i} did not finish")
    bad = [i for i, c in enumerate(conns) if (c.get("n"), c.get("sha")) != want]
    check(not bad, f"sessions {bad[:5]} lost data client->server")

    # Service resumes.
    for f in fillers:
        f.close()

    def serves():
        s = served(timeout=5)
        if s is None:
            return False
        s.close()
        return True
    check(poll_until(serves, 15, interval=0.2), f"service did not resume{' ' + stderr_text(p)[-300:]}")
    check(poll_until(lambda: "accepting connections again" in stderr_text(p), 5), "recovery logged")


if __name__ == "__main__":
    main()
