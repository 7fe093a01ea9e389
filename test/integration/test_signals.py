"""Daemon life: SIGTERM/SIGINT shutdown, SIGHUP reload, going to the background."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (START_WAIT, Backend, LO4, check, check_eq, configmode, connect, echo, free_port, is_listening,  # noqa: E402
                       main, outcome, poll_until, recv_exact, scaled, scratch, start, stderr_text, stop, test,
                       wait_listening, write_file)


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


@test
def sigterm_ends_sessions_and_cleans_up(binary):
    b = Backend(echo())
    port = free_port()
    pidfile = scratch("term.pid")
    p = start(binary, ["-d", "-n", "-pp", pidfile, "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"])
    wait_listening(LO4, port, p)
    check(poll_until(lambda: read(pidfile) == str(p.pid), 5), f"pidfile holds {read(pidfile)!r}")
    sessions = [connect(LO4, port) for _ in range(3)]
    for s in sessions:
        s.sendall(b"x")
        recv_exact(s, 1)
    check_eq(stop(p, signal.SIGTERM), 0, "exit status after SIGTERM")
    for s in sessions:
        kind, _, _ = outcome(s, scaled(5))
        check(kind in ("eof", "reset"), f"session still open after shutdown: {kind}")
    check(not os.path.exists(pidfile), "pidfile removed")
    check(not is_listening(LO4, port), "port closed")
    check_eq(stderr_text(p).count("status=PROXY"), 3, "sessions cut by the shutdown logged with status PROXY")


@test
def sigint_exits_0(binary):
    b = Backend(echo())
    port = free_port()
    p = start(binary, ["-d", "-n", "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"])
    wait_listening(LO4, port, p)
    check_eq(stop(p, signal.SIGINT), 0, "exit status after SIGINT")


@test
def daemon_goes_to_background(binary):
    b = Backend(echo(b"D\n"))
    port = free_port()
    pidfile = scratch("daemon.pid")
    p = start(binary, ["-n", "-pp", pidfile, "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"])
    check_eq(p.wait(scaled(START_WAIT)), 0, "the starting process exits 0 once the daemon is up")
    pid = read(pidfile)
    check(pid and pid.isdigit() and int(pid) != p.pid, f"pidfile holds the daemon's pid: {pid!r}")
    pid = int(pid)
    try:
        check(is_listening(LO4, port), "the daemon listens")
        s = connect(LO4, port)
        check_eq(recv_exact(s, 2), b"D\n", "served by the daemon")
        s.close()
    finally:
        os.kill(pid, signal.SIGTERM)
    check(poll_until(lambda: not os.path.exists(f"/proc/{pid}") or
                     open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z", 10), "daemon exited")
    check(not os.path.exists(pidfile), "pidfile removed by the daemon")


@test
def busy_port_fails_before_forking(binary):
    import socket
    hold = socket.socket()
    hold.bind((LO4, 0))
    hold.listen(1)
    port = hold.getsockname()[1]
    p = start(binary, ["-n", "-b", f"{LO4}:{port}", f"{LO4}:1"])
    check_eq(p.wait(scaled(10)), 1, "exit status with the port taken")
    check("bind" in stderr_text(p), f"error names the call: {stderr_text(p)!r}")


@test
def sighup_reload_adds_and_removes_ports(binary):
    a, bb = Backend(echo(b"A\n")), Backend(echo(b"B\n"))
    p1, p2 = free_port(), free_port()
    p = configmode(binary, f"port {p1}\n  interface {LO4}\n    server {LO4}:{a.port}\n", [(LO4, p1)])
    old = connect(LO4, p1)
    check_eq(recv_exact(old, 2), b"A\n", "before reload")
    tmp = p.conf + ".new"
    with open(tmp, "w") as f:
        f.write(f"port {p2}\n  interface {LO4}\n    server {LO4}:{bb.port}\n")
    os.replace(tmp, p.conf)
    p.send_signal(signal.SIGHUP)
    check(poll_until(lambda: is_listening(LO4, p2) and not is_listening(LO4, p1), START_WAIT),
          "new port bound and old one closed")
    old.sendall(b"still\n")
    check_eq(recv_exact(old, 6), b"still\n", "session opened before the reload untouched")
    s = connect(LO4, p2)
    check_eq(recv_exact(s, 2), b"B\n", "new port served by the new config")


@test
def sighup_invalid_config_keeps_old(binary):
    a = Backend(echo(b"A\n"))
    p1 = free_port()
    p = configmode(binary, f"port {p1}\n  interface {LO4}\n    server {LO4}:{a.port}\n", [(LO4, p1)])
    with open(p.conf, "w") as f:
        f.write(f"port {p1}\n  interface {LO4}\n    bogus-keyword 1\n")
    p.send_signal(signal.SIGHUP)
    check(poll_until(lambda: "keeping the running configuration" in stderr_text(p), START_WAIT), "failed reload logged")
    check("error" in stderr_text(p), "diagnostics logged")
    check(p.poll() is None, "still running")
    s = connect(LO4, p1)
    check_eq(recv_exact(s, 2), b"A\n", "old config still serves")


if __name__ == "__main__":
    main()
