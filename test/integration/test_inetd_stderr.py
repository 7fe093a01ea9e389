"""inetd mode with stderr on the client's socket (as openbsd-inetd starts us): tcpproxy
never writes to it, whatever the options (-d included); diagnostics go to syslog only."""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (Backend, LO4, check, check_eq, echo, main, outcome, recv_exact, scaled, test,  # noqa: E402
                       user_args, write_file)


def inetd_all_three(binary, args):
    """stdin, stdout and stderr all the accepted connection; returns (client, process)."""
    ls = socket.socket()
    ls.bind((LO4, 0))
    ls.listen(1)
    cli = socket.socket()
    cli.connect(ls.getsockname())
    srv, _ = ls.accept()
    ls.close()
    args = [str(a) for a in args]
    p = subprocess.Popen([binary, *user_args(args), *args], stdin=srv.fileno(), stdout=srv.fileno(),
                         stderr=srv.fileno(), close_fds=True)
    srv.close()
    proxytest._procs.append(p)
    return cli, p


def wait(p, timeout=10):
    try:
        return p.wait(scaled(timeout))
    except subprocess.TimeoutExpired:
        return None


@test
def a_broken_configuration_is_not_sent_to_the_client(binary):
    conf = write_file("broken.conf", "port 1\n    sever 127.0.0.1:9\n")
    cli, p = inetd_all_three(binary, ["-d", "-f", conf])
    kind, data, _ = outcome(cli)
    check_eq(data, b"", "bytes the client received")
    check(kind in ("eof", "reset"), f"the connection ends: {kind}")
    check_eq(wait(p), 1, "exit status of an invalid configuration")


@test
def a_usage_error_is_not_sent_to_the_client(binary):
    cli, p = inetd_all_three(binary, ["-d", "--no-such-option"])
    kind, data, _ = outcome(cli)
    check_eq(data, b"", "bytes the client received")
    check_eq(wait(p), 2, "exit status of a usage error")


@test
def debug_lines_of_a_session_are_not_sent_to_the_client(binary):
    b = Backend(echo(b"I\n"))
    cli, p = inetd_all_three(binary, ["-d", "-n", f"{LO4}:{b.port}"])
    check_eq(recv_exact(cli, 2), b"I\n", "greeting, and nothing before it")
    cli.sendall(b"abc")
    check_eq(recv_exact(cli, 3), b"abc", "echo")
    cli.shutdown(socket.SHUT_WR)
    kind, data, _ = outcome(cli)
    check_eq(data, b"", "bytes after the echo (log lines?)")
    check_eq(kind, "eof", "end of session")
    check_eq(wait(p), 0, "exit status")


if __name__ == "__main__":
    main()
