"""Traffic capture (§4.8): random binary data both ways is forwarded unchanged
and `tcpproxy --decode` restores both streams byte for byte; a symlink planted
at a capture file's name is not followed."""

import os
import socket
import stat
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, configmode, connect, echo, fail, free_port, main,  # noqa: E402
                       poll_until, recv_exact, scaled, scratch, sha, stderr_text, stop, test, write_file)

# Both directions together stay below the writer's 1 MiB buffer (with room for
# the record headers), so no byte can be dropped however late the writer
# thread is scheduled on a loaded machine: the round trip is then exact.
UP = os.urandom(300_000)
DOWN = os.urandom(400_000)


def sender_receiver(sock, payload, result, key):
    """Sends `payload` (then half-closes) while reading until EOF."""
    def send():
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = bytearray()
    sock.settimeout(20)
    while True:
        d = sock.recv(1 << 16)
        if not d:
            break
        got += d
    t.join()
    result[key] = bytes(got)


def capture_files(d, base):
    return sorted(n for n in os.listdir(d) if n.startswith(base + "."))


@test
def round_trip_random_binary(binary):
    result = {}

    def backend(c, info):
        sender_receiver(c, DOWN, result, "server_got")
    b = Backend(backend)
    d = scratch("cap1")
    os.mkdir(d)
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-w", os.path.join(d, "traffic")])
    s = connect(LO4, port)
    sender_receiver(s, UP, result, "client_got")
    s.close()
    check(poll_until(lambda: "server_got" in result, 10), "backend finished")
    check_eq(sha(result["server_got"]), sha(UP), "client->server bytes forwarded (sha256)")
    check_eq(sha(result["client_got"]), sha(DOWN), "server->client bytes forwarded (sha256)")
    check(poll_until(lambda: "event=end" in stderr_text(p), 5), "session end logged")
    names = capture_files(d, "traffic")
    check_eq(names, [f"traffic.{p.pid}.1.log"], "capture files")
    path = os.path.join(d, names[0])
    check_eq(stat.S_IMODE(os.lstat(path).st_mode), 0o600, "capture file mode")
    c_out, s_out = scratch("c2s.bin"), scratch("s2c.bin")
    r = subprocess.run([binary, "--decode", path, "--client-out", c_out, "--server-out", s_out],
                       capture_output=True, timeout=scaled(30))
    check_eq(r.returncode, 0, f"--decode exit status (stderr {r.stderr[:300]!r})")
    check(b"DROP" not in r.stdout, "nothing dropped while within the capture buffer")
    with open(c_out, "rb") as f:
        check_eq(sha(f.read()), sha(UP), "--decode --client-out restores client->server")
    with open(s_out, "rb") as f:
        check_eq(sha(f.read()), sha(DOWN), "--decode --server-out restores server->client")
    stop(p)


@test
def one_file_per_session_from_config(binary):
    b = Backend(echo())
    d = scratch("cap2")
    os.mkdir(d)
    port = free_port()
    p = configmode(binary, f"port {port}\n  interface {LO4}\n    server {LO4}:{b.port}\n"
                           f"    writefile {os.path.join(d, 'cfg')}\n", [(LO4, port)])
    for i in range(3):
        s = connect(LO4, port)
        s.sendall(b"session %d\n" % i)
        recv_exact(s, 10)
        s.close()
    check(poll_until(lambda: stderr_text(p).count("event=end") == 3, 5), "three sessions ended")
    check_eq(capture_files(d, "cfg"), [f"cfg.{p.pid}.{i}.log" for i in (1, 2, 3)], "capture files")
    for i in (1, 2, 3):
        with open(os.path.join(d, f"cfg.{p.pid}.{i}.log"), "rb") as f:
            blob = f.read()
        msg = b"session %d\n" % (i - 1)
        check(blob.count(msg) == 2, f"capture {i} holds the line once each way: {blob[:200]!r}")
    stop(p)


@test
def planted_symlink_not_followed(binary):
    b = Backend(echo())
    d = scratch("cap3")
    os.mkdir(d)
    target = write_file("capture-victim.txt", "victim\n")
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-w", os.path.join(d, "t")])
    link = os.path.join(d, f"t.{p.pid}.1.log")
    os.symlink(target, link)
    s = connect(LO4, port)
    s.sendall(b"still forwarded\n")
    check_eq(recv_exact(s, 16), b"still forwarded\n", "a session whose capture is refused still works")
    s.close()
    check(poll_until(lambda: "event=end" in stderr_text(p), 5), "session end logged")
    check("capture" in stderr_text(p) and link in stderr_text(p), "the refused capture file is logged")
    with open(target) as f:
        check_eq(f.read(), "victim\n", "the symlink target")
    check(os.path.islink(link), "the symlink is left alone")
    stop(p)


if __name__ == "__main__":
    main()
