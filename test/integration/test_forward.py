"""Forwarding: bulk transfer, half-close, reset propagation, failover, addressing."""

import os
import random
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, LO6, adhoc, check, check_eq, configmode, connect, dead_port, echo, fail,  # noqa: E402
                       free_port, main, outcome, recv_exact, rst_close, scaled, sha, test)

MIB = 1 << 20


def pump(sock, data, errors):
    try:
        view = memoryview(data)
        for off in range(0, len(data), 1 << 20):
            sock.sendall(view[off:off + (1 << 20)])
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        errors.append(e)


def drain(sock, out):
    h = __import__("hashlib").sha256()
    n = 0
    while True:
        d = sock.recv(1 << 20)
        if not d:
            break
        h.update(d)
        n += len(d)
    out["n"], out["sha"] = n, h.hexdigest()


@test
def bulk_64mib_each_way_at_once(binary):
    n = 64 * MIB
    up = random.Random(1).randbytes(n)
    down = random.Random(2).randbytes(n)

    def handler(c, info):
        c.settimeout(60)
        errs = []
        t = threading.Thread(target=pump, args=(c, down, errs))
        t.start()
        drain(c, info)
        t.join()
        info["errs"] = errs

    b = Backend(handler)
    port = free_port()
    adhoc(binary, port, f"{LO4}:{b.port}")
    s = connect(LO4, port, timeout=60)
    errs, got = [], {}
    t = threading.Thread(target=pump, args=(s, up, errs))
    t.start()
    drain(s, got)
    t.join(scaled(60))
    check(not errs, f"client send failed: {errs}")
    conn = b.wait_conns(1)[0]
    check(conn["done"].wait(scaled(60)), "backend did not finish")
    check_eq(conn.get("n"), n, "bytes the server received")
    check_eq(conn.get("sha"), sha(up), "SHA-256 client->server")
    check_eq(got["n"], n, "bytes the client received")
    check_eq(got["sha"], sha(down), "SHA-256 server->client")
    s.close()


@test
def half_close_client_first(binary):
    req = random.Random(3).randbytes(200_000)
    reply = random.Random(4).randbytes(2_000_000)

    def handler(c, info):
        got = bytearray()
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += d
        info["req"] = bytes(got)
        c.sendall(reply)

    b = Backend(handler)
    port = free_port()
    adhoc(binary, port, f"{LO4}:{b.port}")
    s = connect(LO4, port)
    s.sendall(req)
    s.shutdown(socket.SHUT_WR)
    kind, data, _ = outcome(s)
    check_eq(kind, "eof", "end of the reply")
    check_eq(sha(data), sha(reply), "reply after the client's half-close")
    conn = b.wait_conns(1)[0]
    conn["done"].wait(scaled(10))
    check_eq(sha(conn.get("req", b"")), sha(req), "request")


@test
def half_close_server_first(binary):
    greet = random.Random(5).randbytes(300_000)
    up = random.Random(6).randbytes(1_000_000)

    def handler(c, info):
        c.sendall(greet)
        c.shutdown(socket.SHUT_WR)
        got = bytearray()
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += d
        info["up"] = bytes(got)

    b = Backend(handler)
    port = free_port()
    adhoc(binary, port, f"{LO4}:{b.port}")
    s = connect(LO4, port)
    kind, data, _ = outcome(s)
    check_eq(kind, "eof", "server's half-close reaches the client")
    check_eq(sha(data), sha(greet), "data before the half-close")
    s.sendall(up)
    s.shutdown(socket.SHUT_WR)
    conn = b.wait_conns(1)[0]
    check(conn["done"].wait(scaled(10)), "server never saw the client's EOF")
    check_eq(sha(conn.get("up", b"")), sha(up), "client->server after the server's half-close")


@test
def reset_from_server_resets_client(binary):
    def handler(c, info):
        recv_exact(c, 5)
        rst_close(c)

    b = Backend(handler)
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}")
    s = connect(LO4, port)
    s.sendall(b"hello")
    kind, _, _ = outcome(s)
    check_eq(kind, "reset", "client side after the server's reset")
    from proxytest import poll_until, stderr_text
    check(poll_until(lambda: "status=SERVER" in stderr_text(p), 5), "end line with status=SERVER")


@test
def reset_from_client_resets_server(binary):
    def handler(c, info):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    info["end"] = "eof"
                    return
                c.sendall(d)
        except ConnectionResetError:
            info["end"] = "reset"

    b = Backend(handler)
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}")
    s = connect(LO4, port)
    s.sendall(b"hello")
    recv_exact(s, 5)
    rst_close(s)
    conn = b.wait_conns(1)[0]
    check(conn["done"].wait(scaled(10)), "server connection still open after the client's reset")
    check_eq(conn.get("end"), "reset", "server side after the client's reset")
    from proxytest import poll_until, stderr_text
    check(poll_until(lambda: "status=CLIENT" in stderr_text(p), 5), "end line with status=CLIENT")


@test
def failover_to_second_server(binary):
    b = Backend(echo(b"B\n"))
    dead = dead_port()
    port = free_port()
    p = configmode(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{dead} {LO4}:{b.port}\n", [(LO4, port)])
    for _ in range(2):
        s = connect(LO4, port)
        check_eq(recv_exact(s, 2), b"B\n", "greeting of the second server")
        s.close()
    from proxytest import poll_until, stderr_text
    check(poll_until(lambda: stderr_text(p).count("status=WARNING") >= 2, 5),
          "a failed first server makes the session a WARNING")


@test
def server_without_port_uses_local_port(binary):
    b = Backend(echo(b"P\n"), host="127.0.0.2")
    adhoc(binary, b.port, "127.0.0.2")
    s = connect(LO4, b.port)
    check_eq(recv_exact(s, 2), b"P\n", "greeting from 127.0.0.2 on the same port")


@test
def bind_without_address_listens_everywhere(binary):
    b = Backend(echo(b"W\n"))
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", bind=str(port))
    from proxytest import wait_listening
    wait_listening(LO6, port, p)
    for host in (LO4, "127.0.0.3", LO6):
        s = connect(host, port)
        check_eq(recv_exact(s, 2), b"W\n", f"served via {host}")
        s.close()


@test
def ipv6_end_to_end(binary):
    b = Backend(echo(b"6\n"), host=LO6)
    port = free_port(LO6)
    adhoc(binary, port, f"[{LO6}]:{b.port}", host=LO6, bind=f"[{LO6}]:{port}")
    s = connect(LO6, port)
    check_eq(recv_exact(s, 2), b"6\n", "greeting over IPv6")
    s.sendall(b"xyz")
    check_eq(recv_exact(s, 3), b"xyz", "echo over IPv6")


@test
def nic_section_matches_lo(binary):
    a, b = Backend(echo(b"A\n")), Backend(echo(b"B\n"))
    port = free_port()
    configmode(binary, f"port {port}\n  interface lo\n    server {LO4}:{a.port}\n"
               f"  interface *\n    server {LO4}:{b.port}\n", [(LO4, port)])
    s = connect(LO4, port)
    check_eq(recv_exact(s, 2), b"A\n", "served by the `interface lo` section")


@test
def no_matching_section_is_access(binary):
    a = Backend(echo(b"A\n"))
    port = free_port()
    # A NIC-name section makes the port bind the wildcard; a NIC that does not
    # exist matches no connection, so 127.0.0.1 is accepted and then refused.
    p = configmode(binary, f"port {port}\n  interface nosuchnic0\n    server {LO4}:{a.port}\n", [(LO4, port)])
    s = connect(LO4, port)
    kind, data, _ = outcome(s)
    check(kind in ("eof", "reset"), f"connection closed, got {kind}")
    check_eq(data, b"", "data received")
    from proxytest import poll_until, stderr_text
    check(poll_until(lambda: "status=ACCESS" in stderr_text(p), 5), "end line with status=ACCESS")
    check_eq(a.count(), 0, "backend connections")


if __name__ == "__main__":
    main()
