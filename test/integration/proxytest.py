"""The one harness of the integration tests (Python 3 standard library only).

Each test file: `python3 test_x.py --tcpproxy PATH [--only NAME,...]`. Its @test
functions start the real binary on loopback, wait for readiness by reading the
kernel's listen table (/proc/net/tcp*) with deadlines, and the runner prints one
PASS/FAIL/SKIP line per test and `N passed, N failed, N skipped`.

What the harness provides (instead of pytest fixtures):
- daemons: start(), adhoc(), configmode(), stop(); every process a test started is
  killed when the test ends, whatever happened;
- scratch files: scratch(), write_file(), scratch_dir() in one directory per run,
  removed at exit unless a test failed (then its path is printed);
- ports: free_port() hands out a port nobody listens on; a test whose daemon
  could not bind it ("Address already in use": the bind(0)-and-close race, or a
  port taken by another program) is run again with fresh ports, up to PORT_TRIES
  times (retry on EADDRINUSE, the one rule for every test);
- time: every deadline scales with TIME_SCALE (the sanitizer stages of .ci/run set
  it): WAIT, poll_until, wait_listening, recv_exact, connect, stop and wait_conns
  scale by themselves; a test passes scaled(t) for a bound of its own;
- skips: skip(reason) inside a test, skip_all(reason) for the whole file,
  require_tool(); a file whose tests all skipped exits 77 (CTest SKIP_RETURN_CODE)
  and one missing tool is a failure when CI=true (.ci/setup installs it).
  The runner fails when no test ran (e.g. a misspelt --only).
"""

import argparse
import errno
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
SKIP_EXIT = 77  # CTest's SKIP_RETURN_CODE for every integration test
PORT_TRIES = 3


def _time_scale():
    try:
        v = float(os.environ.get("TIME_SCALE") or 1)
    except ValueError:
        v = 1.0
    return max(v, 1.0)


TIME_SCALE = _time_scale()


def scaled(seconds):
    """A time bound of the test's own, stretched for slow (sanitizer) builds."""
    return seconds * TIME_SCALE


WAIT = scaled(10.0)
# How long a daemon may take to start listening. It listens only once its session
# pool exists (2 threads per slot: 2,048 with the default max-sessions); a
# ThreadSanitizer build creates them slowly, and on a loaded machine (CI beside
# stress-ng) that took more than the 10 s once allowed: the TSan stage's flaky
# failure ("nothing listening after 10s"). A deadline costs nothing when the
# daemon is fast, so it is generous: 60 s, scaled.
START_WAIT = 60.0
IN_CI = os.environ.get("CI") == "true"

_tests = []


class Failure(Exception):
    pass


class Skipped(Exception):
    pass


class PortTaken(Failure):
    """A daemon could not bind a port the test chose: the test is run again with fresh ports."""


def fail(msg):
    raise Failure(msg)


def skip(reason):
    """Skips the running test (counted as skipped, with the reason)."""
    raise Skipped(reason)


def _script():
    return os.path.basename(sys.argv[0])


def skip_all(reason):
    """Skips the whole file (before main()): exit 77, reported by CTest as skipped."""
    print(f"SKIP {_script()}: {reason}", flush=True)
    sys.exit(SKIP_EXIT)


def missing_tool(what, package):
    """The one rule for a missing tool: with CI=true a failure (.ci/setup installs every
    tool a test needs), elsewhere a skip that says what to install."""
    msg = f"{what} not installed (install the Debian package {package}; .ci/setup does)"
    if IN_CI:
        print(f"FAIL {_script()}: {msg}, and CI=true", flush=True)
        sys.exit(1)
    skip_all(msg)


def require_tool(name, package, paths=()):
    """The path of a program, found on PATH or at one of `paths`; else missing_tool()."""
    import shutil
    found = shutil.which(name) or next((p for p in paths if os.access(p, os.X_OK)), None)
    if not found:
        missing_tool(f"`{name}`", package)
    return found


def require_root(why):
    if os.geteuid() != 0:
        skip_all(f"needs root ({why})")


def check(cond, msg):
    if not cond:
        fail(msg)


_soft_failures = []


def expect(cond, msg):
    """A check that lets the test go on: every failed expect() is reported, and the test
    fails when it returns. Returns cond."""
    if not cond:
        _soft_failures.append(msg)
    return cond


def check_eq(got, want, what):
    if got != want:
        fail(f"{what}: got {got!r}, expected {want!r}")


def test(fn):
    _tests.append(fn)
    return fn


def sha(data):
    return hashlib.sha256(data).hexdigest()


def poll_until(pred, timeout, interval=0.02):
    """pred() until true or `timeout` (scaled) seconds passed; returns its last value."""
    deadline = time.monotonic() + scaled(timeout)
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


_handed_out = set()


def free_port(host=LO4):
    """A port where nothing listens now, never the same twice in a run. Someone else may
    bind it before the daemon does: the daemon then fails with "Address already in use",
    wait_listening raises PortTaken and the runner repeats the test with fresh ports."""
    while True:
        with socket.socket(family(host), socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if (host, port) not in _handed_out:
            _handed_out.add((host, port))
            return port


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


def address_in_use(text):
    return "address already in use" in text.lower() or "cannot bind socket" in text.lower()


def wait_listening(host, port, proc=None, timeout=START_WAIT):
    """Until host:port is in the listen table (deadline scaled); fails when `proc` exits first
    (PortTaken when it says that the address is in use)."""
    def ready():
        if proc is not None and proc.poll() is not None:
            msg = f"{os.path.basename(str(proc.args[0]))} exited with {proc.poll()} before listening{proc_tail(proc)}"
            if address_in_use(stderr_text(proc)):
                raise PortTaken(msg)
            fail(msg)
        return is_listening(host, port)
    if not poll_until(ready, timeout):
        msg = f"nothing listening on {host}:{port} after {scaled(timeout):g}s{proc_tail(proc)}"
        if proc is not None and address_in_use(stderr_text(proc)):
            raise PortTaken(msg)  # a program that goes on without the port (xinetd)
        fail(msg)


# -- processes -----------------------------------------------------------------

_procs = []
_scratch = None  # made by the first scratch() call


def scratch(name):
    """A path in the run's scratch directory."""
    global _scratch
    if _scratch is None:
        _scratch = tempfile.mkdtemp(prefix="tcpproxy-it-")
        # Handlers run as the configured user (nobody by default when we are root): they must reach their scripts.
        os.chmod(_scratch, 0o755)
    return os.path.join(_scratch, name)


def scratch_dir(name, mode=0o755):
    """A fresh (emptied) directory in the run's scratch directory."""
    import shutil
    path = scratch(name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(path, mode)
    return path


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
        with open(getattr(p, "errpath", None) or "/nonexistent", "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def proc_tail(p):
    if p is None:
        return ""
    lines = stderr_text(p).strip().splitlines()[-6:]
    return ("; stderr: " + " | ".join(lines)) if lines else ""


def stop(p, sig=signal.SIGTERM, timeout=10.0):
    if p.poll() is None:
        p.send_signal(sig)
    try:
        return p.wait(scaled(timeout))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail(f"tcpproxy did not exit within {scaled(timeout):g}s of signal {sig}")


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

    def wait_conns(self, n, timeout=10.0):
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


def connect(host, port, timeout=10.0, src=None):
    """A connected client socket; `timeout` (scaled) is its socket timeout."""
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(scaled(timeout))
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def recv_exact(s, n, timeout=10.0):
    buf = bytearray()
    timeout = scaled(timeout)
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
    """Read until EOF/reset/timeout: ('eof'|'reset'|'timeout', data, seconds).
    An explicit `timeout` is a window the test chose and is NOT scaled: a test that
    waits for an end passes scaled(t), one that expects silence passes t."""
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

def _kill_all():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    _procs.clear()


def _run_one(fn, binary):
    """('pass'|'fail'|'skip', detail), retrying a test whose ports were taken."""
    for attempt in range(1, PORT_TRIES + 1):
        _soft_failures.clear()
        try:
            fn(binary)
            if _soft_failures:
                return "fail", "; ".join(_soft_failures)
            return "pass", ""
        except Skipped as e:
            return "skip", str(e)
        except (PortTaken, OSError) as e:
            port_race = isinstance(e, PortTaken) or e.errno == errno.EADDRINUSE
            if not port_race:
                return "fail", traceback.format_exc()
            if attempt == PORT_TRIES:
                return "fail", f"{e} (port taken {PORT_TRIES} times)"
            print(f"RETRY {fn.__name__}: a port was taken ({e}); again with fresh ports", flush=True)
        except Failure as e:
            # A daemon that said "Address already in use" (on a reload to a new port, say)
            # before the test failed: the same port race, caught later.
            taken = [p for p in _procs if address_in_use(stderr_text(p))]
            if taken and attempt < PORT_TRIES:
                print(f"RETRY {fn.__name__}: {e} - and pid {taken[0].pid} said that an address was in use;"
                      " again with fresh ports", flush=True)
                continue
            return "fail", "; ".join(_soft_failures + [str(e)])
        except Exception:
            return "fail", "; ".join(_soft_failures + [traceback.format_exc()])
        finally:
            _kill_all()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcpproxy", required=True)
    ap.add_argument("--only", default="", help="comma-separated test names")
    args = ap.parse_args()
    binary = os.path.abspath(args.tcpproxy)
    if not os.access(binary, os.X_OK):
        print(f"FAIL: no executable tcpproxy at {binary}")
        sys.exit(1)
    names = [fn.__name__ for fn in _tests]
    only = [n for n in args.only.split(",") if n]
    unknown = [n for n in only if n not in names]
    if unknown:
        print(f"FAIL: no test named {', '.join(unknown)} (tests: {', '.join(names)})")
        sys.exit(1)
    # Killed from outside (a CTest timeout, ^C): the daemons of the running test go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        t0 = time.monotonic()
        result, detail = _run_one(fn, binary)
        counts[result] += 1
        took = f"({time.monotonic() - t0:.1f}s)"
        if result == "pass":
            print(f"PASS {fn.__name__} {took}", flush=True)
        elif result == "skip":
            print(f"SKIP {fn.__name__}: {detail}", flush=True)
        else:
            print(f"FAIL {fn.__name__} {took}: {detail}", flush=True)
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
          + (f" (TIME_SCALE={TIME_SCALE:g})" if TIME_SCALE != 1 else ""))
    if counts["fail"]:
        if _scratch:
            print(f"scratch files kept in {_scratch}")
        sys.exit(1)
    import shutil
    if _scratch:
        shutil.rmtree(_scratch, ignore_errors=True)
    if counts["pass"] == 0:
        print("no test ran" if counts["skip"] == 0 else "every test skipped")
        sys.exit(SKIP_EXIT if counts["skip"] else 1)
    sys.exit(0)
