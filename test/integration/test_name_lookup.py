"""The client's name has a budget of its own (issue 11.4, tcpproxy(1) SECURITY): with a resolver
that never answers, a session proceeds within the 2 s budget with the client's address as its
name, however many clients come at once, and the lookups that hang take a bounded number of
threads. The daemon runs in a private mount namespace whose /etc/resolv.conf names a local UDP
socket that swallows every query (timeout 10 s: the old code waited that long per session)."""

import ctypes
import errno
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (IN_CI, LO4, Backend, check, connect, echo, fail, free_port, main, poll_until,  # noqa: E402
                       recv_exact, require_root, scaled, skip, start, stderr_text, test, wait_listening, write_file)

BUDGET = 2.0
CLONE_NEWNS = 0x00020000
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18


def silent_resolver():
    """A UDP socket on port 53 of a loopback address that reads nothing: every query goes unanswered."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for last in range(53, 250):
        try:
            s.bind((f"127.0.53.{last}", 53))
            return s
        except OSError:
            continue
    s.close()
    raise OSError("no loopback address with a free port 53")


def private_resolver(resolv_conf, hosts, nsswitch):
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec():
        if libc.unshare(CLONE_NEWNS) != 0:
            os._exit(90)
        # Inside a chroot whose root is not a mount point (a fresh CI root)
        # "/" cannot be made private (EINVAL): /etc is bound onto itself,
        # which makes it a mount point of its own, and that mount is made
        # private, so the binds below stay in this namespace.
        if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            if ctypes.get_errno() != errno.EINVAL:
                os._exit(91)
            if libc.mount(b"/etc", b"/etc", None, MS_BIND, None) != 0 or \
                    libc.mount(b"none", b"/etc", None, MS_PRIVATE, None) != 0:
                os._exit(93)
        for src, dst in ((resolv_conf, "/etc/resolv.conf"), (hosts, "/etc/hosts"), (nsswitch, "/etc/nsswitch.conf")):
            if libc.mount(src.encode(), dst.encode(), None, MS_BIND, None) != 0:
                os._exit(92)
    return preexec


def start_with_dead_resolver(binary, conf_text, port):
    require_root("a private mount namespace with its own /etc/resolv.conf")
    probe = subprocess.run(["unshare", "-m", "--propagation", "unchanged", "true"], stdin=subprocess.DEVNULL,
                           capture_output=True)
    if probe.returncode != 0:
        why = f"no private mount namespace here (unshare -m: {probe.stderr.decode(errors='replace').strip()})"
        fail(why + ", and CI=true") if IN_CI else skip(why)
    dns = silent_resolver()
    resolv = write_file("resolv.conf", f"nameserver {dns.getsockname()[0]}\noptions timeout:10 attempts:1\n")
    hosts = write_file("hosts", "127.0.0.1 localhost\n")
    nss = write_file("nsswitch.conf", "hosts: files dns\n")
    conf = write_file("tcpproxy.conf", conf_text)
    # Without -n: names are looked up.
    p = start(binary, ["-d", "-s", "-f", conf], preexec=private_resolver(resolv, hosts, nss))
    wait_listening(LO4, port, p)
    p.dns = dns
    return p


def resolver_threads(pid):
    n = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                n += f.read().strip() == "tcpproxy-dns"
        except OSError:
            pass
    return n


@test
def session_proceeds_within_the_budget_when_the_resolver_is_silent(binary):
    b = Backend(echo(b"HI\n"))
    port = free_port()
    p = start_with_dead_resolver(binary, f"port {port}\n  server {LO4}:{b.port}\n", port)
    t0 = time.monotonic()
    s = connect(LO4, port, src="127.0.0.2")
    got = recv_exact(s, 3, timeout=scaled(BUDGET + 3))
    took = time.monotonic() - t0
    check(got == b"HI\n", f"relayed: {got!r}")
    check(took < scaled(BUDGET + 1.5), f"the session waited {took:.1f}s for its client's name (budget {BUDGET}s)")
    s.close()
    check(poll_until(lambda: "client name of 127.0.0.2 not found within 2 s" in stderr_text(p), 5),
          f"the give-up is logged: {stderr_text(p)[-1500:]}")
    check(poll_until(lambda: "status=OK" in stderr_text(p), 5), f"the session ended OK: {stderr_text(p)[-1500:]}")


@test
def many_clients_with_a_silent_resolver_take_bounded_threads_and_time(binary):
    b = Backend(echo(b"HI\n"))
    port = free_port()
    p = start_with_dead_resolver(binary, f"port {port}\n  server {LO4}:{b.port}\n", port)
    n = 40
    times, errors = [], []

    def one(i):
        t0 = time.monotonic()
        try:
            s = connect(LO4, port, src=f"127.0.{1 + i // 200}.{2 + i % 200}")
            got = recv_exact(s, 3, timeout=scaled(BUDGET + 8))
            s.close()
            if got != b"HI\n":
                errors.append(f"client {i}: {got!r}")
            times.append(time.monotonic() - t0)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {i}: {e}")
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(scaled(30))
    check(not errors, f"every client relayed: {errors[:3]}")
    check(len(times) == n and max(times) < scaled(BUDGET + 2),
          f"each within the budget: slowest {max(times or [0]):.1f}s of {len(times)}")
    hung = resolver_threads(p.pid)
    check(1 <= hung <= 4, f"lookups run on at most 4 threads, not one per client: {hung}")


if __name__ == "__main__":
    main()
