"""Capture records come in the order the proxy passed the bytes (issue 10.6):
a reply never appears before the request that caused it, because a chunk is
recorded when it is read, before it is written on."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, connect, free_port, main, poll_until,  # noqa: E402
                       recv_exact, scaled, scratch_dir, stderr_text, test)

EXCHANGES = 400
REQUEST = b"Q" * 84
REPLY = b"R" * 240


def replier(c, info):
    # Answers each request the moment it has arrived: the reply races the
    # recording of the request in the proxy.
    for _ in range(EXCHANGES):
        got = b""
        while len(got) < len(REQUEST):
            d = c.recv(len(REQUEST) - len(got))
            if not d:
                return
            got += d
        c.sendall(REPLY)


@test
def reply_never_recorded_before_its_request(binary):
    b = Backend(replier)
    d = scratch_dir("order")
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-w", os.path.join(d, "cap")])
    s = connect(LO4, port)
    for _ in range(EXCHANGES):
        s.sendall(REQUEST)
        recv_exact(s, len(REPLY))
    s.close()
    check(poll_until(lambda: "event=end" in stderr_text(p), scaled(10)), "session end logged")
    names = [n for n in os.listdir(d) if n.startswith("cap.")]
    check_eq(len(names), 1, "capture files")
    r = subprocess.run([binary, "--decode", os.path.join(d, names[0])], capture_output=True, timeout=scaled(60))
    check_eq(r.returncode, 0, f"--decode exit status (stderr {r.stderr[:300]!r})")
    directions = re.findall(rb"(client->server|server->client) \d+ bytes\n", r.stdout)
    # Each request may arrive in pieces, each reply too: byte counts per direction
    # must never let the replies get ahead of the requests.
    sizes = [(m.group(1), int(m.group(2))) for m in
             re.finditer(rb"(client->server|server->client) (\d+) bytes\n", r.stdout)]
    check(len(directions) >= 2 * EXCHANGES, f"{len(directions)} records for {EXCHANGES} exchanges")
    up = down = 0
    for i, (direction, n) in enumerate(sizes):
        if direction == b"client->server":
            up += n
        else:
            down += n
            requests_done = up // len(REQUEST)
            check(down <= requests_done * len(REPLY),
                  f"record {i}: {down} reply bytes recorded after only {up} request bytes")


if __name__ == "__main__":
    main()
