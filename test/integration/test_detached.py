"""A detached daemon (no -d) keeps its relative paths (issue 10.2).

The daemon works from `/` once in the background, so every path is resolved
when it is read: command-line paths against the directory tcpproxy was started
in, paths inside a configuration file against that file's directory.
"""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, check, check_eq, connect, echo, fail, free_port, main,  # noqa: E402
                       poll_until, recv_exact, scaled, scratch_dir, test, user_args, wait_listening, write_file)

_daemons = []


def detached(binary, args, cwd, listen):
    """Starts tcpproxy without -d from `cwd`; returns the daemon's pid (from its pidfile)."""
    pidfile = os.path.join(cwd, "daemon.pid")
    args = [str(a) for a in args]
    r = subprocess.run([binary] + user_args(args) + ["-n", "-pp", "daemon.pid"] + args, cwd=cwd,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=scaled(20))
    check_eq(r.returncode, 0, "exit status of the starting tcpproxy: " + r.stderr.decode(errors="replace"))
    check(poll_until(lambda: os.path.exists(pidfile), scaled(5)), "pidfile written (relative -pp)")
    with open(pidfile) as f:
        pid = int(f.read().strip())
    _daemons.append(pid)
    for host, port in listen:
        wait_listening(host, port)
    return pid, r.stderr.decode(errors="replace")


def stop_daemon(pid):
    """SIGTERM to the daemon this test started, and wait until its process is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not poll_until(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), scaled(15)):
        os.kill(pid, signal.SIGKILL)
        fail(f"daemon {pid} did not end after SIGTERM")


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")
    except OSError:
        return True


def cleanup(fn):
    """Every daemon a test started detached is stopped when the test ends."""
    def run(binary):
        try:
            fn(binary)
        finally:
            while _daemons:
                stop_daemon(_daemons.pop())
    run.__name__ = fn.__name__
    return run


@test
@cleanup
def relative_handler_program(binary):
    d = scratch_dir("handler_dir")
    write_file("handler_dir/handler.sh", "#!/bin/sh\necho detached-hello\n", mode=0o755)
    port = free_port()
    detached(binary, ["-b", f"{LO4}:{port}", "./handler.sh"], d, [(LO4, port)])
    s = connect(LO4, port)
    check_eq(recv_exact(s, len(b"detached-hello\n")), b"detached-hello\n", "handler output")
    s.close()


@test
@cleanup
def relative_statdir_and_capture(binary):
    d = scratch_dir("rel_dir")
    os.mkdir(os.path.join(d, "relstat"))
    os.mkdir(os.path.join(d, "relcap"))
    b = Backend(echo())
    port = free_port()
    pid, _ = detached(binary, ["-o", "relstat", "-w", "relcap/cap", "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"], d,
                      [(LO4, port)])
    s = connect(LO4, port)
    s.sendall(b"ping")
    check_eq(recv_exact(s, 4), b"ping", "echo through the daemon")
    statdir = os.path.join(d, "relstat")
    check(poll_until(lambda: any(n.startswith("tcpproxy.") for n in os.listdir(statdir)), scaled(5)),
          "status file in the relative statdir")
    s.close()
    check(poll_until(lambda: os.listdir(os.path.join(d, "relcap")), scaled(5)), "capture file under relcap/")
    stop_daemon(pid)
    check(not os.path.exists(os.path.join(d, "daemon.pid")), "relative pidfile removed at the end")


@test
@cleanup
def config_paths_are_relative_to_the_config_file(binary):
    d = scratch_dir("conf_rel")
    confdir = os.path.join(d, "etc")
    os.mkdir(confdir)
    os.mkdir(os.path.join(confdir, "stat"))
    elsewhere = scratch_dir("conf_rel_cwd")
    b = Backend(echo())
    port = free_port()
    conf = os.path.join(confdir, "tcpproxy.conf")
    with open(conf, "w") as f:
        f.write(f"statdir stat\nport {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n")
    # -f relative to the start directory, statdir relative to the file's own directory.
    detached(binary, ["-s", "-f", os.path.relpath(conf, elsewhere)], elsewhere, [(LO4, port)])
    s = connect(LO4, port)
    s.sendall(b"x")
    recv_exact(s, 1)
    check(poll_until(lambda: os.listdir(os.path.join(confdir, "stat")), scaled(5)),
          "status file in etc/stat (the config file's directory), not under the start directory")
    s.close()
    # The same on reload: the daemon is in / by now.
    os.mkdir(os.path.join(confdir, "stat2"))
    with open(conf, "w") as f:
        f.write(f"statdir stat2\nport {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n")
    os.kill(_daemons[-1], signal.SIGHUP)

    def new_statdir_used():
        s = connect(LO4, port)
        s.sendall(b"y")
        recv_exact(s, 1)
        found = poll_until(lambda: os.listdir(os.path.join(confdir, "stat2")), scaled(0.5))
        s.close()
        return found
    check(poll_until(new_statdir_used, scaled(10), interval=0.1), "after SIGHUP the status file is in etc/stat2")


@test
def check_config_reports_missing_programs(binary):
    d = scratch_dir("check_prog")
    write_file("check_prog/notexec.sh", "#!/bin/sh\n", mode=0o644)
    conf = write_file("check_prog/t.conf",
                      f"port {free_port()}\n  interface {LO4}\n    exec {d}/missing.sh\n"
                      f"port {free_port()}\n  interface {LO4}\n    exec {d}/notexec.sh\n")
    r = subprocess.run([binary, "--check-config", "-f", conf], capture_output=True, timeout=scaled(20))
    err = r.stderr.decode(errors="replace")
    check_eq(r.returncode, 0, "--check-config exit status (a missing program is a warning): " + err)
    check("missing.sh" in err and "No such file" in err, f"missing program reported: {err!r}")
    check("notexec.sh" in err and "not executable" in err, f"non-executable program reported: {err!r}")


@test
@cleanup
def missing_handler_warned_at_start(binary):
    d = scratch_dir("warn_dir")
    port = free_port()
    _, err = detached(binary, ["-b", f"{LO4}:{port}", "./absent.sh"], d, [(LO4, port)])
    check("absent.sh" in err and "No such file" in err, f"start-up warning about the missing handler: {err!r}")


if __name__ == "__main__":
    main()
