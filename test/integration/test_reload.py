"""Reload under load (reference §1, SIGHUP): a long stream keeps flowing byte-exact across
five reloads while new connections follow each new configuration, ports come and go, an
invalid configuration is refused with the old one still serving, and max-sessions grows
the session pool without touching running sessions.

--duration SECONDS sets the stream's length: 60 is the acceptance run (by hand:
`python3 test_reload.py --tcpproxy build/tcpproxy --duration 60`); CTest runs the
default of 15 seconds to keep CI short.
"""

import argparse
import hashlib
import os
import random
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (START_WAIT, Backend, LO4, check, check_eq, configmode, connect, echo, fail, free_port,  # noqa: E402
                       is_listening, main, outcome, poll_until, recv_exact, scaled, stderr_text, test)

DURATION = 15.0
RELOADS = 5


def write_config(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # never let a reload read a half-written file


def reload_and_wait(p, marker):
    """SIGHUP, then wait until the log shows one more `marker` line."""
    before = stderr_text(p).count(marker)
    p.send_signal(signal.SIGHUP)
    if not poll_until(lambda: stderr_text(p).count(marker) > before, START_WAIT):
        fail(f"no {marker!r} in the log after SIGHUP: {stderr_text(p)[-400:]!r}")


class Stream:
    """One connection carrying pseudo-random bytes both ways through an echo
    backend; sent and received bytes are hashed for a byte-exact comparison."""

    def __init__(self, port, greeting):
        self.sock = connect(LO4, port)
        check_eq(recv_exact(self.sock, len(greeting)), greeting, "stream's greeting")
        self.sock.settimeout(None)
        self.sent = hashlib.sha256()
        self.received = hashlib.sha256()
        self.nsent = self.nrecv = 0
        self.max_gap = 0.0
        self.error = None
        self.stop = threading.Event()
        self.writer = threading.Thread(target=self._write, daemon=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.writer.start()

    def _write(self):
        rng = random.Random(7)
        try:
            while not self.stop.is_set():
                chunk = rng.randbytes(rng.randint(1, 32768))
                self.sock.sendall(chunk)
                self.sent.update(chunk)
                self.nsent += len(chunk)
                self.stop.wait(0.005)  # paces the stream (~3 MB/s); not synchronisation
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.error = f"write: {e}"

    def _read(self):
        last = time.monotonic()
        self.sock.settimeout(1.0)
        try:
            while True:
                try:
                    d = self.sock.recv(1 << 20)
                except socket.timeout:
                    d = None
                now = time.monotonic()
                if d is None:
                    if now - last > 30:
                        self.error = "stream stalled for 30 s"
                        return
                    continue
                if not d:
                    return
                self.max_gap = max(self.max_gap, now - last)
                last = now
                self.received.update(d)
                self.nrecv += len(d)
        except OSError as e:
            self.error = f"read: {e}"

    def finish(self):
        self.stop.set()
        self.writer.join(scaled(30))
        self.reader.join(scaled(60))
        check(not self.writer.is_alive() and not self.reader.is_alive(), "stream threads finished")
        check(self.error is None, f"stream error: {self.error}")
        check_eq(self.nrecv, self.nsent, "bytes echoed back")
        check_eq(self.received.hexdigest(), self.sent.hexdigest(), "stream content (sha256)")
        self.sock.close()


def config_text(gen, main_port, extra_port, backend_port, max_sessions=64):
    return f"""max-sessions {max_sessions}
port {main_port}
  interface {LO4}
    name gen{gen}
    server {LO4}:{backend_port}
port {extra_port}
  interface {LO4}
    server {LO4}:{backend_port}
"""


@test
def stream_survives_reloads(binary):
    backends = [Backend(echo(f"gen{i}\n".encode())) for i in range(RELOADS + 1)]
    main_port = free_port()
    extra = [free_port() for _ in range(RELOADS + 1)]
    p = configmode(binary, config_text(0, main_port, extra[0], backends[0].port), [(LO4, main_port), (LO4, extra[0])])
    stream = Stream(main_port, b"gen0\n")
    t0 = time.monotonic()
    # Reloads spread over the stream, and one invalid config between the 3rd and the 4th.
    steps = [("valid", i) for i in range(1, 4)] + [("invalid", 3)] + [("valid", i) for i in range(4, RELOADS + 1)]
    for n, (kind, gen) in enumerate(steps, 1):
        at = t0 + DURATION * n / (len(steps) + 1)
        time.sleep(max(0.0, at - time.monotonic()))  # schedule, not synchronisation
        check(p.poll() is None, "tcpproxy still running")
        if kind == "valid":
            write_config(p.conf, config_text(gen, main_port, extra[gen], backends[gen].port))
            reload_and_wait(p, "reload: done")
            check(poll_until(lambda: is_listening(LO4, extra[gen]) and not is_listening(LO4, extra[gen - 1]), START_WAIT),
                  f"reload {gen}: port {extra[gen]} bound, {extra[gen - 1]} closed")
        else:
            write_config(p.conf, config_text(gen, main_port, extra[gen], backends[gen].port) + "    bogus 1\n")
            reload_and_wait(p, "keeping the running configuration")
            check("unknown keyword" in stderr_text(p) or "error" in stderr_text(p), "diagnostics logged")
        # A new connection follows the configuration in force now.
        s = connect(LO4, main_port)
        check_eq(recv_exact(s, 5), f"gen{gen}\n".encode(), f"new connection after {kind} reload {n}")
        s.sendall(b"x")
        check_eq(recv_exact(s, 1), b"x", "new connection forwards")
        s.close()
        if kind == "invalid":
            check(is_listening(LO4, extra[gen]), "invalid config: old ports still served")
        check(stream.nrecv > 0 and stream.error is None, f"stream alive after step {n}: {stream.error}")
    time.sleep(max(0.0, t0 + DURATION - time.monotonic()))  # the stream's remaining time
    stream.finish()
    check(stream.max_gap < scaled(5), f"stream kept flowing (longest pause {stream.max_gap:.1f}s)")
    check(stream.nsent > 1_000_000, f"a real stream ({stream.nsent} bytes)")
    check(poll_until(lambda: "name=gen0" in stderr_text(p) and "status=OK" in stderr_text(p), 5),
          "the stream ended OK under the config it started with")
    check_eq(backends[0].count(), 1, "the stream stayed on its first server")
    print(f"  stream: {stream.nsent} bytes over {DURATION:.0f}s, {RELOADS} reloads + 1 refused, "
          f"longest pause {stream.max_gap:.2f}s", flush=True)


@test
def max_sessions_growth_on_reload(binary):
    backend = Backend(echo(b"hi\n"))
    port, extra = free_port(), free_port()
    p = configmode(binary, config_text(0, port, extra, backend.port, max_sessions=2), [(LO4, port)])
    held = [connect(LO4, port) for _ in range(2)]
    for s in held:
        check_eq(recv_exact(s, 3), b"hi\n", "first two sessions served")
    waiting = connect(LO4, port)  # completes in the kernel's backlog, not served
    kind, data, _ = outcome(waiting, timeout=1.0)
    check_eq((kind, data), ("timeout", b""), "third waits while max-sessions is 2")
    write_config(p.conf, config_text(0, port, extra, backend.port, max_sessions=4))
    reload_and_wait(p, "reload: done")
    check_eq(recv_exact(waiting, 3), b"hi\n", "third served once max-sessions is 4")
    fourth = connect(LO4, port)
    check_eq(recv_exact(fourth, 3), b"hi\n", "fourth served")
    for s in held:
        s.sendall(b"ok")
        check_eq(recv_exact(s, 2), b"ok", "sessions from before the reload untouched")
    check("session slots" in stderr_text(p), "pool size logged")
    # Lowering it: running sessions go on, new ones wait until enough have ended.
    write_config(p.conf, config_text(0, port, extra, backend.port, max_sessions=2))
    reload_and_wait(p, "reload: done")
    fifth = connect(LO4, port)
    kind, data, _ = outcome(fifth, timeout=1.0)
    check_eq((kind, data), ("timeout", b""), "fifth waits: 4 running, max-sessions now 2")
    for s in held + [waiting]:
        s.sendall(b"ok")
        check_eq(recv_exact(s, 2), b"ok", "running sessions untouched by the lower limit")
        s.close()
    check_eq(recv_exact(fifth, 3), b"hi\n", "fifth served once fewer than 2 run")
    fourth.close()
    fifth.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--duration", type=float, default=DURATION)
    known, rest = ap.parse_known_args()
    DURATION = known.duration
    sys.argv = [sys.argv[0]] + rest
    main()
