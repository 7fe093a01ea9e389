"""systemd's service protocol (sd_notify): READY=1 once every port listens, RELOADING=1
(with MONOTONIC_USEC) and READY=1 around a reload, STOPPING=1 at shutdown, STATUS= with
the number of sessions, WATCHDOG=1 when WATCHDOG_USEC is set; and the sample units pass
`systemd-analyze verify`."""

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (Backend, LO4, check, check_eq, echo, free_port, is_listening, main, missing_tool,  # noqa: E402
                       recv_exact, scaled, scratch, scratch_dir, stop, test, user_args, connect,
                       write_file)

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples")


class NotifySocket:
    """A datagram NOTIFY_SOCKET: what a service manager hears."""
    made = 0

    def __init__(self):
        NotifySocket.made += 1
        self.path = scratch(f"notify.{NotifySocket.made}")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.messages = []

    def until(self, pred, timeout=10.0):
        """Messages until pred(messages) holds or the (scaled) deadline passes; returns pred's value."""
        deadline = time.monotonic() + scaled(timeout)
        while not pred(self.messages):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.sock], [], [], left)
            if r:
                self.messages.append(self.sock.recv(65536).decode())
        return pred(self.messages)


def daemon(binary, notify, conf_text, port, env_extra=None):
    conf = write_file(f"notify.{NotifySocket.made}.conf", conf_text)
    args = ["-d", "-n", "-s", "-f", conf]
    env = dict(os.environ, NOTIFY_SOCKET=notify.path, **(env_extra or {}))
    errpath = scratch(f"stderr.notify.{NotifySocket.made}")
    with open(errpath, "wb") as err:
        p = subprocess.Popen([binary, *user_args(args), *args], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err, env=env, close_fds=True)
    p.errpath = errpath
    proxytest._procs.append(p)
    return p, conf


def states(messages):
    """Each message's assignments, in order, as (KEY, value)."""
    out = []
    for m in messages:
        for line in m.splitlines():
            if "=" in line:
                out.append(tuple(line.split("=", 1)))
    return out


def has(key, value=None):
    return lambda ms: any(k == key and (value is None or v == value) for k, v in states(ms))


@test
def ready_reloading_stopping_in_order(binary):
    b = Backend(echo(b"hi\n"))
    port1, port2 = free_port(), free_port()
    notify = NotifySocket()
    conf = f"port {port1}\n    interface {LO4}\n    server {LO4}:{b.port}\nport {port2}\n    interface {LO4}\n" \
           f"    server {LO4}:{b.port}\n"
    p, conf_path = daemon(binary, notify, conf, port1)
    check(notify.until(has("READY", "1")), f"READY=1 was sent: {notify.messages!r}")
    # Every port listens by the time READY=1 is sent.
    check(is_listening(LO4, port1) and is_listening(LO4, port2), "both ports listen at READY=1")
    c = connect(LO4, port1)
    check_eq(recv_exact(c, 3), b"hi\n", "greeting")
    check(notify.until(has("STATUS")), f"a STATUS= line: {notify.messages!r}")
    check(notify.until(lambda ms: any(k == "STATUS" and "1 session" in v for k, v in states(ms))),
          f"STATUS= counts the running session: {notify.messages!r}")
    c.close()
    check(notify.until(lambda ms: states(ms)[-1:] and any(k == "STATUS" and " 0 session" in v
                                                            for k, v in states(ms)[-2:])),
          f"STATUS= back to 0 sessions: {notify.messages!r}")

    before = len(states(notify.messages))
    t0 = time.clock_gettime(time.CLOCK_MONOTONIC)
    os.kill(p.pid, signal.SIGHUP)
    check(notify.until(lambda ms: [k for k, _ in states(ms)[before:] if k in ("RELOADING", "READY")]
                       == ["RELOADING", "READY"]), f"RELOADING=1 then READY=1: {notify.messages[-4:]!r}")
    after = states(notify.messages)[before:]
    usec = [int(v) for k, v in after if k == "MONOTONIC_USEC"]
    t1 = time.clock_gettime(time.CLOCK_MONOTONIC)
    check(usec and t0 * 1e6 - 1e6 <= usec[0] <= t1 * 1e6 + 1e6,
          f"MONOTONIC_USEC with RELOADING=1 is CLOCK_MONOTONIC: {usec} not in [{t0 * 1e6:.0f}, {t1 * 1e6:.0f}]")
    reloading_msg = next(m for m in notify.messages if "RELOADING=1" in m)
    check("MONOTONIC_USEC=" in reloading_msg, f"in the same message: {reloading_msg!r}")

    before = len(states(notify.messages))
    check_eq(stop(p), 0, "exit status")
    notify.until(has("STOPPING", "1"), timeout=2)
    keys = [k for k, _ in states(notify.messages)[before:]]
    check("STOPPING" in keys, f"STOPPING=1 at shutdown: {notify.messages[-3:]!r}")
    order = [k for k, _ in states(notify.messages) if k in ("READY", "RELOADING", "STOPPING")]
    check_eq(order, ["READY", "RELOADING", "READY", "STOPPING"], "the sequence of states")


def ready_daemon(binary, env_extra):
    """A one-port daemon with `env_extra`, once it said READY=1: (process, notify socket, backend)."""
    b = Backend(echo())
    port = free_port()
    notify = NotifySocket()
    conf = f"port {port}\n    interface {LO4}\n    server {LO4}:{b.port}\n"
    p, _ = daemon(binary, notify, conf, port, env_extra)
    check(notify.until(has("READY", "1")), f"READY=1: {notify.messages!r}")
    return p, notify, b


@test
def watchdog_pings_when_asked(binary):
    p, notify, _ = ready_daemon(binary, {"WATCHDOG_USEC": "200000"})
    check(notify.until(lambda ms: sum(1 for k, v in states(ms) if k == "WATCHDOG" and v == "1") >= 3, timeout=5),
          f"WATCHDOG=1 about every 100 ms: {notify.messages!r}")
    stop(p)


@test
def no_watchdog_unless_asked(binary):
    # WATCHDOG_PID naming another process: the watchdog is not ours.
    p, notify, _ = ready_daemon(binary, {"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    # A bound of the test's own: three watchdog intervals, in which a ping would come.
    notify.until(has("WATCHDOG"), timeout=0.6)
    check(not has("WATCHDOG")(notify.messages), f"no WATCHDOG=1: {notify.messages!r}")
    stop(p)


@test
def sample_units_verify(binary):
    import shutil
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        missing_tool("`systemd-analyze`", "systemd")
    d = scratch_dir("units")
    names = ["tcpproxy.service", "tcpproxy.socket", "tcpproxy@.service"]
    for name in names:
        with open(os.path.join(SAMPLES, name)) as f:
            text = f.read()
        # The units name the installed binary; verify checks that it exists.
        text = text.replace("/usr/sbin/tcpproxy", os.path.abspath(binary))
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    with open(os.path.join(SAMPLES, "tcpproxy.service")) as f:
        check(re.search(r"^Type=notify$", f.read(), re.M), "tcpproxy.service is Type=notify")
    # The template is checked through an instance of it, as systemd would start one.
    with open(os.path.join(d, "tcpproxy@.service")) as f, open(os.path.join(d, "tcpproxy@0.service"), "w") as g:
        g.write(f.read())
    paths = [os.path.join(d, n) for n in ("tcpproxy.service", "tcpproxy.socket", "tcpproxy@0.service")]
    r = subprocess.run([analyze, "verify", "--man=no", *paths], capture_output=True, text=True,
                       timeout=scaled(60), cwd=d)
    # Lines about units outside the samples (the host's own) are not ours to judge.
    ours = [line for line in (r.stdout + r.stderr).splitlines() if "tcpproxy" in line]
    check(r.returncode == 0 and not ours, f"systemd-analyze verify: exit {r.returncode}: {r.stdout}{r.stderr}")


if __name__ == "__main__":
    main()
