"""Idle timeout over the whole session; a one-way busy session is not idle."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, connect, cpu_seconds, echo, free_port, main,  # noqa: E402
                       outcome, poll_until, recv_exact, scaled, stderr_text, test)


@test
def idle_session_ends_with_timeout(binary):
    b = Backend(echo())
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-t", "2"])
    s = connect(LO4, port)
    s.sendall(b"x")
    recv_exact(s, 1)
    cpu0 = cpu_seconds(p.pid)
    kind, data, secs = outcome(s, scaled(8))
    check(kind in ("eof", "reset"), f"idle session not closed: {kind} after {secs:.1f}s")
    check(1.8 <= secs <= 2 + scaled(2.0), f"closed after {secs:.2f}s with -t 2")
    check(poll_until(lambda: "status=TIMEOUT" in stderr_text(p), 5), "end line with status=TIMEOUT")
    # Waiting for the timeout is sleeping in ppoll, not spinning.
    check(cpu_seconds(p.pid) - cpu0 < scaled(0.2), f"proxy used {cpu_seconds(p.pid) - cpu0:.2f}s CPU while idle")
    conn = b.wait_conns(1)[0]
    check(conn["done"].wait(scaled(5)), "server side of the idle session not closed")


@test
def one_way_busy_sessions_are_not_idle(binary):
    # Server trickles data to a silent client, and client trickles to a silent server, for 4 s with -t 2.
    def handler(c, info):
        mode = c.recv(1)
        if mode == b"S":
            for _ in range(8):
                time.sleep(0.5)  # the traffic pattern under test: a byte every 0.5 s
                c.sendall(b".")
            c.sendall(b"E")
        else:
            n = 0
            while True:
                d = c.recv(64)
                if not d:
                    break
                n += len(d)
            info["n"] = n

    b = Backend(handler)
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-t", "2"])
    results = {}

    def server_talks():
        s = connect(LO4, port)
        s.sendall(b"S")
        results["S"] = recv_exact(s, 9, 10)
        s.close()

    def client_talks():
        s = connect(LO4, port)
        s.sendall(b"C")
        for _ in range(8):
            time.sleep(0.5)
            s.sendall(b".")
        kind, _, _ = outcome(s, 0.2)
        results["C"] = kind
        s.close()

    ts = [threading.Thread(target=f) for f in (server_talks, client_talks)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(scaled(15))
    check_eq(results.get("S"), b"........E", "server->client trickle survived 4 s with -t 2")
    check_eq(results.get("C"), "timeout", "client->server trickle still open after 4 s (no EOF/reset)")
    check("status=TIMEOUT" not in stderr_text(p), "no session ended by the idle timeout")


@test
def timeout_zero_is_off(binary):
    b = Backend(echo())
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-t", "0"])
    s = connect(LO4, port)
    s.sendall(b"x")
    recv_exact(s, 1)
    kind, _, _ = outcome(s, 2.5)
    check_eq(kind, "timeout", "session with -t 0 after 2.5 s idle")
    s.sendall(b"y")
    check_eq(recv_exact(s, 1), b"y", "still forwarding")


if __name__ == "__main__":
    main()
