"""Access control (ACL, acp), handler variables and environment, descriptor hygiene (reference §4.3, §5)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, configmode, connect, echo, free_port, main,  # noqa: E402
                       outcome, poll_until, recv_exact, scaled, stderr_text, test, write_file)

GREETING = b"HELLO\n"


def served(port, src):
    """True when a client from `src` gets the backend's greeting, False when closed without data."""
    s = connect(LO4, port, src=src)
    kind, data, _ = outcome(s, scaled(5))
    s.close()
    if data.startswith(GREETING):
        return True
    check(kind in ("eof", "reset") and not data, f"denied client from {src}: {kind} {data!r}")
    return False


def greeter():
    def h(c, info):
        c.sendall(GREETING)
        c.close()
    return h


@test
def acl_allows_and_denies_by_source(binary):
    b = Backend(greeter())
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-A", "127.0.0.1/32", "-A", "-127.0.0.0/8"])
    check(served(port, "127.0.0.1"), "127.0.0.1 is allowed")
    check(not served(port, "127.0.0.2"), "127.0.0.2 is denied")
    check_eq(b.count(), 1, "backend connections (none for the denied client)")
    check(poll_until(lambda: "status=ACCESS" in stderr_text(p), 5), "the denial is logged as ACCESS")
    check("127.0.0.2 denied by the ACL" in stderr_text(p), "the log says why")


ACP = """#!/bin/sh
echo "acp for $PROXY_CLIENT as $(id -u)" >&2
case "$PROXY_CLIENT" in
  127.0.0.1) exit 0 ;;
  127.0.0.3) kill -SEGV $$ ;;
  127.0.0.4) echo "slowpid=$$" >&2; exec sleep 30 ;;
esac
exit 1
"""


@test
def acp_grant_deny_crash_timeout(binary):
    acp = write_file("acp.sh", ACP, 0o755)
    b = Backend(greeter())
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-t", "2", "-a", acp])
    check(served(port, "127.0.0.1"), "exit 0 grants")
    check(not served(port, "127.0.0.2"), "exit 1 denies")
    check(not served(port, "127.0.0.3"), "a crash denies")
    t0 = time.monotonic()
    check(not served(port, "127.0.0.4"), "running past the timeout denies")
    took = time.monotonic() - t0
    check(1.5 <= took <= 2 + scaled(2.5), f"the acp was cut off after the 2 s timeout, not after {took:.1f}s")
    check_eq(b.count(), 1, "only the granted client reached the backend")
    check(poll_until(lambda: stderr_text(p).count("status=ACCESS") == 3, 5), f"three ACCESS sessions: {stderr_text(p)}")
    err = stderr_text(p)
    # Its stderr lines are logged with the session id.
    check("session=1 acp: acp for 127.0.0.1 as " in err,
          f"acp stderr logged with the session id: {err}")
    check("signal 11" in err, "the crash is logged")
    check("no answer within 2 s" in err, "the timeout is logged")
    slow = err.split("slowpid=")[1].split()[0]
    check(poll_until(lambda: not _cmdline(slow).startswith("sleep 30"), 5), "the slow acp was killed")


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


DUMP = """#!/bin/sh
env | grep '^{prefix}' | sort
echo "PATHLINE=$PATH"
echo "OTHER=${{TCPPROXY_IT_MARK:-unset}}"
echo END
"""


def run_dump(binary, prefix="PROXY_", extra=(), conf=None):
    h = write_file(f"dump{len(prefix)}{len(extra)}.sh", DUMP.format(prefix=prefix), 0o755)
    port = free_port()
    if conf is None:
        p = adhoc(binary, port, h, extra=extra)
    else:
        p = configmode(binary, conf.format(port=port, handler=h), [(LO4, port)], extra=extra)
    before = int(time.time())
    s = connect(LO4, port, src="127.0.0.2")
    kind, data, _ = outcome(s)
    s.close()
    out = data.decode()
    check(out.endswith("END\n"), f"handler output: {out!r}")
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return p, port, env, before


@test
def every_variable_in_an_exec_handler(binary):
    conf = """logname itlog
port {port}
  interface 127.0.0.1
    name mailgate
    exec {handler}
"""
    p, port, env, before = run_dump(binary, conf=conf)
    want = {
        "PROXY_BINDING": f"127.0.0.1:{port}",
        "PROXY_CLIENT": "127.0.0.2",
        "PROXY_CLIENTNAME": "127.0.0.2",  # -n
        "PROXY_INTERFACE": LO4,
        "PROXY_LOGNAME": "itlog",
        "PROXY_NAME": "mailgate",
        "PROXY_PID": str(p.pid),
        "PROXY_PORT": str(port),
        "PROXY_PROGRAM": "tcpproxy",
    }
    for k, v in want.items():
        check_eq(env.get(k), v, k)
    started = int(env.get("PROXY_STARTED", "0"))
    check(before - 1 <= started <= time.time() + 1, f"PROXY_STARTED {started} is the session's start")
    for absent in ("PROXY_SERVER", "PROXY_SERVERNAME", "PROXY_SERVERPORT", "PROXY_ORIGDST_SERVER",
                   "PROXY_ORIGDST_PORT", "PROXY_STATUS", "PROXY_STATUSCODE", "PROXY_BYTES_CLIENT",
                   "PROXY_BYTES_SERVER", "PROXY_DURATION"):
        check(absent not in env, f"{absent} is not set for a handler: {env}")


@test
def binding_without_interface_is_star(binary):
    _, port, env, _ = run_dump(binary, conf="port {port}\n  exec {handler}\n")
    check_eq(env.get("PROXY_BINDING"), f"*:{port}", "BINDING with no interface line")


@test
def empty_environment_with_e(binary):
    os.environ["TCPPROXY_IT_MARK"] = "inherited"
    try:
        _, _, env, _ = run_dump(binary)
        check_eq(env.get("OTHER"), "inherited", "without -e the environment is inherited")
        _, _, env, _ = run_dump(binary, extra=["-e"])
        check_eq(env.get("OTHER"), "unset", "-e clears the rest of the environment")
        check_eq(env.get("PATHLINE"), os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "-e keeps PATH")
        check_eq(env.get("PROXY_CLIENT"), "127.0.0.2", "-e keeps the variables")
    finally:
        del os.environ["TCPPROXY_IT_MARK"]


@test
def custom_prefix(binary):
    _, port, env, _ = run_dump(binary, prefix="GATE_", extra=["-v", "GATE_"])
    check_eq(env.get("GATE_PORT"), str(port), "-v GATE_ names the variables")
    check("PROXY_PORT" not in env, "no PROXY_ variables with -v")
    _, port, env, _ = run_dump(binary, prefix="SMTP_", conf="port {port}\n  setenv SMTP_\n  exec {handler}\n")
    check_eq(env.get("SMTP_CLIENT"), "127.0.0.2", "setenv SMTP_ names the variables")


# exec: the lister has exactly the descriptors the handler was started with.
FDS = """#!/bin/sh
exec python3 -c 'import os
for n in os.listdir("/proc/self/fd"):
    try:
        print(n, os.readlink("/proc/self/fd/" + n))
    except OSError:
        pass
print("END")'
"""


@test
def no_descriptor_of_other_sessions_leaks(binary):
    # A relaying session stays open (its two sockets in the proxy) while a
    # handler lists what it has: only its own socket on 0 and 1 and its stderr pipe.
    b = Backend(echo(GREETING))
    h = write_file("fds.sh", FDS, 0o755)
    p1, p2 = free_port(), free_port()
    conf = f"port {p1}\n  server {LO4}:{b.port}\nport {p2}\n  exec {h}\n"
    configmode(binary, conf, [(LO4, p1), (LO4, p2)])
    held = connect(LO4, p1)
    check_eq(recv_exact(held, len(GREETING)), GREETING, "relayed greeting")
    s = connect(LO4, p2)
    _, data, _ = outcome(s)
    s.close()
    held.close()
    lines = [line.split(" ", 1) for line in data.decode().splitlines() if line != "END"]
    fds = {int(n): target for n, target in lines if n.isdigit()}
    check(fds.get(0, "").startswith("socket:") and fds.get(0) == fds.get(1), f"stdin/stdout are the client: {fds}")
    check(fds.get(2, "").startswith("pipe:"), f"stderr is the log pipe: {fds}")
    # Beyond 0-2 only the directory listdir() opened for /proc/self/fd itself.
    extra = {n: t for n, t in fds.items() if n > 2 and not t.startswith("/proc/")}
    check(not extra, f"descriptors leaked into the handler: {extra}")


if __name__ == "__main__":
    main()
