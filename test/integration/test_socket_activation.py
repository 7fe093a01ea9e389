"""systemd socket activation, driven by systemd-socket-activate (Debian's systemd package;
no running systemd needed) on loopback: --listen hands listening sockets to the standalone
daemon (LISTEN_FDS), --accept starts inetd mode per connection (the connection as
descriptor 3 with LISTEN_FDS=1, or as stdin with --inetd). Skips when the tool is missing."""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (START_WAIT, Backend, LO4, check, check_eq, connect, echo, free_port, main, outcome, poll_until,  # noqa: E402
                       recv_exact, scaled, scratch, stderr_text, test, wait_listening, write_file)

ACTIVATE = None  # found in __main__

# Shows what a handler program inherits: no LISTEN_* variables, no passed sockets.
HANDLER = """#!/bin/sh
echo "env:$(env | grep -c '^LISTEN_')"
echo "fds:$(ls /proc/self/fd | tr '\\n' ' ')"
"""


_count = [0]


def activate(args, listen):
    _count[0] += 1
    errpath = scratch(f"activate.{_count[0]}")
    with open(errpath, "wb") as err:
        p = subprocess.Popen([ACTIVATE, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                             close_fds=True)
    p.errpath = errpath
    proxytest._procs.append(p)
    for host, port in listen:
        wait_listening(host, port, p)
    return p


def greet(port, want):
    s = connect(LO4, port)
    check_eq(recv_exact(s, len(want)), want, f"greeting on port {port}")
    s.sendall(b"ping")
    check_eq(recv_exact(s, 4), b"ping", f"forwarding on port {port}")
    s.close()


@test
def listen_fds_for_the_standalone_daemon(binary):
    a, b = Backend(echo(b"A\n")), Backend(echo(b"B\n"))
    pa, pb, ph, stray = free_port(), free_port(), free_port(), free_port()
    handler = write_file("handler.sh", HANDLER, 0o755)
    conf = write_file("tcpproxy.conf", f"""port {pa}
  server {LO4}:{a.port}
port {pb}
  interface {LO4}
    server {LO4}:{b.port}
port {ph}
  exec {handler}
""")
    p = activate([f"--listen={LO4}:{pa}", f"--listen={LO4}:{pb}", f"--listen={LO4}:{ph}", f"--listen={LO4}:{stray}",
                  binary, "-d", "-n", "-s", "-f", conf], [(LO4, pa), (LO4, pb), (LO4, ph)])
    # systemd-socket-activate execs tcpproxy at the first connection.
    greet(pa, b"A\n")
    greet(pb, b"B\n")
    log = stderr_text(p)
    for port in (pa, pb, ph):
        check(f"port {port}: using the socket(s) passed by systemd ({LO4}:{port})" in log,
              f"port {port} served from the passed socket: {log[-600:]!r}")
    check(f"{LO4}:{stray} matches no configured port" in log, "the unconfigured socket is named and closed")
    check("bind:" not in log and "listening" not in log, "tcpproxy bound nothing itself")
    s = connect(LO4, ph)
    kind, data, _ = outcome(s)
    s.close()
    out = data.decode()
    check("env:0" in out, f"handler has no LISTEN_ variables: {out!r}")
    fds = [f for f in out.split("fds:")[1].split() if f.isdigit()]
    check(len(fds) <= 4, f"handler inherits no passed socket: {fds}")

    # Reload: the passed sockets stay (systemd holds the ports), the new config serves them.
    with open(conf, "w") as f:
        f.write(f"""port {pa}
  interface {LO4}
    server {LO4}:{b.port}
port {pb}
  server {LO4}:{a.port}
""")
    p.send_signal(signal.SIGHUP)
    check(poll_until(lambda: "reload: done" in stderr_text(p), START_WAIT), "reload done")
    greet(pa, b"B\n")
    greet(pb, b"A\n")
    p.send_signal(signal.SIGTERM)
    check_eq(p.wait(scaled(10)), 0, "clean exit")


def accept_mode(binary, extra_activate, label):
    backend = Backend(echo(b"I\n"))
    port = free_port()
    conf = write_file(f"accept-{label}.conf", f"""port {port}
  interface {LO4}
    acl 127.0.0.1
    server {LO4}:{backend.port}
""")
    p = activate([f"--listen={LO4}:{port}", "--accept", *extra_activate, binary, "-n", "-f", conf], [(LO4, port)])
    for i in range(3):
        greet(port, b"I\n")
    check(poll_until(lambda: backend.count() == 3, 5), "one upstream connection per client connection")
    # Each connection is its own process: the ACL denies another loopback source.
    s = connect(LO4, port, src="127.0.0.2")
    kind, data, _ = outcome(s)
    s.close()
    check_eq(data, b"", f"denied client gets nothing ({kind})")
    check_eq(backend.count(), 3, "no upstream connection for the denied client")
    # The exit status is the session's: 0 (OK) three times, then 2 (ACCESS).
    check(poll_until(lambda: stderr_text(p).count("died with code") >= 4, 10), "four children ended")
    codes = sorted(line.rsplit(" ", 1)[1] for line in stderr_text(p).splitlines() if "died with code" in line)
    check_eq(codes, ["0", "0", "0", "2"], "exit statuses seen by systemd-socket-activate")

    # The ad-hoc form: SERVER on the command line.
    port2 = free_port()
    activate([f"--listen={LO4}:{port2}", "--accept", *extra_activate, binary, "-n", f"{LO4}:{backend.port}"],
             [(LO4, port2)])
    greet(port2, b"I\n")


@test
def accept_passes_the_connection_as_fd3(binary):
    accept_mode(binary, [], "fd3")


@test
def accept_inetd_passes_the_connection_as_stdin(binary):
    accept_mode(binary, ["--inetd"], "inetd")


if __name__ == "__main__":
    ACTIVATE = proxytest.require_tool("systemd-socket-activate", "systemd")
    main()
