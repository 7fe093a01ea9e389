"""inetd mode: stdin is the client; the exit status is the session's status number."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, check, check_eq, dead_port, echo, main, outcome, recv_exact, scaled,  # noqa: E402
                       start, test, write_file)


def inetd(binary, args, src=None):
    """Accept a connection ourselves and hand it to tcpproxy as stdin/stdout."""
    ls = socket.socket()
    ls.bind((LO4, 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    cli = socket.socket()
    if src:
        cli.bind((src, 0))
    cli.connect((LO4, port))
    srv, _ = ls.accept()
    ls.close()
    p = start(binary, ["-d", "-n", *args], stdin=srv.fileno(), stdout=srv.fileno())
    srv.close()
    return cli, p, port


def exit_status(p, timeout=10):
    try:
        return p.wait(scaled(timeout))
    except Exception:
        return None


@test
def ok_session_exits_0(binary):
    b = Backend(echo(b"I\n"))
    cli, p, _ = inetd(binary, [f"{LO4}:{b.port}"])
    check_eq(recv_exact(cli, 2), b"I\n", "greeting")
    cli.sendall(b"abc")
    check_eq(recv_exact(cli, 3), b"abc", "echo")
    cli.shutdown(socket.SHUT_WR)
    kind, _, _ = outcome(cli)
    check_eq(kind, "eof", "end of session")
    check_eq(exit_status(p), 0, "exit status")


@test
def refused_server_exits_3(binary):
    cli, p, _ = inetd(binary, [f"{LO4}:{dead_port()}"])
    kind, data, _ = outcome(cli)
    check(kind in ("eof", "reset") and not data, f"client closed without data: {kind} {data!r}")
    check_eq(exit_status(p), 3, "exit status CONNECT")


@test
def idle_timeout_exits_4(binary):
    b = Backend(echo())
    cli, p, _ = inetd(binary, ["-t", "1", f"{LO4}:{b.port}"])
    t0 = time.monotonic()
    kind, _, _ = outcome(cli, scaled(6))
    check(kind in ("eof", "reset"), f"closed after the idle timeout: {kind}")
    check(time.monotonic() - t0 >= 0.9, "not before the timeout")
    check_eq(exit_status(p), 4, "exit status TIMEOUT")


@test
def server_reset_exits_5(binary):
    import struct

    def handler(c, info):
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.recv(1)
    b = Backend(handler)
    cli, p, _ = inetd(binary, [f"{LO4}:{b.port}"])
    cli.sendall(b"x")
    kind, _, _ = outcome(cli)
    check_eq(kind, "reset", "client reset too")
    check_eq(exit_status(p), 5, "exit status SERVER")


@test
def no_section_exits_2(binary):
    b = Backend(echo())
    conf = write_file("inetd.conf", f"port 1\n  server {LO4}:{b.port}\n")
    cli, p, _ = inetd(binary, ["-f", conf])
    kind, data, _ = outcome(cli)
    check(kind in ("eof", "reset") and not data, f"closed without data: {kind}")
    check_eq(exit_status(p), 2, "exit status ACCESS (no section for this port)")
    check_eq(b.count(), 0, "no upstream connection")


@test
def sigterm_exits_7(binary):
    b = Backend(echo())
    cli, p, _ = inetd(binary, [f"{LO4}:{b.port}"])
    cli.sendall(b"x")
    recv_exact(cli, 1)
    p.terminate()
    check_eq(exit_status(p), 7, "exit status PROXY when cut by a signal")


if __name__ == "__main__":
    main()
