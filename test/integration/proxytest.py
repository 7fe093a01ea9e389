"""Shared helpers for the engine's integration tests (Python 3 standard library only).

Each test file: `python3 test_x.py --tcpproxy PATH`. Tests start the real binary on
loopback with ports from bind(0), wait for readiness by reading the kernel's listen
table (/proc/net/tcp*) with deadlines, and print `N passed, N failed`.
"""

import argparse
import hashlib
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

LO4 = "127.0.0.1"
LO6 = "::1"
WAIT = 10.0

_tests = []


class Failure(Exception):
    pass


def fail(msg):
    raise Failure(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def check_eq(got, want, what):
    if got != want:
        fail(f"{what}: got {got!r}, expected {want!r}")


def test(fn):
    _tests.append(fn)
    return fn


def sha(data):
    return hashlib.sha256(data).hexdigest()


def poll_until(pred, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)  # polling interval, not synchronisation: the predicate decides


# -- ports and readiness -------------------------------------------------------

def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host=LO4):
    with socket.socket(family(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def listening():
    out = set()
    for path, fam in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            with open(path) as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    if len(parts) < 4 or parts[3] != "0A":
                        continue
                    addr_hex, port_hex = parts[1].split(":")
                    if fam == socket.AF_INET:
                        raw = struct.pack("=I", int(addr_hex, 16))
                    else:
                        raw = struct.pack("=4I", *(int(addr_hex[i:i + 8], 16) for i in range(0, 32, 8)))
                    out.add((socket.inet_ntop(fam, raw), int(port_hex, 16)))
        except FileNotFoundError:
            pass
    return out


def is_listening(host, port):
    entries = listening()
    if (host, port) in entries:
        return True
    wild = ("0.0.0.0", "::") if family(host) == socket.AF_INET else ("::",)
    return any((w, port) in entries for w in wild)


def wait_listening(host, port, proc=None, timeout=WAIT):
    def ready():
        if proc is not None and proc.poll() is not None:
            fail(f"tcpproxy exited with {proc.poll()} before listening{proc_tail(proc)}")
        return is_listening(host, port)
    if not poll_until(ready, timeout):
        fail(f"nothing listening on {host}:{port} after {timeout}s{proc_tail(proc)}")


# -- processes -----------------------------------------------------------------

_procs = []
_scratch = tempfile.mkdtemp(prefix="tcpproxy-it-")
# Handlers run as the configured user (nobody by default when we are root): they must reach their scripts.
os.chmod(_scratch, 0o755)


def scratch(name):
    return os.path.join(_scratch, name)


def write_file(name, text, mode=0o644):
    path = scratch(name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


# Started as root, tcpproxy handles connections as `nobody` unless told otherwise; the tests
# write status files, session logs and captures into directories of the invoking user, so
# they name that user (as the conformance suite does). test_privilege turns this off.
run_as_invoking_user = True


def user_args(args):
    if not run_as_invoking_user or os.geteuid() != 0 or "-u" in args:
        return []
    import pwd
    return ["-u", pwd.getpwuid(os.geteuid()).pw_name]


def start(binary, args, stdin=None, stdout=None, preexec=None):
    errpath = scratch(f"stderr.{len(_procs)}")
    err = open(errpath, "wb")
    args = [str(a) for a in args]
    p = subprocess.Popen([binary] + user_args(args) + args, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                         stdout=stdout if stdout is not None else subprocess.DEVNULL, stderr=err,
                         preexec_fn=preexec, close_fds=True)
    err.close()
    p.errpath = errpath
    _procs.append(p)
    return p


def stderr_text(p):
    try:
        with open(p.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def proc_tail(p):
    if p is None:
        return ""
    lines = stderr_text(p).strip().splitlines()[-6:]
    return ("; stderr: " + " | ".join(lines)) if lines else ""


def stop(p, sig=signal.SIGTERM, timeout=WAIT):
    if p.poll() is None:
        p.send_signal(sig)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail(f"tcpproxy did not exit within {timeout}s of signal {sig}")


def adhoc(binary, port, server, extra=(), host=LO4, bind=None):
    args = ["-d", "-n", *extra, "-b", bind if bind is not None else f"{host}:{port}", server]
    p = start(binary, args)
    wait_listening(host, port, p)
    return p


def configmode(binary, conf_text, listen, extra=()):
    conf = write_file(f"tcpproxy.{len(_procs)}.conf", conf_text)
    p = start(binary, ["-d", "-n", "-s", *extra, "-f", conf])
    for host, port in listen:
        wait_listening(host, port, p)
    p.conf = conf
    return p


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# -- backends ------------------------------------------------------------------

class Backend:
    """A threaded TCP server: handler(conn_socket, info_dict) per connection."""

    def __init__(self, handler, host=LO4, port=0):
        self.sock = socket.socket(family(host), socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            info = {"done": threading.Event()}
            with self.lock:
                self.conns.append(info)
            threading.Thread(target=self._serve, args=(c, info), daemon=True).start()

    def _serve(self, c, info):
        try:
            self.handler(c, info)
        except Exception as e:  # recorded for the test to look at
            info["error"] = e
        finally:
            try:
                c.close()
            except OSError:
                pass
            info["done"].set()

    def count(self):
        with self.lock:
            return len(self.conns)

    def wait_conns(self, n, timeout=WAIT):
        if not poll_until(lambda: self.count() >= n, timeout):
            fail(f"backend saw {self.count()} connections, expected {n}")
        with self.lock:
            return list(self.conns)

    def close(self):
        self.sock.close()


def echo(greeting=b""):
    def h(c, info):
        if greeting:
            c.sendall(greeting)
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(d)
    return h


def dead_port(host=LO4):
    """A port where nothing listens (connect is refused)."""
    return free_port(host)


def connect(host, port, timeout=WAIT, src=None):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def recv_exact(s, n, timeout=WAIT):
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            fail(f"received {len(buf)} of {n} bytes within {timeout}s")
        s.settimeout(left)
        try:
            d = s.recv(min(1 << 20, n - len(buf)))
        except socket.timeout:
            continue
        if not d:
            fail(f"connection closed after {len(buf)} of {n} bytes")
        buf += d
    return bytes(buf)


def outcome(s, timeout=WAIT):
    """Read until EOF/reset/timeout: ('eof'|'reset'|'timeout', data, seconds)."""
    t0 = time.monotonic()
    data = bytearray()
    deadline = t0 + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout", bytes(data), time.monotonic() - t0
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return "reset", bytes(data), time.monotonic() - t0
        if not d:
            return "eof", bytes(data), time.monotonic() - t0
        data += d


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


# -- runner --------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcpproxy", required=True)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    binary = os.path.abspath(args.tcpproxy)
    passed = failed = 0
    for fn in _tests:
        if args.only and fn.__name__ not in args.only.split(","):
            continue
        t0 = time.monotonic()
        try:
            fn(binary)
            passed += 1
            print(f"PASS {fn.__name__} ({time.monotonic() - t0:.1f}s)", flush=True)
        except Failure as e:
            failed += 1
            print(f"FAIL {fn.__name__}: {e}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}: {traceback.format_exc()}", flush=True)
        finally:
            for p in _procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            _procs.clear()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
