"""Status files (§4.6): exact content, mode, atomic replacement of planted
symlinks, removal at session end and at SIGTERM, stale files of dead PIDs
removed at start, `tcpproxy --status` on a live daemon."""

import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, connect, echo, fail, free_port, main, poll_until,  # noqa: E402
                       recv_exact, scaled, scratch, stderr_text, stop, test, write_file)

_n = [0]


def statdir():
    _n[0] += 1
    d = scratch(f"stat.{_n[0]}")
    os.mkdir(d)
    return d


def read_all(d):
    out = {}
    for n in os.listdir(d):
        try:
            with open(os.path.join(d, n)) as f:
                out[n] = f.read()
        except OSError:
            pass
    return out


def wait_connected(d, n):
    def ok():
        files = read_all(d)
        return len(files) == n and all(c.split(" ")[7:8] not in ([], ["-"]) for c in files.values()) and files
    files = poll_until(ok, 5)
    if not files:
        fail(f"expected {n} status file(s) with a server in {d}, found {read_all(d)}")
    return files


def session(port):
    s = connect(LO4, port)
    s.sendall(b"hi\n")
    check_eq(recv_exact(s, 3), b"hi\n", "echo")
    return s


@test
def exact_content_and_removal(binary):
    b = Backend(echo())
    d = statdir()
    port = free_port()
    t0 = int(time.time())
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-o", d])
    s = session(port)
    files = wait_connected(d, 1)
    name, line = next(iter(files.items()))
    check_eq(name, f"tcpproxy.{p.pid}.1", "file name LOGNAME.PID.SESSIONID")
    fields = line.split(" ")
    started = int(fields[3])
    check(t0 <= started <= int(time.time()), f"STARTED {started} between {t0} and now")
    check_eq(line, f"tcpproxy tcpproxy {p.pid} {started} {LO4}:{port} {LO4} {LO4} {LO4}:{b.port} -\n",
             "status line")
    check_eq(stat.S_IMODE(os.lstat(os.path.join(d, name)).st_mode), 0o644, "mode")
    s.close()
    check(poll_until(lambda: not os.listdir(d), 5), f"status file removed at session end: {os.listdir(d)}")


@test
def removed_after_sigterm(binary):
    b = Backend(echo())
    d = statdir()
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-o", d])
    socks = [session(port) for _ in range(2)]
    wait_connected(d, 2)
    check_eq(stop(p), 0, "exit status after SIGTERM")
    check_eq(os.listdir(d), [], "status files after SIGTERM")
    for s in socks:
        s.close()


@test
def stale_files_removed_at_start(binary):
    d = statdir()
    gone = subprocess.Popen(["true"])
    gone.wait()  # its PID is now not running (the kernel does not reuse it at once)
    live = os.getpid()
    line = f"tcpproxy tcpproxy {{}} 1700000000 {LO4}:1 {LO4} {LO4} - -\n"
    for n, pid in ((f"tcpproxy.{gone.pid}.7", gone.pid), (f".tcpproxy.{gone.pid}.8.tmp", gone.pid),
                   (f"tcpproxy.{live}.1", live), ("notes.txt", live)):
        with open(os.path.join(d, n), "w") as f:
            f.write(line.format(pid))
    b = Backend(echo())
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-o", d])
    want = sorted([f"tcpproxy.{live}.1", "notes.txt"])
    # Listening comes first, the clean-up just after: poll for it.
    poll_until(lambda: sorted(os.listdir(d)) == want, 5)
    check_eq(sorted(os.listdir(d)), want, "files left after start (stale ones removed, a live PID's and foreign ones kept)")
    check(f"tcpproxy.{gone.pid}.7" in stderr_text(p), "the removal is logged")
    stop(p)


@test
def status_command_on_live_daemon(binary):
    b = Backend(echo())
    d = statdir()
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-o", d])
    socks = [session(port) for _ in range(3)]
    wait_connected(d, 3)
    r = subprocess.run([binary, "--status", "-o", d], capture_output=True, timeout=scaled(10))
    out = r.stdout.decode()
    check_eq(r.returncode, 0, f"--status exit status (stderr {r.stderr!r})")
    check_eq(r.stderr, b"", "--status warnings")
    lines = out.splitlines()
    check_eq(len(lines), 4, f"header and 3 rows in {out!r}")
    check("CLIENT" in lines[0] and "SERVER" in lines[0], f"header {lines[0]!r}")
    for i, row in enumerate(lines[1:], 1):
        for text in (LO4, f"{LO4}:{port}", f"{LO4}:{b.port}", f"{p.pid}/{i}"):
            check(text in row, f"{text!r} in row {row!r}")
    for s in socks:
        s.close()
    check(poll_until(lambda: not os.listdir(d), 5), "status files removed")
    r = subprocess.run([binary, "--status", "-o", d], capture_output=True, timeout=scaled(10))
    check_eq(len(r.stdout.decode().splitlines()), 1, "only the header once the sessions are gone")
    stop(p)


@test
def planted_symlinks_not_followed(binary):
    b = Backend(echo())
    d = statdir()
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-o", d])
    target = write_file("victim.txt", "victim\n")
    target_tmp = write_file("victim-tmp.txt", "victim tmp\n")
    name = f"tcpproxy.{p.pid}.1"
    os.symlink(target, os.path.join(d, name))
    os.symlink(target_tmp, os.path.join(d, f".{name}.tmp"))
    s = session(port)
    files = wait_connected(d, 1)
    check_eq(list(files), [name], "status files")
    check(not os.path.islink(os.path.join(d, name)), "the symlink is replaced by the status file")
    with open(target) as f:
        check_eq(f.read(), "victim\n", "the symlink target")
    with open(target_tmp) as f:
        check_eq(f.read(), "victim tmp\n", "the temporary name's symlink target")
    s.close()
    check(poll_until(lambda: not os.listdir(d), 5), "status file removed")
    check(os.path.exists(target), "the target is still there")
    stop(p)


if __name__ == "__main__":
    main()
