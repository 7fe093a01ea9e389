"""PROXY protocol: interoperability with the real HAProxy in both directions, and
malformed, missing or slow headers (-> ACCESS, never a hang, never a byte of payload lost)."""

import os
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (Backend, LO4, LO6, check, check_eq, configmode, connect, echo, fail, free_port, main,  # noqa: E402
                       outcome, poll_until, recv_exact, scaled, scratch, stderr_text, test, wait_listening,
                       write_file)

HAPROXY = None  # found in __main__
V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"

# Prints the client address tcpproxy settled on, then echoes one line:
# proves the handler sees the header's address and only the payload.
HANDLER = """#!/bin/sh
echo "client=$PROXY_CLIENT"
read line
echo "line=$line"
"""


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind((LO6, 0))
        return True
    except OSError:
        return False


def need_haproxy():
    if not HAPROXY:
        if proxytest.IN_CI:
            fail("haproxy is not installed (Debian package haproxy; .ci/setup installs it), and CI=true")
        proxytest.skip("haproxy not installed (install the Debian package haproxy; .ci/setup does)")


def start_haproxy(conf_text, listen):
    conf = write_file(f"haproxy.{len(proxytest._procs)}.cfg", conf_text)
    out = scratch(f"haproxy.{len(proxytest._procs)}.log")
    with open(out, "wb") as f:
        p = subprocess.Popen([HAPROXY, "-db", "-f", conf], stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT, close_fds=True)
    p.errpath = out  # proxytest's helpers read this as the process's output
    proxytest._procs.append(p)
    for host, port in listen:
        wait_listening(host, port, p)
    return p


HAPROXY_HEAD = """global
    log stdout format raw local0
defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s
"""


def talk(host, port, src, line=b"hello\n"):
    s = connect(host, port, src=src)
    s.sendall(line)
    kind, data, _ = outcome(s)
    s.close()
    return kind, data.decode(errors="replace")


def haproxy_in_front(binary, send_option):
    """client -> haproxy (send-proxy*) -> tcpproxy (accept-proxy, ACL, handler)."""
    need_haproxy()
    handler = write_file("handler.sh", HANDLER, 0o755)
    pt = free_port()
    conf = f"""port {pt}
  interface {LO4}
    accept-proxy yes
    acl 127.0.0.5, ::1
    exec {handler}
"""
    p = configmode(binary, conf, [(LO4, pt)])
    ph = free_port()
    listen = [(LO4, ph)]
    binds = f"    bind {LO4}:{ph}\n"
    v6 = have_ipv6()
    if v6:
        ph6 = free_port(LO6)
        binds += f"    bind [{LO6}]:{ph6}\n"
        listen.append((LO6, ph6))
    start_haproxy(HAPROXY_HEAD + f"""frontend in
{binds}    default_backend out
backend out
    server t {LO4}:{pt} {send_option}
""", listen)

    # The ACL and the handler see the address from the header (haproxy's
    # client), not haproxy's own connection (from 127.0.0.1).
    kind, out = talk(LO4, ph, "127.0.0.5")
    check("client=127.0.0.5" in out, f"handler saw the header's client: {out!r}")
    check("line=hello" in out, f"handler got the payload, and only it: {out!r}")
    check(poll_until(lambda: "client=127.0.0.5" in stderr_text(p) and "status=OK" in stderr_text(p), 5),
          "log names the header's client")
    kind, out = talk(LO4, ph, "127.0.0.6")
    check("client=" not in out, f"client 127.0.0.6 refused by the ACL: {out!r}")
    check(poll_until(lambda: "client=127.0.0.6" in stderr_text(p) and "denied by the ACL" in stderr_text(p), 5),
          "ACL decided on the header's client")
    if v6:
        kind, out = talk(LO6, ph6, None)
        check("client=::1" in out, f"TCP6 header from haproxy: {out!r}")


@test
def haproxy_send_proxy_v1_to_accept_proxy(binary):
    haproxy_in_front(binary, "send-proxy")


@test
def haproxy_send_proxy_v2_to_accept_proxy(binary):
    haproxy_in_front(binary, "send-proxy-v2")


def haproxy_behind(binary, version):
    """client -> tcpproxy (proxy-protocol vN) -> haproxy (accept-proxy) -> echo backend."""
    need_haproxy()
    backend = Backend(echo())
    ph = free_port()
    h = start_haproxy(HAPROXY_HEAD + f"""frontend in
    bind {LO4}:{ph} accept-proxy
    log-format "seen client=%ci:%cp dst=%fi:%fp"
    default_backend out
backend out
    server b {LO4}:{backend.port}
""", [(LO4, ph)])
    pt = free_port()
    p = configmode(binary, f"""port {pt}
  interface {LO4}
    server {LO4}:{ph}
    proxy-protocol {version}
""", [(LO4, pt)])
    s = connect(LO4, pt, src="127.0.0.7")
    cport = s.getsockname()[1]
    payload = os.urandom(100000)
    s.sendall(payload)
    check_eq(recv_exact(s, len(payload)), payload, "payload through tcpproxy and haproxy")
    s.close()
    want = f"seen client=127.0.0.7:{cport} dst={LO4}:{pt}"
    check(poll_until(lambda: want in stderr_text(h), 5), f"haproxy logged {want!r}: {stderr_text(h)[-400:]!r}")
    check(poll_until(lambda: "status=OK" in stderr_text(p), 5), "session OK")
    backend.close()


@test
def proxy_protocol_v1_to_haproxy_accept_proxy(binary):
    haproxy_behind(binary, "v1")


@test
def proxy_protocol_v2_to_haproxy_accept_proxy(binary):
    haproxy_behind(binary, "v2")


@test
def chain_through_both(binary):
    """haproxy send-proxy-v2 -> tcpproxy accept-proxy + proxy-protocol v1 -> haproxy accept-proxy:
    the original client survives two hops."""
    need_haproxy()
    backend = Backend(echo())
    pb = free_port()
    pt = free_port()
    pf = free_port()
    back = start_haproxy(HAPROXY_HEAD + f"""frontend in
    bind {LO4}:{pb} accept-proxy
    log-format "seen client=%ci"
    default_backend out
backend out
    server b {LO4}:{backend.port}
""", [(LO4, pb)])
    p = configmode(binary, f"""port {pt}
  interface {LO4}
    server {LO4}:{pb}
    accept-proxy yes
    proxy-protocol v1
""", [(LO4, pt)])
    start_haproxy(HAPROXY_HEAD + f"""frontend in
    bind {LO4}:{pf}
    default_backend out
backend out
    server t {LO4}:{pt} send-proxy-v2
""", [(LO4, pf)])
    s = connect(LO4, pf, src="127.0.0.9")
    s.sendall(b"ping\n")
    check_eq(recv_exact(s, 5), b"ping\n", "echo through the chain")
    s.close()
    check(poll_until(lambda: "seen client=127.0.0.9" in stderr_text(back), 5),
          f"last haproxy saw the first client: {stderr_text(back)[-300:]!r}")
    check(poll_until(lambda: "client=127.0.0.9" in stderr_text(p), 5), "tcpproxy logged the first client")
    backend.close()


# -- malformed, missing and slow headers ----------------------------------------

TIMEOUT = 2


def accept_proxy_service(binary):
    """accept-proxy in front of a backend that records what it receives."""
    got = []

    def record(c, info):
        data = bytearray()
        while True:
            d = c.recv(65536)
            if not d:
                break
            data += d
        got.append(bytes(data))
    backend = Backend(record)
    port = free_port()
    # The header's own deadline (proxy-header-timeout, issue 11.4) set to the same bound.
    p = configmode(binary, f"""timeout {TIMEOUT}
proxy-header-timeout {TIMEOUT}
port {port}
  interface {LO4}
    server {LO4}:{backend.port}
    accept-proxy yes
""", [(LO4, port)])
    return p, port, backend, got


def refused(binary, p, port, backend, first_bytes, reason, close_write=False, within=TIMEOUT + scaled(3)):
    before = stderr_text(p).count("status=ACCESS")
    s = connect(LO4, port)
    s.sendall(first_bytes)
    if close_write:
        s.shutdown(socket.SHUT_WR)
    kind, data, secs = outcome(s, timeout=within)
    s.close()
    check(kind in ("eof", "reset"), f"{first_bytes[:20]!r}...: connection ended ({kind} after {secs:.1f}s)")
    check_eq(data, b"", "nothing forwarded back")
    check(poll_until(lambda: stderr_text(p).count("status=ACCESS") > before, 5), f"{reason}: status ACCESS")
    check(reason in stderr_text(p), f"reason {reason!r} logged: {stderr_text(p)[-300:]!r}")
    check_eq(backend.count(), 0, "no upstream connection for a refused client")
    return secs


@test
def malformed_headers_are_access(binary):
    p, port, backend, _ = accept_proxy_service(binary)
    cases = [
        (b"GET / HTTP/1.0\r\n\r\n", "not a PROXY protocol header"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 70000\r\nx", "malformed port"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "expected 4 fields"),
        (b"PROXY UNKNOWN " + b"a" * 200, "no CRLF within 107"),
        (V2SIG[:11] + b"X" + b"\x21\x11\x00\x0c" + bytes(12), "wrong v2 signature"),
        (V2SIG + b"\x21\x51\x00\x0c" + bytes(12), "unknown address family 5"),
        (V2SIG + b"\x21\x11\xff\xff" + bytes(100), "at most"),
        (V2SIG + b"\x21\x21\x00\x0c" + bytes(12), "36 needed"),
    ]
    for first, reason in cases:
        secs = refused(binary, p, port, backend, first, reason)
        # Judged on the bytes that arrived, not at the timeout.
        check(secs < TIMEOUT, f"{reason}: refused at once, not after {secs:.1f}s")


@test
def truncated_header_then_close_is_access(binary):
    p, port, backend, _ = accept_proxy_service(binary)
    refused(binary, p, port, backend, b"PROXY TCP4 1.2.3.4", "connection closed inside the PROXY header",
            close_write=True)
    refused(binary, p, port, backend, b"", "connection closed before a PROXY header", close_write=True)


@test
def missing_or_truncated_header_times_out(binary):
    p, port, backend, _ = accept_proxy_service(binary)
    t = refused(binary, p, port, backend, b"", "no PROXY header before the timeout")
    check(t >= TIMEOUT - 0.5, f"waited for the timeout ({t:.1f}s)")
    t = refused(binary, p, port, backend, V2SIG + b"\x21\x11\x00\x0c" + bytes(5), "incomplete after 21 bytes")
    check(t >= TIMEOUT - 0.5, f"waited for the timeout ({t:.1f}s)")


@test
def slow_drip_is_bounded_by_the_timeout(binary):
    p, port, backend, _ = accept_proxy_service(binary)
    header = b"PROXY TCP4 192.0.2.1 192.0.2.2 1000 2000\r\n"
    s = connect(LO4, port)
    t0 = time.monotonic()
    ended = None
    # One byte every 0.25 s: the whole header would take ~10 s, the timeout is 2 s.
    for b in header:
        try:
            s.sendall(bytes([b]))
        except OSError:
            ended = time.monotonic() - t0
            break
        kind, _, _ = outcome(s, timeout=0.25)
        if kind != "timeout":
            ended = time.monotonic() - t0
            break
    s.close()
    check(ended is not None, "the drip was cut off before the header completed")
    check(ended < TIMEOUT + scaled(2), f"cut off after {ended:.1f}s (timeout {TIMEOUT}s)")
    check(poll_until(lambda: "status=ACCESS" in stderr_text(p), 5), "slow header: status ACCESS")
    check_eq(backend.count(), 0, "no upstream connection")


@test
def payload_after_header_is_forwarded_exactly(binary):
    p, port, backend, got = accept_proxy_service(binary)
    for header in (b"PROXY TCP4 192.0.2.1 192.0.2.2 1000 2000\r\n",
                   V2SIG + b"\x21\x11\x00\x0c" + bytes([192, 0, 2, 1, 192, 0, 2, 2]) + struct.pack("!HH", 1000, 2000),
                   V2SIG + b"\x20\x00\x00\x00",
                   b"PROXY UNKNOWN\r\n"):
        payload = os.urandom(50000)
        n = len(got)
        s = connect(LO4, port)
        # Header and payload in one segment: the reader must stop exactly at the header's end.
        s.sendall(header + payload)
        s.shutdown(socket.SHUT_WR)
        outcome(s)
        s.close()
        check(poll_until(lambda: len(got) > n, 5), "backend connection ended")
        check_eq(got[n], payload, f"backend received exactly the payload after {header[:16]!r}")
    # The log lines come from the reaper thread, possibly after the backend saw the end.
    check(poll_until(lambda: stderr_text(p).count("event=end client=192.0.2.1") == 2, 5),
          "v1/v2 PROXY: the header's client logged")
    check(poll_until(lambda: stderr_text(p).count(f"event=end client={LO4}") == 2, 5),
          "LOCAL/UNKNOWN: the connection's own client logged")


@test
def header_split_over_writes(binary):
    handler = write_file("handler2.sh", HANDLER, 0o755)
    port = free_port()
    p = configmode(binary, f"""port {port}
  interface {LO4}
    accept-proxy yes
    exec {handler}
""", [(LO4, port)])
    s = connect(LO4, port)
    for piece in (b"PROXY TCP6 2001:db8::", b"5 ::1 1000", b" 2000\r", b"\nabc\n"):
        s.sendall(piece)
        time.sleep(0.05)  # pacing so the pieces arrive as separate segments; the result does not depend on it
    kind, data, _ = outcome(s)
    s.close()
    out = data.decode()
    check("client=2001:db8::5" in out, f"handler saw the TCP6 client: {out!r}")
    check("line=abc" in out, f"payload intact: {out!r}")


if __name__ == "__main__":
    HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)
    main()
