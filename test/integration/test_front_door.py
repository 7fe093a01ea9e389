"""The front door (issue 11.4, tcpproxy.conf(5)): one client cannot take every slot.
max-per-client N (IPv6 per /64) closes a client's N+1st session of a service at once with status
ACCESS; accept-proxy-from limits who may send a PROXY header; proxy-header-timeout bounds the
wait for one independently of `timeout`; a session started from a PROXY header logs the real peer
(via=); an ACL-denied client is refused before anything that can wait."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (LO4, Backend, check, check_eq, configmode, connect, echo, free_port, main,  # noqa: E402
                       outcome, poll_until, recv_exact, scaled, stderr_text, test, write_file)


@test
def max_per_client_closes_one_clients_extra_session_only(binary):
    b = Backend(echo(b"HI\n"))
    port = free_port()
    p = configmode(binary, f"port {port}\n  max-per-client 2\n  server {LO4}:{b.port}\n", [(LO4, port)])
    held = []
    for i in range(2):
        s = connect(LO4, port)
        check_eq(recv_exact(s, 3), b"HI\n", f"session {i + 1} of the client relayed")
        held.append(s)
    kind, data, secs = outcome(connect(LO4, port), scaled(5))
    check(kind in ("eof", "reset") and data == b"", f"the third session closed at once: {kind} {data!r}")
    check(poll_until(lambda: "max-per-client" in stderr_text(p), 5), f"reason logged: {stderr_text(p)[-1500:]}")
    check("status=ACCESS" in stderr_text(p), "status ACCESS")
    other = connect(LO4, port, src="127.0.0.2")
    check_eq(recv_exact(other, 3), b"HI\n", "another client is unaffected")
    other.close()
    held.pop().close()
    check(poll_until(lambda: stderr_text(p).count("status=OK") >= 2, 5), "the closed sessions ended")
    again = connect(LO4, port)
    check_eq(recv_exact(again, 3), b"HI\n", "a freed slot serves the client again")
    again.close()
    for s in held:
        s.close()


@test
def accept_proxy_from_refuses_other_peers_at_once_and_logs_via(binary):
    b = Backend(echo(b"HI\n"))
    port = free_port()
    p = configmode(binary, f"port {port}\n  accept-proxy yes\n  accept-proxy-from 127.0.0.2\n"
                           f"  server {LO4}:{b.port}\n", [(LO4, port)])
    kind, data, secs = outcome(connect(LO4, port), scaled(5))
    check(kind in ("eof", "reset"), f"a peer not in accept-proxy-from is closed without waiting: {kind}")
    check(poll_until(lambda: "peer 127.0.0.1 may not send a PROXY header" in stderr_text(p), 5),
          f"logged with its real address: {stderr_text(p)[-1500:]}")
    s = connect(LO4, port, src="127.0.0.2")
    s.sendall(f"PROXY TCP4 192.0.2.5 127.0.0.1 4242 {port}\r\n".encode())
    check_eq(recv_exact(s, 3), b"HI\n", "the trusted peer's session relays")
    s.close()
    check(poll_until(lambda: "client=192.0.2.5" in stderr_text(p) and "via=127.0.0.2:" in stderr_text(p), 5),
          f"the client from the header, the real peer as via=: {stderr_text(p)[-1500:]}")


@test
def proxy_header_timeout_is_independent_of_timeout(binary):
    b = Backend(echo(b"HI\n"))
    port = free_port()
    p = configmode(binary, f"timeout 600\nport {port}\n  accept-proxy yes\n  proxy-header-timeout 1\n"
                           f"  server {LO4}:{b.port}\n", [(LO4, port)])
    kind, _, secs = outcome(connect(LO4, port), scaled(10))
    check(kind in ("eof", "reset"), f"a silent client is closed: {kind}")
    check(secs < scaled(5), f"within the header's own deadline, not `timeout`: {secs:.1f}s")
    check(poll_until(lambda: "no PROXY header before the timeout" in stderr_text(p), 5),
          f"logged: {stderr_text(p)[-1500:]}")


@test
def an_acl_denied_client_is_refused_before_anything_can_wait(binary):
    b = Backend(echo(b"HI\n"))
    port = free_port()
    p = configmode(binary, f"port {port}\n  acl -127.0.0.1\n  server {LO4}:{b.port}\n", [(LO4, port)])
    kind, data, secs = outcome(connect(LO4, port), scaled(5))
    check(kind in ("eof", "reset") and data == b"", f"closed: {kind}")
    check(poll_until(lambda: "denied by the ACL" in stderr_text(p), 5), "denial logged")
    check(b.count() == 0, "no server connection for a denied client")


def check_config(binary, path):
    return subprocess.run([binary, "--check-config", "-f", path], capture_output=True, text=True,
                          timeout=scaled(10))


@test
def the_new_directives_are_checked(binary):
    port = free_port()
    good = write_file("front-good.conf", f"max-per-client 4\nproxy-header-timeout 3\nport {port}\n"
                                         f"  accept-proxy yes\n  accept-proxy-from 10.0.0.0/8, ::1\n"
                                         f"  interface 127.0.0.1\n    max-per-client 1\n    server {LO4}:1\n")
    r = check_config(binary, good)
    check_eq(r.returncode, 0, f"valid: {r.stderr}")
    for line, word in (("max-per-client 0", "max-per-client"), ("max-per-client x", "max-per-client"),
                       ("proxy-header-timeout 0", "proxy-header-timeout"), ("accept-proxy-from 300.1.1.1", "")):
        bad = write_file("front-bad.conf", f"port {port}\n  {line}\n  server {LO4}:1\n")
        r = check_config(binary, bad)
        check_eq(r.returncode, 1, f"{line}: an error")
        check(word in r.stderr, f"{line}: {r.stderr}")


if __name__ == "__main__":
    main()
