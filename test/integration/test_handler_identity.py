"""Handler identity (issue 11.3, tcpproxy(1) SECURITY): started as root, the daemon handles data as
the system user `tcpproxy` unless every section names one user (then that one); handlers default
to `nobody`. Without a `tcpproxy` user the daemon falls back to `nobody` with a warning, and a
service whose programs run as the daemon's own user while captures or session logs are on is a
warning. Needs root: skipped otherwise."""

import os
import pwd
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import LO4, check, check_eq, configmode, connect, free_port, main, outcome, skip_all, stderr_text, test  # noqa: E402

proxytest.run_as_invoking_user = False  # the default identities are what this file tests
if os.geteuid() != 0:
    if proxytest.IN_CI:
        print("FAIL test_handler_identity.py: needs root, and CI=true", flush=True)
        sys.exit(1)
    skip_all("needs root (identities are only chosen when started as root)")

NOBODY = pwd.getpwnam("nobody").pw_uid
try:
    DAEMON_USER = pwd.getpwnam("tcpproxy").pw_uid
except KeyError:
    DAEMON_USER = None


def uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Uid:"))


@test
def the_daemon_and_the_handlers_are_apart_by_default(binary):
    port = free_port()
    p = configmode(binary, f"port {port}\n  interface {LO4}\n  exec /usr/bin/id -u\n", [(LO4, port)])
    _, data, _ = outcome(connect(LO4, port))
    check_eq(data, f"{NOBODY}\n".encode(), "the handler runs as nobody")
    if DAEMON_USER is not None:
        check_eq(uid_of(p.pid), DAEMON_USER, "the daemon runs as tcpproxy")
    else:
        check_eq(uid_of(p.pid), NOBODY, "no tcpproxy user: the daemon falls back to nobody")
        check("no system user 'tcpproxy'" in stderr_text(p), f"the fallback is a warning: {stderr_text(p)}")


@test
def a_handler_sharing_the_daemons_user_with_captures_on_is_warned_about(binary):
    port = free_port()
    p = configmode(binary, f"user nobody\nport {port}\n  interface {LO4}\n  writefile /tmp/tcpproxy-capture\n"
                           f"  acp /bin/true\n  server {LO4}:1\n", [(LO4, port)])
    check_eq(uid_of(p.pid), NOBODY, "every section names nobody: the daemon is nobody too")
    check("its programs run as the daemon's own user" in stderr_text(p), f"warned: {stderr_text(p)}")


if __name__ == "__main__":
    main()
