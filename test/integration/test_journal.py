"""The journal, natively: when stderr is the journal (JOURNAL_STREAM names its device
and inode), every line goes once to the journal's native socket with PRIORITY and the
TCPPROXY_* fields, and nothing to stderr.

The journal is faked: a datagram socket of the test's, bound into a private mount
namespace (`unshare -m`, a tmpfs on /run/systemd/journal) at the journal's path, so the
daemon's libsystemd sends there; stderr is a stream socket whose device:inode is
JOURNAL_STREAM, as systemd sets it."""

import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (Backend, LO4, check, check_eq, echo, free_port, main, recv_exact, require_root,  # noqa: E402
                       require_tool, scaled, scratch, stop, test, user_args, wait_listening, connect)

require_root("a private mount namespace and mounts in it")
UNSHARE = require_tool("unshare", "util-linux")

# Inside the namespace: a tmpfs over /run (so nothing is created on the real /run),
# the journal's directory on a tmpfs of its own, the test's socket bound onto its path.
NAMESPACE_SCRIPT = r"""
set -e
mount -t tmpfs tmpfs /run
mount --make-rprivate /run
mkdir -p /run/systemd/journal
mount -t tmpfs tmpfs /run/systemd/journal
touch /run/systemd/journal/socket
mount --bind "$JOURNAL_TEST_SOCKET" /run/systemd/journal/socket
unset JOURNAL_TEST_SOCKET
exec "$@"
"""


def parse_entry(data):
    """One datagram of the native protocol: KEY=value lines, or KEY\\n + 64-bit LE length + value + \\n."""
    fields = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            i = nl + 9 + n + 1
        fields[k.decode()] = v.decode("utf-8", "replace")
    return fields


def unshare_argv():
    """`unshare -m` makes every mount private (its default). Inside a chroot
    whose root is not a mount point (a fresh CI root) that step fails; there
    propagation is left as it is, and the script makes /run private as soon
    as it is mounted."""
    probe = subprocess.run([UNSHARE, "-m", "true"], capture_output=True, text=True)
    if probe.returncode == 0:
        return [UNSHARE, "-m"]
    return [UNSHARE, "-m", "--propagation", "unchanged"]


def journal_daemon(binary, args):
    """tcpproxy with stderr as a fake journal stream; returns (process, journal socket, stderr peer)."""
    path = scratch("journal.socket")
    j = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    j.bind(path)
    os.chmod(path, 0o666)
    j.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    st = os.fstat(theirs.fileno())
    env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}", JOURNAL_TEST_SOCKET=path)
    args = [str(a) for a in args]
    p = subprocess.Popen([*unshare_argv(), "sh", "-c", NAMESPACE_SCRIPT, "sh", binary, *user_args(args), *args],
                         stdin=subprocess.DEVNULL, stdout=theirs.fileno(), stderr=theirs.fileno(), env=env,
                         close_fds=True)
    theirs.close()
    proxytest._procs.append(p)
    return p, j, ours


def collect(j, until, timeout=10.0):
    """Entries from the fake journal until until(entries) holds or the (scaled) deadline passes."""
    entries = []
    deadline = time.monotonic() + scaled(timeout)
    while not until(entries):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([j], [], [], left)
        if r:
            entries.append(parse_entry(j.recv(1 << 20)))
    return entries


def session_entries(entries, event):
    return [e for e in entries if "TCPPROXY_SESSION" in e and f"event={event}" in e.get("MESSAGE", "")]


@test
def one_session_has_its_fields_in_the_journal(binary):
    b = Backend(echo(b"hi\n"))
    port = free_port()
    p, j, err = journal_daemon(binary, ["-d", "-n", "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"])
    wait_listening(LO4, port, p)
    c = connect(LO4, port)
    check_eq(recv_exact(c, 3), b"hi\n", "greeting")
    c.sendall(b"abcd")
    check_eq(recv_exact(c, 4), b"abcd", "echo")
    c.close()
    entries = collect(j, lambda es: session_entries(es, "end"))
    ends = session_entries(entries, "end")
    check(ends, f"no end line with TCPPROXY_SESSION in the journal: {entries!r}")
    end = ends[0]
    session = end["TCPPROXY_SESSION"]
    starts = [e for e in session_entries(entries, "start") if e["TCPPROXY_SESSION"] == session]
    check(starts, f"no start line of session {session}: {entries!r}")
    check(f"session={session} " in end["MESSAGE"], f"the field is the line's session: {end['MESSAGE']!r}")
    check_eq(end.get("TCPPROXY_PORT"), str(port), "TCPPROXY_PORT")
    check_eq(end.get("TCPPROXY_CLIENT"), LO4, "TCPPROXY_CLIENT")
    check_eq(end.get("TCPPROXY_SERVER"), f"{LO4}:{b.port}", "TCPPROXY_SERVER")
    check_eq(end.get("TCPPROXY_STATUS"), "OK", "TCPPROXY_STATUS")
    check_eq(end.get("PRIORITY"), "6", "PRIORITY of an OK end line (info)")
    check_eq(starts[0].get("TCPPROXY_PORT"), str(port), "TCPPROXY_PORT of the start line")
    check("TCPPROXY_STATUS" not in starts[0], "no status on the start line")
    check_eq(end.get("SYSLOG_IDENTIFIER"), "tcpproxy", "SYSLOG_IDENTIFIER")
    check_eq(stop(p), 0, "exit status")
    collect(j, lambda es: any(e.get("MESSAGE") == "stopped" for e in es))
    # Once: nothing went to stderr (the journal stream) as well.
    err.setblocking(False)
    try:
        data = err.recv(65536)
    except BlockingIOError:
        data = b""
    check_eq(data, b"", "bytes written to stderr (the journal stream) beside the native entries")


@test
def a_stale_journal_stream_is_not_the_journal(binary):
    """JOURNAL_STREAM naming another stream (stderr was redirected): stderr gets the lines as before."""
    port = free_port()
    b = Backend(echo())
    errpath = scratch("stale.stderr")
    with open(errpath, "wb") as f:
        p = subprocess.Popen([binary, *user_args([]), "-d", "-n", "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=f,
                             env=dict(os.environ, JOURNAL_STREAM="1:2"))
    proxytest._procs.append(p)
    wait_listening(LO4, port, p)
    check_eq(stop(p), 0, "exit status")
    with open(errpath, "rb") as f:
        text = f.read().decode()
    check("started" in text, f"stderr has the start-up line: {text!r}")


if __name__ == "__main__":
    main()
