"""session-keep-limit COUNT [BYTES] (issue 11.5, tcpproxy.conf(5)): kept session logfiles are capped
by count and bytes, the oldest removed first, each removal logged; files an earlier run kept count
too. Without it a flood of denied connections filled the disk (3,000 logfiles in 0.8 s)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (LO4, Backend, check, check_eq, configmode, connect, echo, free_port, main,  # noqa: E402
                       outcome, poll_until, scaled, scratch_dir, stderr_text, test)


def keep_config(sess, port, backend, limit):
    return (f"session-dir {sess}\nsession-mode keep\nexit-code access\nsession-keep-limit {limit}\n"
            f"port {port}\n  acl +10.0.0.0/8\n  server {LO4}:{backend.port}\n")


def denied(port, n):
    for _ in range(n):
        outcome(connect(LO4, port), scaled(5))


def logfiles(sess):
    return sorted(f for f in os.listdir(sess) if f.endswith(".log"))


def session_of(name):
    return int(name.rsplit(".", 2)[1])


@test
def thirty_denied_sessions_with_a_limit_of_5_leave_the_5_newest(binary):
    b = Backend(echo(b"HI\n"))
    sess = scratch_dir("sessions")
    # What an earlier run kept (its process is gone): the oldest, removed first.
    earlier = [os.path.join(sess, f"tcpproxy.999999.{i}.log") for i in (1, 2)]
    for i, path in enumerate(earlier):
        with open(path, "w") as f:
            f.write("earlier run\n")
        os.utime(path, (1000 + i, 1000 + i))
    port = free_port()
    p = configmode(binary, keep_config(sess, port, b, 5), [(LO4, port)])
    denied(port, 30)
    check(poll_until(lambda: stderr_text(p).count("session logfile removed: ") >= 27, 10),
          f"27 removals logged: {stderr_text(p).count('session logfile removed: ')}")
    left = logfiles(sess)
    check_eq(len(left), 5, f"kept logfiles ({left})")
    removed = re.findall(r"session logfile removed: (\S+)", stderr_text(p))
    check_eq(removed[:2], earlier, "the earlier run's files went first")
    kept = re.findall(r"session logfile kept: (\S+)", stderr_text(p))
    check_eq(removed[2:], kept[:25], "then ours, in the order they were kept")
    check_eq(left, sorted(os.path.basename(k) for k in kept[25:]), "the 5 kept last are left")


@test
def a_byte_limit_keeps_the_newest_file_only_when_each_is_larger(binary):
    b = Backend(echo(b"HI\n"))
    sess = scratch_dir("sessions-bytes")
    port = free_port()
    p = configmode(binary, keep_config(sess, port, b, "0 1"), [(LO4, port)])
    denied(port, 4)
    check(poll_until(lambda: stderr_text(p).count("session logfile removed: ") >= 3, 10),
          f"3 removals logged: {stderr_text(p)[-1500:]}")
    check_eq(len(logfiles(sess)), 1, "kept logfiles (the newest is never removed)")


if __name__ == "__main__":
    main()
