"""`tcpproxy --status` prints, after the running sessions, a totals line from the same
counters as the metrics (sessions, failures, bytes since start), asked of the daemon's
metrics listener (--metrics, or the config file's `metrics`)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, connect, dead_port, echo, free_port, main,  # noqa: E402
                       poll_until, recv_exact, scaled, scratch_dir, stop, test)


def status(binary, d, mport):
    r = subprocess.run([binary, "--status", "-o", d, "--metrics", f"{LO4}:{mport}"], capture_output=True, text=True,
                       timeout=scaled(10))
    return r.stdout


@test
def totals_line_counts_sessions_failures_and_bytes(binary):
    b = Backend(echo())
    d = scratch_dir("stat", 0o777)
    port, mport = free_port(), free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-o", d, "--metrics", f"{LO4}:{mport}"])
    for _ in range(2):
        c = connect(LO4, port)
        c.sendall(b"x" * 100)
        check_eq(recv_exact(c, 100), b"x" * 100, "echo")
        c.close()
    want = "totals: 2 sessions (2 ended, 0 not OK), 200 bytes from clients, 200 bytes from servers"
    line = poll_until(lambda: want in status(binary, d, mport).splitlines(), 10)
    check(line, f"the totals line: {status(binary, d, mport)!r}")
    check_eq(stop(p), 0, "exit status")


@test
def failures_are_counted(binary):
    d = scratch_dir("stat2", 0o777)
    port, mport = free_port(), free_port()
    p = adhoc(binary, port, f"{LO4}:{dead_port()}", extra=["-o", d, "--metrics", f"{LO4}:{mport}"])
    connect(LO4, port).close()
    line = poll_until(lambda: "1 not OK" in status(binary, d, mport), 10)
    check(line, f"the failed connect is counted: {status(binary, d, mport)!r}")
    stop(p)


if __name__ == "__main__":
    main()
