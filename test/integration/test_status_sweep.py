"""The start-up sweep of stale status files and --status (issues 10.5, 11.5):
the sweep runs as the user that writes the files, never follows a symlinked
statdir and removes only regular files of that user; --status marks sessions
whose process is gone, skips files another user forged and prints no
control character."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (IN_CI, Backend, LO4, adhoc, check, check_eq, echo, fail, free_port, main,  # noqa: E402
                       poll_until, scaled, scratch_dir, skip, stderr_text, test)

NOBODY = 65534


def require_root(why):
    """This test needs root: skipped without it, a failure under CI=true (CI runs as root)."""
    if os.geteuid() != 0:
        (fail if IN_CI else skip)(f"needs root ({why})")


def gone_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def status_line(pid, started):
    return f"tcpproxy tcpproxy {pid} {started} 127.0.0.1:2525 127.0.0.2 client.example - -\n"


def write(path, text, uid=None):
    with open(path, "w") as f:
        f.write(text)
    if uid is not None:
        os.chown(path, uid, uid)


@test
def sweep_does_not_follow_a_symlinked_statdir(binary):
    d = scratch_dir("sweep_link")
    target = os.path.join(d, "elsewhere")
    os.mkdir(target)
    victim = os.path.join(target, f"tcpproxy.{gone_pid()}.1")
    write(victim, "not ours to remove\n")
    link = os.path.join(d, "statdir")
    os.symlink(target, link)
    b = Backend(echo())
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-o", link])
    check(poll_until(lambda: "status directory" in stderr_text(p), scaled(5)), "a warning about the statdir")
    check(os.path.exists(victim), "the sweep followed the symlink and removed a file in its target")


@test
def sweep_removes_only_our_regular_files(binary):
    require_root("files of another user")
    d = scratch_dir("sweep_own")
    dead = gone_pid()
    ours = os.path.join(d, f"tcpproxy.{dead}.1")
    theirs = os.path.join(d, f"tcpproxy.{dead}.2")
    write(ours, status_line(dead, int(time.time())))
    write(theirs, status_line(dead, int(time.time())), uid=NOBODY)
    os.mkfifo(os.path.join(d, f"tcpproxy.{dead}.3"))
    b = Backend(echo())
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-o", d])
    check(poll_until(lambda: not os.path.exists(ours), scaled(5)), "our stale status file removed at start")
    check(os.path.exists(theirs), "another user's file was removed")
    check(os.path.exists(os.path.join(d, f"tcpproxy.{dead}.3")), "a FIFO was removed")
    check("removed" in stderr_text(p), "the removal logged")


@test
def status_marks_gone_skips_forged_and_cleans_names(binary):
    require_root("a file of another user")
    d = scratch_dir("status_cmd")
    now = int(time.time())
    live = os.getpid()  # this test process: alive, run by root like the files below
    write(os.path.join(d, f"tcpproxy.{live}.1"), status_line(live, now - 10))
    write(os.path.join(d, f"tcpproxy.{live}.2\x1b]0;owned\x07"), status_line(live, now - 5))
    write(os.path.join(d, f"tcpproxy.{live}.3"), status_line(live, now - 3), uid=NOBODY)  # forged
    dead = gone_pid()
    write(os.path.join(d, f"tcpproxy.{dead}.4"), status_line(dead, now - 1200))
    r = subprocess.run([binary, "--status", "-o", d], capture_output=True, timeout=scaled(20))
    check_eq(r.returncode, 0, f"--status exit status ({r.stderr!r})")
    out, err = r.stdout, r.stderr
    check(b"\x1b" not in out + err and b"\x07" not in out + err, f"control characters printed: {out!r} {err!r}")
    check(f"{live}/1".encode() in out, f"the live session listed: {out!r}")
    check(f"{live}/2?]0;owned?".encode() in out, f"the hostile name shown cleaned: {out!r}")
    check(f"{live}/3".encode() not in out, f"the forged entry listed: {out!r}")
    check(b"not by the user of process" in err, f"the forged entry skipped with a reason: {err!r}")
    gone = [ln for ln in out.splitlines() if f"{dead}/4".encode() in ln]
    check(len(gone) == 1 and gone[0].endswith(b"(gone)"), f"the session of a gone process marked: {out!r}")


if __name__ == "__main__":
    main()
