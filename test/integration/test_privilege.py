"""Identity (reference §4.5, tcpproxy(1) SECURITY): started as root, nothing that holds a client
socket keeps uid 0; handlers run as their service's user; the pidfile is still removed, a
reload can still bind a port below 1024 and still reads a config file only root can read. Needs root: skipped (with a message) otherwise."""

import os
import pwd
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (START_WAIT, LO4, Backend, adhoc, check, check_eq, configmode, connect, echo, fail, free_port,  # noqa: E402
                       is_listening, main, outcome, poll_until, recv_exact, scratch, start, stderr_text, stop, test,
                       wait_listening, write_file)

proxytest.run_as_invoking_user = False  # identity is what this file tests: no -u unless a test gives one
NOBODY = pwd.getpwnam("nobody").pw_uid
DAEMON = pwd.getpwnam("daemon").pw_uid  # a second non-root user every Debian has


def client_socket_inodes(proxy_port, client_port):
    """Inodes of the proxy-side socket of the connection client_port -> proxy_port."""
    out = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as f:
            next(f)
            for line in f:
                parts = line.split()
                local_port = int(parts[1].split(":")[1], 16)
                remote_port = int(parts[2].split(":")[1], 16)
                if local_port == proxy_port and remote_port == client_port:
                    out.add(parts[9])
    return out


def holders(inodes):
    """(pid, tid) of every task whose descriptor table holds one of `inodes`."""
    want = {f"socket:[{i}]" for i in inodes}
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            d = f"/proc/{pid}/task/{tid}/fd"
            try:
                targets = {os.readlink(f"{d}/{n}") for n in os.listdir(d)}
            except OSError:
                continue
            if targets & want:
                found.append((pid, tid))
    return found


def ids(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                uids = [int(x) for x in line.split()[1:]]
            if line.startswith("Gid:"):
                gids = [int(x) for x in line.split()[1:]]
    return uids, gids


def check_no_root_holder(proxy_port, s, expect_uid):
    inodes = client_socket_inodes(proxy_port, s.getsockname()[1])
    check(inodes, "the proxy's side of the client connection is in /proc/net/tcp")
    tasks = holders(inodes)
    check(tasks, "some task holds the client socket")
    for pid, tid in tasks:
        uids, gids = ids(pid, tid)
        # real, effective, saved (and filesystem): none is root.
        check(0 not in uids, f"task {pid}/{tid} holds the client socket with uids {uids}")
        check(0 not in gids, f"task {pid}/{tid} holds the client socket with gids {gids}")
        check(uids[0] == expect_uid, f"task {pid}/{tid} runs as uid {uids[0]}, expected {expect_uid}")
    return tasks


def all_tasks_of(pid):
    return [(str(pid), t) for t in os.listdir(f"/proc/{pid}/task")]


HOLD = """#!/bin/sh
echo "uid=$(id -u)"
read line
echo "bye"
"""


@test
def relaying_session_holds_no_root(binary):
    b = Backend(echo(b"HI\n"))
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-u", "nobody"])
    s = connect(LO4, port)
    check_eq(recv_exact(s, 3), b"HI\n", "relayed greeting")
    tasks = check_no_root_holder(port, s, NOBODY)
    check(any(pid == str(p.pid) for pid, _ in tasks), "the daemon's own threads hold the socket")
    for pid, tid in all_tasks_of(p.pid):
        check(0 not in ids(pid, tid)[0], f"daemon thread {tid} still has uid 0 somewhere")
    s.close()


@test
def handler_runs_as_configured_user_and_nothing_holding_the_client_is_root(binary):
    h = write_file("hold.sh", HOLD, 0o755)
    port = free_port()
    p = adhoc(binary, port, h, extra=["-u", "nobody"])
    s = connect(LO4, port)
    check_eq(recv_exact(s, len(f"uid={NOBODY}\n")), f"uid={NOBODY}\n".encode(), "the handler's id -u")
    tasks = check_no_root_holder(port, s, NOBODY)
    check(len({pid for pid, _ in tasks}) >= 2, f"both the daemon and the handler hold the socket: {tasks}")
    s.sendall(b"done\n")
    kind, data, _ = outcome(s)
    check_eq(data, b"bye\n", "handler's last words")
    s.close()
    check(poll_until(lambda: "status=OK" in stderr_text(p), 5), "session OK")


@test
def default_user_is_nobody(binary):
    h = write_file("id.sh", "#!/bin/sh\nid -u\n", 0o755)
    port = free_port()
    adhoc(binary, port, h)
    s = connect(LO4, port)
    _, data, _ = outcome(s)
    check_eq(data, f"{NOBODY}\n".encode(), "handler uid without -u")


@test
def per_service_users(binary):
    # Two services, two users: the daemon takes the default, each handler its service's user.
    h = write_file("id2.sh", "#!/bin/sh\nid -u\nid -g\n", 0o755)
    p1, p2 = free_port(), free_port()
    conf = f"port {p1}\n  user daemon\n  exec {h}\nport {p2}\n  user nobody\n  exec {h}\n"
    p = configmode(binary, conf, [(LO4, p1), (LO4, p2)])
    for port, uid in ((p1, DAEMON), (p2, NOBODY)):
        s = connect(LO4, port)
        _, data, _ = outcome(s)
        gid = pwd.getpwuid(uid).pw_gid
        check_eq(data, f"{uid}\n{gid}\n".encode(), f"handler ids on port {port}")
    for pid, tid in all_tasks_of(p.pid):
        check_eq(ids(pid, tid)[0][0], NOBODY, f"daemon thread {tid} uid with differing service users")


EXIT_ID = """#!/bin/sh
# Records who ran it, per session (its port); renamed into place so a reader never sees half of it.
out="$1"
id -u > "$out/.uid.$PROXY_PORT"
cat > /dev/null
mv "$out/.uid.$PROXY_PORT" "$out/uid.$PROXY_PORT"
"""


@test
def exit_handler_runs_as_its_services_user(binary):
    # The daemon itself is nobody here (the services differ); each session's exit handler
    # must still be its own service's user, as the privileged spawner starts it.
    sess, out = scratch("exit-id-sessions"), scratch("exit-id-out")
    for d in (sess, out):
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o1777)  # the daemon writes logfiles, handlers of two users write records
    h = write_file("exit-id.sh", EXIT_ID, 0o755)
    b = Backend(echo(b"HI\n"))
    p1, p2 = free_port(), free_port()
    conf = (f"session-dir {sess}\nsession-mode process\nexit-code any\nexit-handler {h} {out}\n"
            f"port {p1}\n  user daemon\n  server {LO4}:{b.port}\n"
            f"port {p2}\n  user nobody\n  server {LO4}:{b.port}\n")
    p = configmode(binary, conf, [(LO4, p1), (LO4, p2)])
    for port in (p1, p2):
        s = connect(LO4, port)
        check_eq(recv_exact(s, 3), b"HI\n", f"relayed greeting on port {port}")
        s.close()
    for port, uid in ((p1, DAEMON), (p2, NOBODY)):
        rec = os.path.join(out, f"uid.{port}")
        if not poll_until(lambda: os.path.exists(rec), 10):
            fail(f"no exit handler record for port {port}; stderr: {stderr_text(p)[-1500:]}")
        with open(rec) as f:
            check_eq(f.read().strip(), str(uid), f"exit handler uid for the session on port {port}")
    check(poll_until(lambda: not os.listdir(sess), 5), f"logfiles removed after processing: {os.listdir(sess)}")
    check(poll_until(lambda: stderr_text(p).count("exit code 0") >= 2, 5), "both handlers' exit codes logged")
    for pid, tid in all_tasks_of(p.pid):
        check_eq(ids(pid, tid)[0][0], NOBODY, f"daemon thread {tid} uid with differing service users")


@test
def explicit_root_is_kept_with_a_warning(binary):
    h = write_file("idr.sh", "#!/bin/sh\nid -u\n", 0o755)
    port = free_port()
    p = adhoc(binary, port, h, extra=["-u", "root"])
    s = connect(LO4, port)
    _, data, _ = outcome(s)
    check_eq(data, b"0\n", "handler uid with -u root")
    check("user root: client data is handled as root" in stderr_text(p), "the warning at start")


@test
def pidfile_removed_and_reload_binds_low_port(binary):
    run = scratch("run")
    os.makedirs(run, mode=0o755, exist_ok=True)  # root's directory: the daemon (nobody) cannot unlink there
    pidfile = os.path.join(run, "tcpproxy.pid")
    b = Backend(echo(b"LOW\n"))
    port = free_port()
    low = next((q for q in range(1000, 600, -1) if not is_listening(LO4, q) and _bindable(q)), None)
    if low is None:
        fail("no free port below 1024 to test with")
    conf = write_file("reload.conf", f"pidfile {pidfile}\nport {port}\n  server {LO4}:{b.port}\n")
    p = configmode(binary, open(conf).read(), [(LO4, port)])
    check(poll_until(lambda: os.path.exists(pidfile), 5), "pidfile written")
    with open(p.conf, "w") as f:
        f.write(f"pidfile {pidfile}\nport {port}\n  server {LO4}:{b.port}\nport {low}\n  server {LO4}:{b.port}\n")
    p.send_signal(signal.SIGHUP)
    wait_listening(LO4, low, p)
    s = connect(LO4, low)
    check_eq(recv_exact(s, 4), b"LOW\n", f"served on the reloaded port {low}")
    s.close()
    check_eq(stop(p), 0, "exit status")
    check(not os.path.exists(pidfile), "pidfile removed at exit although the daemon is no longer root")


@test
def reload_reads_a_config_only_root_can_read(binary):
    # Administrators keep /etc/tcpproxy.conf 0600 root:root. The daemon (nobody) cannot open it:
    # the spawner reads it on SIGHUP and hands over its text.
    b1, b2 = Backend(echo(b"ONE\n")), Backend(echo(b"TWO\n"))
    p1, p2, p3 = free_port(), free_port(), free_port()
    conf = write_file("root-only.conf", f"port {p1}\n  server {LO4}:{b1.port}\n", 0o600)
    p = start(binary, ["-d", "-n", "-s", "-u", "nobody", "-f", conf])
    wait_listening(LO4, p1, p)
    st = os.stat(conf)
    check(st.st_uid == 0 and st.st_mode & 0o777 == 0o600, "the config file is 0600 root")
    for pid, tid in all_tasks_of(p.pid):
        check_eq(ids(pid, tid)[0], [NOBODY] * 4, f"daemon thread {tid} uids: it cannot open the file itself")

    with open(conf, "w") as f:
        f.write(f"port {p1}\n  server {LO4}:{b1.port}\nport {p2}\n  server {LO4}:{b2.port}\n")
    p.send_signal(signal.SIGHUP)
    if not poll_until(lambda: "reload: done" in stderr_text(p) or "keeping the running" in stderr_text(p), START_WAIT):
        fail(f"no end of the reload logged; stderr: {stderr_text(p)[-1500:]}")
    check("cannot read the configuration" not in stderr_text(p), f"reload failed: {stderr_text(p)[-800:]}")
    wait_listening(LO4, p2, p)
    for port, greeting in ((p1, b"ONE\n"), (p2, b"TWO\n")):
        s = connect(LO4, port)
        check_eq(recv_exact(s, 4), greeting, f"relayed on port {port} after the reload")
        s.close()

    # An invalid version: refused with diagnostics that name the file, the running config kept.
    with open(conf, "w") as f:
        f.write(f"port {p3}\n  server {LO4}:{b1.port}\n  no-such-directive 1\n")
    p.send_signal(signal.SIGHUP)
    if not poll_until(lambda: "keeping the running configuration" in stderr_text(p), START_WAIT):
        fail(f"the invalid version was not refused; stderr: {stderr_text(p)[-1500:]}")
    check(f"{conf}:3:" in stderr_text(p), f"the diagnostic names the file and line: {stderr_text(p)[-800:]}")
    check(not is_listening(LO4, p3), f"port {p3} of the refused version is not bound")
    for port, greeting in ((p1, b"ONE\n"), (p2, b"TWO\n")):
        s = connect(LO4, port)
        check_eq(recv_exact(s, 4), greeting, f"port {port} still served by the kept configuration")
        s.close()
    check_eq(stop(p), 0, "exit status")


def _bindable(port):
    import socket
    with socket.socket() as t:
        try:
            t.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


if __name__ == "__main__":
    proxytest.require_root("the daemon only changes identity when started as root")
    main()
