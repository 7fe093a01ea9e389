"""One daemon per pidfile (issue 10.3): the pidfile is locked for the daemon's
life; a second daemon refuses before binding, a stale file is taken over, only
the writer removes it, and a link or FIFO in its place is refused without
blocking."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, echo, free_port, is_listening, main,  # noqa: E402
                       scaled, scratch, start, stderr_text, stop, test)


def read(path):
    with open(path) as f:
        return f.read()


def refused(binary, pidfile, b):
    """Starts a daemon on a fresh port with `pidfile`; it must exit 1 without binding. Returns its stderr."""
    port = free_port()
    p = start(binary, ["-d", "-n", "-pp", pidfile, "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"])
    try:
        rc = p.wait(scaled(10))
    except Exception:
        check(False, "the second daemon did not exit (blocked?)")
    check_eq(rc, 1, "exit status of the refused daemon")
    check(not is_listening(LO4, port), "the refused daemon bound its port")
    return stderr_text(p)


@test
def second_daemon_refuses_before_binding(binary):
    b = Backend(echo())
    pidfile = scratch("lock.pid")
    first = adhoc(binary, free_port(), f"{LO4}:{b.port}", extra=["-pp", pidfile])
    check_eq(read(pidfile), f"{first.pid}\n", "pidfile of the first daemon")
    err = refused(binary, pidfile, b)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    check(len(lines) == 1 and pidfile in lines[0] and str(first.pid) in lines[0],
          f"one line naming the file and the running pid: {err!r}")
    # Only the writer removes it: the refused daemon left it alone.
    check_eq(read(pidfile), f"{first.pid}\n", "pidfile after the refused start")
    check(first.poll() is None, "the first daemon still runs")
    check_eq(stop(first), 0, "exit status of the first daemon")
    check(not os.path.exists(pidfile), "the writer removed its pidfile")


@test
def stale_pidfile_taken_over(binary):
    b = Backend(echo())
    pidfile = scratch("stale.pid")
    with open(pidfile, "w") as f:
        f.write("99999999\n")
    p = adhoc(binary, free_port(), f"{LO4}:{b.port}", extra=["-pp", pidfile])
    check_eq(read(pidfile), f"{p.pid}\n", "a stale pidfile (no lock held) is taken over")
    stop(p)
    check(not os.path.exists(pidfile), "pidfile removed at the end")


def refused_in_place(binary, make_link, why):
    """A pidfile path that is another name of a file: refused, the file untouched."""
    b = Backend(echo())
    target = scratch(f"target.{why}")
    with open(target, "w") as f:
        f.write("keep me\n")
    link = scratch(f"link.{why}.pid")
    make_link(target, link)
    err = refused(binary, link, b)
    check(why in err, f"says why ({why}): {err!r}")
    check_eq(read(target), "keep me\n", "the other name's file")


@test
def symlink_refused(binary):
    refused_in_place(binary, os.symlink, "symbolic link")


@test
def hard_link_refused(binary):
    refused_in_place(binary, os.link, "links")


@test
def fifo_refused_without_blocking(binary):
    b = Backend(echo())
    fifo = scratch("fifo.pid")
    os.mkfifo(fifo)
    # A reader on the FIFO: without O_NONBLOCK the open would succeed and the write block.
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        err = refused(binary, fifo, b)
    finally:
        os.close(r)
    check("regular file" in err, f"says why: {err!r}")


if __name__ == "__main__":
    main()
