"""Descriptors we were started with (issue 11.5, tcpproxy(1) SECURITY): a descriptor above 2 left
open by the parent (here a file standing for /etc/shadow) is closed before the privilege drop, so
neither the unprivileged daemon nor the spawner holds it; the sockets systemd passes are kept
(test_socket_activation)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (LO4, Backend, check, check_eq, connect, echo, free_port, main, poll_until,  # noqa: E402
                       recv_exact, require_root, scratch, stop, test, wait_listening, write_file, _procs)


def descriptors_on(pid, path):
    """The descriptors of `pid` open on `path`."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                out.append(int(fd))
        except OSError:
            pass
    return out


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


@test
def a_descriptor_inherited_at_start_is_closed_before_the_privilege_drop(binary):
    require_root("the privilege drop")
    b = Backend(echo(b"HI\n"))
    port = free_port()
    secret = write_file("shadow", "root:$6$secret:19000::::::\n", mode=0o600)
    fd = os.open(secret, os.O_RDONLY)  # as a parent shell might leave it open
    os.set_inheritable(fd, True)
    err = open(scratch("stderr.inherited"), "wb")
    try:
        # No -u: the daemon drops to its default user, the spawner stays root.
        p = subprocess.Popen([binary, "-d", "-n", "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"], pass_fds=(fd,),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    finally:
        os.close(fd)
        err.close()
    p.errpath = scratch("stderr.inherited")
    _procs.append(p)
    wait_listening(LO4, port, p)
    s = connect(LO4, port)
    check_eq(recv_exact(s, 3), b"HI\n", "the daemon serves")
    s.close()
    check(poll_until(lambda: os.stat(f"/proc/{p.pid}").st_uid != 0, 5), "the daemon gave up root")
    check_eq(descriptors_on(p.pid, secret), [], "descriptors of the unprivileged daemon on the inherited file")
    for child in children(p.pid):
        check_eq(descriptors_on(child, secret), [], f"descriptors of child {child} (the spawner) on it")
    stop(p)


if __name__ == "__main__":
    main()
