"""inetd mode for real: xinetd (run in the foreground on loopback) starts tcpproxy per
connection from a configuration generated from samples/xinetd.tcpproxy; checks forwarding
and that xinetd sees tcpproxy's exit status (the session's status number).
Skips (exit 0) when not root or when xinetd is not installed."""

import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (Backend, LO4, check, check_eq, connect, echo, free_port, main, outcome, poll_until,  # noqa: E402
                       recv_exact, scaled, scratch, test, wait_listening, write_file)

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "xinetd.tcpproxy")
XINETD = None  # found in __main__


def service_block(name):
    """The `service NAME { ... }` block of the sample, as a dict of its lines."""
    text = open(SAMPLE).read()
    m = re.search(r"^service\s+" + re.escape(name) + r"\s*\n\{\n(.*?)^\}", text, re.S | re.M)
    check(m is not None, f"service {name} in {SAMPLE}")
    attrs = []
    for line in m.group(1).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, op, value = re.match(r"(\S+)\s*(\+?=)\s*(.*)", line).groups()
            attrs.append([key, op, value])
    return attrs


def render(name, attrs, **changes):
    out = [f"service {name}", "{"]
    seen = set()
    for key, op, value in attrs:
        if key in changes:
            value = changes[key]
            seen.add(key)
        out.append(f"    {key:<15} {op} {value}")
    for key, value in changes.items():
        if key not in seen:
            out.append(f"    {key:<15} = {value}")
    return "\n".join(out + ["}", ""])


def start_xinetd(conf_text, port):
    log = scratch("xinetd.log")
    conf = write_file("xinetd.conf", f"""defaults
{{
    log_type        = FILE {log}
    log_on_success  = PID EXIT DURATION
    log_on_failure  = HOST
}}
""" + conf_text)
    out = open(scratch("xinetd.out"), "wb")
    p = subprocess.Popen([XINETD, "-dontfork", "-f", conf], stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT, close_fds=True)
    out.close()
    p.errpath = scratch("xinetd.out")
    proxytest._procs.append(p)
    wait_listening(LO4, port, p)
    return p, log


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def exits(log, service):
    return re.findall(r"EXIT: " + re.escape(service) + r" status=(\d+)", read(log))


@test
def adhoc_sample_forwards_and_reports_status(binary):
    backend = Backend(echo(b"hello from the backend\n"))
    port = free_port()
    # The sample's ad-hoc service, pointed at loopback: only addresses and the
    # binary change (and it is enabled, as root so the build tree needs no access rights).
    block = render("tcpproxy-http", service_block("tcpproxy-http"), port=str(port), bind=LO4, server=binary,
                   server_args=f"-n {LO4}:{backend.port}", disable="no", user="root")
    p, log = start_xinetd(block, port)
    for i in range(3):
        s = connect(LO4, port)
        check_eq(recv_exact(s, 23), b"hello from the backend\n", f"greeting through xinetd + tcpproxy ({i})")
        payload = os.urandom(200000)
        s.sendall(payload)
        check_eq(recv_exact(s, len(payload)), payload, "payload forwarded both ways")
        s.close()
    check(poll_until(lambda: len(exits(log, "tcpproxy-http")) >= 3, 10), f"xinetd logged the exits: {read(log)!r}")
    check_eq(exits(log, "tcpproxy-http")[:3], ["0", "0", "0"], "status 0 (OK) for forwarded sessions")

    # Same service, upstream down: tcpproxy exits 3 (CONNECT) and xinetd says so.
    # A port bound but not listening: connections to it are refused for as
    # long as we hold it (a merely free port could be taken by a parallel test).
    holder = socket.socket()
    holder.bind((LO4, 0))
    dead = holder.getsockname()[1]
    p.terminate()
    p.wait(scaled(10))
    proxytest._procs.remove(p)
    os.unlink(log)
    block = render("tcpproxy-http", service_block("tcpproxy-http"), port=str(port), bind=LO4, server=binary,
                   server_args=f"-n {LO4}:{dead}", disable="no", user="root")
    p, log = start_xinetd(block, port)
    s = connect(LO4, port)
    kind, data, _ = outcome(s)
    s.close()
    check_eq(data, b"", "nothing forwarded")
    check(poll_until(lambda: exits(log, "tcpproxy-http"), 10), f"xinetd logged the exit: {read(log)!r}")
    check_eq(exits(log, "tcpproxy-http")[0], "3", "status 3 (CONNECT) for an unreachable server")
    holder.close()


@test
def config_file_sample_matches_section(binary):
    backend = Backend(echo(b"smtp\n"))
    port = free_port()
    conf = write_file("tcpproxy.conf", f"""port {port}
  interface {LO4}
    acl 127.0.0.1
    server {LO4}:{backend.port}
""")
    block = render("smtp", service_block("smtp"), port=str(port), bind=LO4, server=binary,
                   server_args=f"-n -f {conf}")
    p, log = start_xinetd(block, port)
    s = connect(LO4, port)
    check_eq(recv_exact(s, 5), b"smtp\n", "the config's section for the local address serves")
    s.sendall(b"QUIT\r\n")
    check_eq(recv_exact(s, 6), b"QUIT\r\n", "forwarded")
    s.close()
    # From another loopback address the ACL denies: ACCESS, status 2.
    s = connect(LO4, port, src="127.0.0.2")
    kind, data, _ = outcome(s)
    s.close()
    check_eq(data, b"", "denied client gets nothing")
    check(poll_until(lambda: len(exits(log, "smtp")) >= 2, 10), f"xinetd logged the exits: {read(log)!r}")
    check_eq(sorted(exits(log, "smtp")[:2]), ["0", "2"], "one OK, one ACCESS")


if __name__ == "__main__":
    proxytest.require_root("xinetd runs its services as root")
    XINETD = proxytest.require_tool("xinetd", "xinetd", ["/usr/sbin/xinetd"])
    main()
