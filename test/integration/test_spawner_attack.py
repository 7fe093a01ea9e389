"""The privileged spawner against a compromised daemon (issue 11.1, tcpproxy(1) SECURITY).

Each test plays code running inside the unprivileged daemon: as root it takes the daemon's end of
the spawner channel with pidfd_getfd(2), drops to the daemon's own uid and gid, and only then sends
forged and malformed requests. Every forged spawn, environment and bind must be refused (a Failed
answer) and logged, a malformed message must be logged as a protocol error without ending the
spawner, and the real service must still work afterwards. Needs root: skipped otherwise."""

import ctypes
import json
import os
import pwd
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (LO4, check, check_eq, configmode, connect, fail, free_port, main, outcome,  # noqa: E402
                       poll_until, scaled, skip_all, start, stderr_text, test, write_file)

proxytest.run_as_invoking_user = False  # the daemon's identity is part of what is attacked
if os.geteuid() != 0:
    if proxytest.IN_CI:
        print("FAIL test_spawner_attack.py: needs root, and CI=true", flush=True)
        sys.exit(1)
    skip_all("needs root (pidfd_getfd on the daemon, a privileged spawner)")

NOBODY = pwd.getpwnam("nobody")
SYS_PIDFD_GETFD = 438
libc = ctypes.CDLL(None, use_errno=True)

# The messages (src/process/spawn_protocol.cpp): tags and little-endian fields.
TAG_SPAWN, TAG_BIND, TAG_RELOAD = 1, 2, 3
TAG_STARTED, TAG_FAILED, TAG_EXITED = 10, 11, 12
EXEC, ACP, EXIT_HANDLER = 1, 2, 3


def strings(items):
    out = struct.pack("<I", len(items))
    for s in items:
        b = s.encode() if isinstance(s, str) else s
        out += struct.pack("<I", len(b)) + b
    return out


def spawn_msg(generation, service, role, variables=(), stdio=0):
    flat = [x for pair in variables for x in pair]
    return struct.pack("<BIIB", TAG_SPAWN, generation, service, role) + strings(flat) + struct.pack("<B", stdio)


def bind_msg(ip, port):
    packed = socket.inet_pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)
    fam = 6 if len(packed) == 16 else 4
    return struct.pack("<BB", TAG_BIND, fam) + packed.ljust(16, b"\0") + struct.pack("<IBi", port, 0, 16)


def old_style_spawn():
    """The request of the old protocol: any argv, any env, any uid (what the review forged)."""
    return (struct.pack("<B", TAG_SPAWN) + strings(["/bin/sh", "-c", "id"]) + strings(["LD_PRELOAD=/tmp/x.so"]) +
            struct.pack("<IIBB", 0, 0, 0, 0))


def answer_of(sock):
    """The decoded answer on a request's answer socket, or None when it was closed unanswered."""
    sock.settimeout(scaled(10))
    data = sock.recv(4096)
    if not data:
        return None
    if data[0] == TAG_FAILED:
        err, n = struct.unpack_from("<iI", data, 1)
        return {"failed": data[9:9 + n].decode("utf-8", "replace"), "errno": err}
    if data[0] == TAG_STARTED:
        return {"started": struct.unpack_from("<i", data, 1)[0]}
    return {"other": data[0]}


def ask(channel, payload, extra_fds=(), until_exit=False):
    """The answer; with until_exit, waits for the program's Exited report too (closing the
    control socket earlier kills it)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    socket.send_fds(channel, [payload], [theirs.fileno(), *extra_fds])
    theirs.close()
    try:
        answer = answer_of(ours)
        if until_exit and answer and "started" in answer:
            answer["exit"] = answer_of(ours)
        return answer
    finally:
        ours.close()


def uid_gid_of(pid):
    uid = gid = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
            if line.startswith("Gid:"):
                gid = int(line.split()[1])
    return uid, gid


def spawner_of(daemon_pid):
    """The daemon's child that kept uid 0: the spawner."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == daemon_pid and uid_gid_of(pid)[0] == 0:
            return int(pid)
    return None


def take_channel(daemon_pid):
    """The daemon's end of the spawner channel, through pidfd_getfd: its one SOCK_SEQPACKET socket
    while no program runs."""
    pidfd = os.pidfd_open(daemon_pid)
    found = []
    try:
        for name in os.listdir(f"/proc/{daemon_pid}/fd"):
            try:
                if not os.readlink(f"/proc/{daemon_pid}/fd/{name}").startswith("socket:"):
                    continue
            except OSError:
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                fail(f"pidfd_getfd({name}): {os.strerror(ctypes.get_errno())}")
            s = socket.socket(fileno=fd)
            if s.family == socket.AF_UNIX and s.type == socket.SOCK_SEQPACKET:
                found.append(s)
            else:
                s.close()
    finally:
        os.close(pidfd)
    check_eq(len(found), 1, "SOCK_SEQPACKET sockets in the idle daemon (the spawner channel)")
    return found[0]


def as_compromised_daemon(daemon_pid, attack):
    """Runs attack(channel) in a child that took the channel as root and then became the daemon's
    uid/gid; returns what it returned (JSON)."""
    channel = take_channel(daemon_pid)
    uid, gid = uid_gid_of(daemon_pid)
    check(uid != 0, f"the daemon gave up root (uid {uid})")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            result = attack(channel)
            os.write(w, json.dumps(result).encode())
            os._exit(0)
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            os.write(w, json.dumps({"error": repr(e)}).encode())
            os._exit(1)
    os.close(w)
    channel.close()
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    result = json.loads(data or b"{}")
    if isinstance(result, dict) and "error" in result:
        fail(f"the attacking child failed: {result['error']}")
    return result


def service_still_works(port):
    _, data, _ = outcome(connect(LO4, port))
    check_eq(data, b"ok", "the service still works")


def exec_config(port, extra=""):
    return f"""user nobody
{extra}
port {port}
  interface 127.0.0.1
  exec /usr/bin/printf ok
"""


@test
def forged_spawns_environments_and_binds_are_refused_and_logged(binary):
    port = free_port()
    p = configmode(binary, exec_config(port), [(LO4, port)])
    forged = {
        "no such service": spawn_msg(0, 99, EXEC),
        "unknown generation": spawn_msg(7, 0, EXEC),
        "a role the service has not": spawn_msg(0, 0, ACP),
        "an exit handler nobody configured": spawn_msg(0, 0, EXIT_HANDLER),
        "LD_PRELOAD": spawn_msg(0, 0, EXEC, [("LD_PRELOAD", "/tmp/evil.so")]),
        "GCONV_PATH": spawn_msg(0, 0, EXEC, [("GCONV_PATH", "/tmp")]),
        "PATH": spawn_msg(0, 0, EXEC, [("PATH", "/tmp")]),
        "an end-only variable": spawn_msg(0, 0, EXEC, [("STATUS", "ok")]),
        "bind: configured port, other address": bind_msg("10.9.9.1", port),
        "bind: configured port, wildcard": bind_msg("0.0.0.0", port),
        "bind: unconfigured port": bind_msg(LO4, 22),
    }

    def attack(channel):
        out = {name: ask(channel, msg) for name, msg in forged.items()}
        out["legitimate"] = ask(channel, spawn_msg(0, 0, EXEC, [("CLIENT", "192.0.2.1")]))
        return out

    got = as_compromised_daemon(p.pid, attack)
    for name in forged:
        answer = got[name]
        check(answer and answer.get("failed", "").startswith("not allowed: "), f"{name}: answered {answer}")
        check_eq(answer["errno"], 1, f"{name}: EPERM")
    check("started" in (got["legitimate"] or {}), f"the configured program still starts: {got['legitimate']}")
    check(poll_until(lambda: stderr_text(p).count("spawner: refused: not allowed") >= len(forged), 5),
          f"every refusal logged: {stderr_text(p)[-2000:]}")
    service_still_works(port)


@test
def malformed_messages_are_protocol_errors_not_an_end(binary):
    port = free_port()
    p = configmode(binary, exec_config(port), [(LO4, port)])

    def attack(channel):
        out = {}
        channel.send(b"")  # zero-length: once the spawner's orderly exit
        out["garbage"] = ask(channel, b"\x01\x02\x03")
        out["old protocol"] = ask(channel, old_style_spawn())
        out["truncated"] = ask(channel, spawn_msg(0, 0, EXEC)[:-1])
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        socket.send_fds(channel, [spawn_msg(0, 0, EXEC)], [theirs.fileno(), theirs.fileno()])  # stdio says none
        theirs.close()
        out["descriptor count"] = answer_of(ours)
        ours.close()
        out["afterwards"] = ask(channel, spawn_msg(0, 0, EXEC))
        return out

    got = as_compromised_daemon(p.pid, attack)
    for name in ("garbage", "old protocol", "truncated", "descriptor count"):
        check(got[name] is None, f"{name}: no answer but the closed answer socket, got {got[name]}")
    check("started" in (got["afterwards"] or {}), f"the spawner still serves: {got['afterwards']}")
    check(poll_until(lambda: "spawner: protocol error: empty request" in stderr_text(p), 5),
          f"the empty message logged: {stderr_text(p)[-2000:]}")
    check(stderr_text(p).count("spawner: protocol error: malformed request") >= 4,
          f"each malformed request logged: {stderr_text(p)[-2000:]}")
    service_still_works(port)


@test
def the_spawned_program_gets_the_spawners_environment_not_the_daemons(binary):
    port = free_port()
    out = write_file("env.out", "")
    os.chmod(out, 0o666)
    script = write_file("env.sh", f"#!/bin/sh\nenv > {out}\nprintf done\n", 0o755)
    p = configmode(binary, f"user nobody\nport {port}\n  interface 127.0.0.1\n  exec {script}\n", [(LO4, port)])

    def attack(channel):
        return ask(channel, spawn_msg(0, 0, EXEC, [("CLIENT", "192.0.2.1\x1b]0;pwned\x07"), ("NAME", "x")]),
                   until_exit=True)

    got = as_compromised_daemon(p.pid, attack)
    check("started" in (got or {}), f"started: {got}")
    check(poll_until(lambda: "PROXY_NAME=" in open(out).read(), 5), "the program wrote its environment")
    env = open(out).read()
    check("PROXY_CLIENT=192.0.2.1?]0;pwned?" in env, f"values cleaned: {env}")
    for line in env.splitlines():
        check(not line.startswith(("LD_", "GCONV_PATH=")), f"a loader variable reached the program: {line}")


@test
def a_dead_spawner_is_logged_and_its_services_refuse(binary):
    port = free_port()
    p = configmode(binary, exec_config(port), [(LO4, port)])
    spawner = spawner_of(p.pid)
    check(spawner, "the spawner runs")
    os.kill(spawner, signal.SIGKILL)
    check(poll_until(lambda: not os.path.exists(f"/proc/{spawner}") or
                     open(f"/proc/{spawner}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", 5), "spawner gone")
    s = connect(LO4, port)
    _, data, _ = outcome(s)
    check_eq(data, b"", "no output from a handler that cannot start")
    check(poll_until(lambda: "spawner: gone" in stderr_text(p), 5), f"logged: {stderr_text(p)[-1500:]}")
    check(poll_until(lambda: "status=PROXY" in stderr_text(p), 5), f"the session refused: {stderr_text(p)[-1500:]}")
    check(p.poll() is None, "the daemon keeps running")


@test
def root_handlers_are_warned_about(binary):
    port = free_port()
    for user in ("root", ".root", "nobody.root"):
        conf = write_file(f"root-{user}.conf", f"port {port}\n  user {user}\n  exec /usr/bin/printf ok\n")
        p = start(binary, ["--check-config", "-f", conf])
        check_eq(p.wait(scaled(10)), 0, f"user {user}: still a valid configuration")
        check("warning:" in stderr_text(p) and ("uid 0" in stderr_text(p) or "gid 0" in stderr_text(p)),
              f"user {user}: --check-config warns: {stderr_text(p)}")
    p = configmode(binary, f"port {port}\n  interface 127.0.0.1\n  user root\n  exec /usr/bin/printf ok\n",
                   [(LO4, port)])
    check("uid 0" in stderr_text(p), f"warned at start: {stderr_text(p)[-1500:]}")


if __name__ == "__main__":
    main()
