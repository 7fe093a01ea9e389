"""Session logfiles and the exit handler (§4.7, §5, §6): every status reaches the
handler from a real scenario; keep/process/none x matching/non-matching exit codes;
a symlink planted at a session logfile's name is not followed."""

import os
import signal
import socket
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, configmode, connect, dead_port, echo, fail,  # noqa: E402
                       free_port, main, outcome, poll_until, recv_exact, rst_close, scaled, scratch,
                       stderr_text, stop, test, write_file)

_runs = [0]

HANDLER = """#!/bin/sh
# Records one run: environment, arguments, stdin; atomically (rename) so a
# reader never sees half a record.
out="$1"; shift
env | grep '^PROXY_' > "$out/.env.$$"
cat > "$out/stdin.$$"
mv "$out/.env.$$" "$out/env.$$"
echo "handler saw $PROXY_STATUS" >&2
exit 0
"""


def fresh_dirs():
    _runs[0] += 1
    sess = scratch(f"sessions.{_runs[0]}")
    out = scratch(f"handler-out.{_runs[0]}")
    os.mkdir(sess)
    os.mkdir(out)
    handler = write_file(f"exit-handler.{_runs[0]}.sh", HANDLER, 0o755)
    return sess, out, handler


def records(out):
    res = []
    for n in sorted(os.listdir(out)):
        if n.startswith("env."):
            with open(os.path.join(out, n)) as f:
                env = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
            with open(os.path.join(out, "stdin." + n[4:]), "rb") as f:
                env["_stdin"] = f.read().decode("utf-8", "replace")
            res.append(env)
    return res


def wait_records(out, n, p=None, timeout=10):
    if not poll_until(lambda: len(records(out)) >= n, timeout):
        tail = ("; stderr: " + " | ".join(stderr_text(p).splitlines()[-5:])) if p else ""
        fail(f"expected {n} exit handler run(s), got {len(records(out))}{tail}")
    return records(out)


def process_conf(sess, out, handler, body, codes="any", extra_global=""):
    return (f"session-dir {sess}\nsession-mode process\nexit-code {codes}\n"
            f"exit-handler {handler} {out}\n{extra_global}{body}")


def one_status(binary, body, listen, scenario, want, more=None):
    """Runs `scenario(port_info)` against a proxy with `body`, expects one handler run with STATUS=want."""
    sess, out, handler = fresh_dirs()
    p = configmode(binary, process_conf(sess, out, handler, body), listen)
    scenario(p)
    env = wait_records(out, 1, p)[0]
    check_eq(env.get("PROXY_STATUS"), want, "STATUS")
    codes = {"OK": 0, "WARNING": 1, "ACCESS": 2, "CONNECT": 3, "TIMEOUT": 4, "SERVER": 5, "CLIENT": 6, "PROXY": 7}
    check_eq(env.get("PROXY_STATUSCODE"), str(codes[want]), "STATUSCODE")
    for name in ("BYTES_CLIENT", "BYTES_SERVER", "DURATION", "STARTED", "PID", "CLIENT", "PORT", "LOGNAME"):
        check(env.get("PROXY_" + name, "") != "", f"PROXY_{name} in the exit handler's environment: {env}")
    check(f"status={want}" in env["_stdin"], f"the logfile on stdin holds the end line: {env['_stdin'][:300]!r}")
    check(poll_until(lambda: not os.listdir(sess), 5), f"logfile removed after processing: {os.listdir(sess)}")
    check(poll_until(lambda: f"handler saw {want}" in stderr_text(p), 5), "the handler's stderr is logged")
    # Logged once the handler has been reaped, which may be after its stderr line.
    check(poll_until(lambda: "exit code 0" in stderr_text(p), 5), "the handler's exit code is logged")
    if more:
        more(env, p)
    return p


def expect_closed(port):
    s = connect(LO4, port)
    try:
        s.sendall(b"hello\n")
    except OSError:
        pass
    kind, data, _ = outcome(s)
    s.close()
    check(kind in ("eof", "reset"), f"connection closed, got {kind}")
    check_eq(data, b"", "bytes received by a refused client")


def echo_once(port, payload=b"ping\n"):
    s = connect(LO4, port)
    s.sendall(payload)
    check_eq(recv_exact(s, len(payload)), payload, "echo")
    s.close()


@test
def status_ok(binary):
    b = Backend(echo())
    port = free_port()

    def more(env, p):
        check_eq(env.get("PROXY_BYTES_CLIENT"), "5", "BYTES_CLIENT")
        check_eq(env.get("PROXY_BYTES_SERVER"), "5", "BYTES_SERVER")
        check_eq(env.get("PROXY_SERVERPORT"), str(b.port), "SERVERPORT")
    one_status(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n", [(LO4, port)],
               lambda p: echo_once(port), "OK", more)


@test
def status_warning(binary):
    b = Backend(echo())
    port = free_port()
    one_status(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{dead_port()} {LO4}:{b.port}\n",
               [(LO4, port)], lambda p: echo_once(port), "WARNING")


@test
def status_access_acl(binary):
    b = Backend(echo())
    port = free_port()
    one_status(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n    acl +10.0.0.0/8\n",
               [(LO4, port)], lambda p: expect_closed(port), "ACCESS")
    check_eq(b.count(), 0, "backend connections of denied sessions")


@test
def status_access_acp(binary):
    b = Backend(echo())
    acp = write_file("deny-acp.sh", "#!/bin/sh\necho no >&2\nexit 1\n", 0o755)
    port = free_port()
    one_status(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n    acp {acp}\n",
               [(LO4, port)], lambda p: expect_closed(port), "ACCESS")
    check_eq(b.count(), 0, "backend connections of denied sessions")


@test
def status_access_no_section(binary):
    b = Backend(echo())
    port = free_port()
    # A NIC that does not exist makes the port bind the wildcard and match nothing.
    one_status(binary, f"port {port}\n  interface nosuchnic0\n    server {LO4}:{b.port}\n",
               [(LO4, port)], lambda p: expect_closed(port), "ACCESS")


@test
def status_connect(binary):
    port = free_port()
    one_status(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{dead_port()}\n",
               [(LO4, port)], lambda p: expect_closed(port), "CONNECT")


@test
def status_timeout(binary):
    b = Backend(echo())
    port = free_port()

    def idle(p):
        s = connect(LO4, port)
        kind, _, secs = outcome(s, scaled(8))
        s.close()
        check(kind in ("eof", "reset"), f"idle session closed by the proxy, got {kind}")
    one_status(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n    timeout 1\n",
               [(LO4, port)], idle, "TIMEOUT")


@test
def status_server_reset(binary):
    def reset_after_data(c, info):
        c.recv(100)
        rst_close(c)
    b = Backend(reset_after_data)
    port = free_port()

    def scenario(p):
        s = connect(LO4, port)
        s.sendall(b"hello\n")
        outcome(s)
        s.close()
    one_status(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n", [(LO4, port)],
               scenario, "SERVER")


@test
def status_client_reset(binary):
    b = Backend(echo())
    port = free_port()

    def scenario(p):
        s = connect(LO4, port)
        s.sendall(b"hello\n")
        recv_exact(s, 6)
        rst_close(s)
    one_status(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n", [(LO4, port)],
               scenario, "CLIENT")


@test
def status_proxy_failing_handler(binary):
    prog = write_file("failing-exec.sh", "#!/bin/sh\necho bye\nexit 3\n", 0o755)
    port = free_port()

    def scenario(p):
        s = connect(LO4, port)
        outcome(s)
        s.close()
    one_status(binary, f"port {port}\n  interface {LO4}\n    exec {prog}\n", [(LO4, port)], scenario, "PROXY")


@test
def status_proxy_shutdown_cut(binary):
    b = Backend(echo())
    sess, out, handler = fresh_dirs()
    port = free_port()
    p = configmode(binary, process_conf(sess, out, handler,
                                        f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n"),
                   [(LO4, port)])
    s = connect(LO4, port)
    s.sendall(b"x\n")
    recv_exact(s, 2)
    check_eq(stop(p), 0, "exit status after SIGTERM")
    env = wait_records(out, 1, p, timeout=2)[0]  # ran before the proxy exited
    check_eq(env.get("PROXY_STATUS"), "PROXY", "STATUS of a session cut by the shutdown")
    check_eq(env.get("PROXY_STATUSCODE"), "7", "STATUSCODE")
    check_eq(os.listdir(sess), [], "session logfiles left after shutdown")
    s.close()


# -- keep / process / none x matching / non-matching exit codes ----------------

def mode_case(binary, mode, matching):
    b = Backend(echo())
    sess, out, handler = fresh_dirs()
    port = free_port()
    conf = (f"session-dir {sess}\nsession-mode {mode}\nexit-code {'ok' if matching else 'access,connect'}\n"
            f"exit-handler {handler} {out}\nport {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n")
    p = configmode(binary, conf, [(LO4, port)])
    s = connect(LO4, port)
    s.sendall(b"abc\n")
    recv_exact(s, 4)
    # The start line is logged by the session's thread, the logfile opened
    # by the reaper's: wait for the file (with mode none, it never comes).
    check(poll_until(lambda: "event=start" in stderr_text(p), 5), "session start logged")
    if mode != "none":
        poll_until(lambda: os.listdir(sess), 5)
    during = os.listdir(sess)
    if mode == "none":
        check_eq(during, [], "session logfiles with session-mode none")
    else:
        check_eq(len(during), 1, f"one logfile while the session runs ({during})")
        st = os.lstat(os.path.join(sess, during[0]))
        check_eq(stat.S_IMODE(st.st_mode), 0o600, "logfile mode")
        check(stat.S_ISREG(st.st_mode), "logfile is a regular file")
    s.close()
    check(poll_until(lambda: "event=end" in stderr_text(p), 5), "session end logged")
    if mode == "keep" and matching:
        check(poll_until(lambda: "logfile kept" in stderr_text(p), 5), "keeping logged")
        left = os.listdir(sess)
        check_eq(len(left), 1, "kept logfile")
        with open(os.path.join(sess, left[0])) as f:
            text = f.read()
        check("event=start" in text and "status=OK" in text, f"kept logfile holds the session's lines: {text!r}")
    elif mode == "process" and matching:
        env = wait_records(out, 1, p)[0]
        check_eq(env.get("PROXY_STATUS"), "OK", "STATUS")
        check(poll_until(lambda: not os.listdir(sess), 5), "processed logfile removed")
    else:
        check(poll_until(lambda: not os.listdir(sess), 5), f"logfile removed: {os.listdir(sess)}")
    if not (mode == "process" and matching):
        # The handler would have run before the file went: nothing may show up now.
        check_eq(records(out), [], "exit handler runs")
        check("exit handler" not in stderr_text(p), "no exit handler logged")
    stop(p)


@test
def keep_matching(binary):
    mode_case(binary, "keep", True)


@test
def keep_not_matching(binary):
    mode_case(binary, "keep", False)


@test
def process_matching(binary):
    mode_case(binary, "process", True)


@test
def process_not_matching(binary):
    mode_case(binary, "process", False)


@test
def none_matching(binary):
    mode_case(binary, "none", True)


@test
def none_not_matching(binary):
    mode_case(binary, "none", False)


@test
def symlink_at_logfile_not_followed(binary):
    b = Backend(echo())
    sess, out, handler = fresh_dirs()
    target = write_file("precious.txt", "precious\n")
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-E", f"keep,{sess},{handler}"])
    link = os.path.join(sess, f"tcpproxy.{p.pid}.1.log")
    os.symlink(target, link)
    echo_once(port)
    check(poll_until(lambda: "event=end" in stderr_text(p), 5), "session end logged")
    check("open(" + link in stderr_text(p), "the refused logfile is logged with the failing call")
    with open(target) as f:
        check_eq(f.read(), "precious\n", "the symlink's target")
    check(os.path.islink(link), "the planted symlink is left as it was")
    # The next session gets its logfile as usual.
    echo_once(port)
    check(poll_until(lambda: os.path.exists(os.path.join(sess, f"tcpproxy.{p.pid}.2.log")), 5),
          "the next session's logfile is kept")


if __name__ == "__main__":
    main()
