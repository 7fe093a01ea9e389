"""Exec handlers: the client socket as stdin/stdout, §5 variables, exit status, no leaks, no zombies."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (LO4, adhoc, check, check_eq, connect, free_port, main, outcome, poll_until,  # noqa: E402
                       stderr_text, test, write_file)

HANDLER = """#!/bin/sh
read line
echo "got:$line"
env | grep '^PROXY_' | sort
echo "fds:$(ls /proc/self/fd | tr '\\n' ' ')"
echo "to stderr" >&2
exit ${EXIT:-0}
"""


def run_handler(binary, extra=(), env_exit=None):
    h = write_file("handler.sh", HANDLER.replace("${EXIT:-0}", str(env_exit or 0)), 0o755)
    port = free_port()
    p = adhoc(binary, port, h, extra=extra)
    s = connect(LO4, port)
    s.sendall(b"hello\n")
    kind, data, _ = outcome(s)
    s.close()
    return p, port, kind, data.decode()


@test
def handler_gets_socket_and_variables(binary):
    p, port, kind, out = run_handler(binary)
    check_eq(kind, "eof", "end of the handler's output")
    check("got:hello" in out, f"handler read the client: {out!r}")
    for want in (f"PROXY_PORT={port}", f"PROXY_INTERFACE={LO4}", f"PROXY_CLIENT={LO4}", "PROXY_PROGRAM=tcpproxy",
                 f"PROXY_PID={p.pid}", "PROXY_LOGNAME=tcpproxy"):
        check(want in out, f"{want} in the handler's environment: {out!r}")
    check("PROXY_STATUS" not in out and "PROXY_BYTES_CLIENT" not in out, "no end-of-session variables")
    fds = out.split("fds:")[1].split()[0:]
    # 0, 1, 2 and the one `ls` opens for /proc/self/fd: nothing of the proxy leaks into the child.
    check(len([f for f in fds if f.isdigit()]) <= 4, f"descriptors in the handler: {fds}")
    check(poll_until(lambda: "status=OK" in stderr_text(p), 5), "exit 0 logged as OK")
    check("handler: to stderr" in stderr_text(p), "handler stderr logged")


@test
def failing_handler_is_proxy_status(binary):
    p, _, kind, _ = run_handler(binary, env_exit=3)
    check(poll_until(lambda: "status=PROXY" in stderr_text(p), 5), "non-zero exit logged as PROXY")
    check("exit 3" in stderr_text(p), "the exit code is logged")


@test
def no_zombies_after_many_handlers(binary):
    h = write_file("quick.sh", "#!/bin/sh\necho hi\n", 0o755)
    port = free_port()
    p = adhoc(binary, port, h)
    for _ in range(200):
        s = connect(LO4, port)
        kind, data, _ = outcome(s)
        s.close()
        check_eq(data, b"hi\n", "handler output")

    def zombies():
        # Handlers are the proxy's children, or (started as root) the privileged spawner's.
        stats = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(pid)] = (fields[0], int(fields[1]))
        family = {p.pid} | {pid for pid, (_, ppid) in stats.items() if ppid == p.pid}
        return [pid for pid, (state, ppid) in stats.items() if ppid in family and state == "Z"]
    check(poll_until(lambda: not zombies(), 5), f"zombie children of the proxy: {zombies()}")
    check(poll_until(lambda: stderr_text(p).count("status=OK") == 200, 10), "200 sessions logged OK")


if __name__ == "__main__":
    main()
