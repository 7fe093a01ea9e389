"""Start-up and the pool's size: the port listens at once whatever
max-sessions says, a slot's threads exist only once a slot has been used
(plus a small reserve made at start), and the first client is served at once
(the session pool of the design, issue 12)."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, check, check_eq, connect, echo, free_port, is_listening, main,  # noqa: E402
                       poll_until, recv_exact, scaled, start, stderr_text, stop, test, wait_listening, write_file)

SESSIONS = 8200
PRESTART = 8          # SessionPool::default_prestart
OTHER_THREADS = 8     # main, reaper, one acceptor, and room for a helper thread or two
HELD = 50


def threads_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def daemon(binary, backend_port, port):
    conf = write_file("startup.conf", f"max-sessions {SESSIONS}\nport {port}\n  interface {LO4}\n"
                      f"    server {LO4}:{backend_port}\n")
    return start(binary, ["-d", "-n", "-s", "-f", conf])


@test
def a_large_capacity_starts_only_a_small_reserve(binary):
    b = Backend(echo(b"G"))
    port = free_port()
    p = daemon(binary, b.port, port)
    seen = {}

    def listening_now():
        check(p.poll() is None, f"tcpproxy exited with {p.poll()}")
        if is_listening(LO4, port):
            seen["threads"] = threads_of(p.pid)
            return True
        return False
    check(poll_until(listening_now, 60, interval=0.001), "the port never started listening")
    check(seen["threads"] <= 2 * PRESTART + OTHER_THREADS,
          f"listening with {seen['threads']} threads at max-sessions {SESSIONS}: the pool was made whole")
    t0 = time.monotonic()
    s = connect(LO4, port)
    check_eq(recv_exact(s, 1), b"G", "greeting through the proxy")
    check(time.monotonic() - t0 < scaled(2), "the first client waited for the pool")
    s.close()
    stop(p)


@test
def held_sessions_cost_two_threads_each_and_are_kept(binary):
    release = threading.Event()

    def hold(conn, info):
        conn.sendall(b"H")
        release.wait(scaled(60))
    b = Backend(hold)
    port = free_port()
    p = daemon(binary, b.port, port)
    def open_round(what):
        clients = []
        for _ in range(HELD):
            s = connect(LO4, port)
            check_eq(recv_exact(s, 1), b"H", what)
            clients.append(s)
        return clients
    try:
        wait_listening(LO4, port, p)
        clients = open_round("a held session is served")
        n = threads_of(p.pid)
        check(2 * HELD <= n <= 2 * HELD + 2 * PRESTART + OTHER_THREADS,
              f"{n} threads while {HELD} sessions are held (want about {2 * HELD})")
        release.set()
        for s in clients:
            s.close()
        check(poll_until(lambda: stderr_text(p).count("event=end") >= HELD, 30),
              "the first round's sessions never ended")
        # The slots are kept: a second round of the same size makes no thread
        # (but for one slot or two: a slot is freed just after its end line).
        release.clear()
        clients = open_round("a held session is served again")
        again = threads_of(p.pid)
        check(again <= n + 4, f"a second round of {HELD} sessions made threads: {again} > {n}")
        release.set()
        for s in clients:
            s.close()
    finally:
        release.set()
        stop(p)


if __name__ == "__main__":
    main()
