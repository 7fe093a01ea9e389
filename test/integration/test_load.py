"""Many sessions: 500 at once, and more clients than max-sessions served in turn."""

import os
import random
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, check, check_eq, configmode, connect, echo, free_port, main, poll_until,  # noqa: E402
                       recv_exact, scaled, stderr_text, test)

threading.stack_size(256 * 1024)


@test
def five_hundred_concurrent_sessions(binary):
    n = 500
    b = Backend(echo())
    port = free_port()
    configmode(binary, f"max-sessions 600\nport {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n", [(LO4, port)])
    opened = threading.Barrier(n + 1, timeout=scaled(60))
    results = [None] * n

    def client(i):
        try:
            s = connect(LO4, port, timeout=60)
            hello = f"hello {i}\n".encode()
            s.sendall(hello)
            check_eq(recv_exact(s, len(hello), 60), hello, "hello")
            opened.wait()  # every session is open end to end at the same time
            payload = random.Random(i).randbytes(32768)
            s.sendall(payload)
            check_eq(recv_exact(s, len(payload), 60), payload, "payload echo")
            s.close()
            results[i] = True
        except BaseException as e:  # reported below
            results[i] = repr(e)
            opened.abort()

    ts = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    opened.wait()
    for t in ts:
        t.join(scaled(60))
    bad = [(i, r) for i, r in enumerate(results) if r is not True]
    check(not bad, f"{len(bad)} of {n} sessions failed: {bad[:3]}")


@test
def more_clients_than_max_sessions_all_served(binary):
    # max-sessions 3, 12 clients: each holds its session until told to finish;
    # the ones beyond 3 wait in the backlog (not refused) and get served in turn.
    release = threading.Event()

    def handler(c, info):
        c.sendall(b"hi\n")
        while True:
            d = c.recv(64)
            if not d:
                return
            c.sendall(d)

    b = Backend(handler)
    port = free_port()
    p = configmode(binary, f"max-sessions 3\nport {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n",
                   [(LO4, port)])
    n = 12
    results = [None] * n

    def client(i):
        try:
            s = connect(LO4, port, timeout=60)  # completes in the kernel backlog even when all slots are busy
            check_eq(recv_exact(s, 3, 60), b"hi\n", "greeting")
            if i < 3:
                release.wait(scaled(30))
            msg = f"client {i}\n".encode()
            s.sendall(msg)
            check_eq(recv_exact(s, len(msg), 30), msg, "echo")
            s.close()
            results[i] = True
        except BaseException as e:
            results[i] = repr(e)

    first = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(3)]
    for t in first:
        t.start()
    check(poll_until(lambda: b.count() == 3, 10), f"first 3 sessions connected ({b.count()})")
    rest = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(3, n)]
    for t in rest:
        t.start()
    # While the three hold every slot, no further session reaches the backend.
    check(not poll_until(lambda: b.count() > 3, 1.0), f"more than max-sessions ran: {b.count()}")
    release.set()
    for t in first + rest:
        t.join(scaled(60))
    bad = [(i, r) for i, r in enumerate(results) if r is not True]
    check(not bad, f"{len(bad)} of {n} clients not served: {bad[:3]}")
    check_eq(b.count(), n, "backend connections")
    check(poll_until(lambda: stderr_text(p).count("status=OK") == n, 10), "every session logged OK")


if __name__ == "__main__":
    main()
