"""Start-up order: a port is listening only once the session pool exists, so
a client that connects as soon as the port opens is served at once (§1, the
fixed pool of the design)."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, check, check_eq, connect, echo, free_port, is_listening, main,  # noqa: E402
                       poll_until, recv_exact, scaled, start, stop, test, write_file)

SESSIONS = 2000  # 4,000 pool threads: long enough to create that a poll sees the gap (and TSan copes)


def threads_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


@test
def listens_only_once_the_pool_exists(binary):
    b = Backend(echo(b"G"))
    port = free_port()
    conf = write_file("startup.conf", f"max-sessions {SESSIONS}\nport {port}\n  interface {LO4}\n"
                      f"    server {LO4}:{b.port}\n")
    p = start(binary, ["-d", "-n", "-s", "-f", conf])
    seen = {}

    def listening_now():
        check(p.poll() is None, f"tcpproxy exited with {p.poll()}")
        if is_listening(LO4, port):
            seen["threads"] = threads_of(p.pid)
            return True
        return False
    # Polled as tightly as /proc allows: the first moment the port is open.
    check(poll_until(listening_now, 60, interval=0.001), "the port never started listening")
    check(seen["threads"] >= 2 * SESSIONS,
          f"the port was listening with {seen['threads']} threads, before the pool of {2 * SESSIONS}")
    t0 = time.monotonic()
    s = connect(LO4, port)
    check_eq(recv_exact(s, 1), b"G", "greeting through the proxy")
    check(time.monotonic() - t0 < scaled(2), "the first client waited for the pool")
    s.close()
    stop(p)


if __name__ == "__main__":
    main()
