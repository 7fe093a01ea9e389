"""A slow reader keeps its session (issue 10.1): the idle timeout counts bytes
the kernel moves out of the proxy's send queues, checked at the idle deadline;
a peer that stops reading altogether still times out."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (Backend, LO4, adhoc, check, check_eq, free_port, main, outcome, poll_until,  # noqa: E402
                       scaled, scratch_dir, sha, stderr_text, test)

TOTAL = 6 * 1024 * 1024     # more than the kernel's send and receive buffers hold together
RATE = 280 * 1024           # bytes per second the client reads: below 300 KiB/s
CHUNK = 16 * 1024


def sender(data):
    def h(c, info):
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        while c.recv(4096):
            pass
    return h


def slow_client(port, copy):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive window, so the bytes wait in the proxy's send queue, not in ours.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.settimeout(scaled(30))
    s.connect((LO4, port))
    got = bytearray()
    t0 = time.monotonic()
    while True:
        d = s.recv(CHUNK)
        if not d:
            break
        got += d
        # The traffic pattern under test: a steady RATE, paced on a monotonic schedule.
        ahead = t0 + len(got) / RATE - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    s.close()
    return bytes(got), time.monotonic() - t0


def run_slow_reader(binary, extra):
    data = os.urandom(TOTAL)
    b = Backend(sender(data))
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-t", "2", *extra])
    got, secs = slow_client(port, data)
    check(len(got) == TOTAL, f"received {len(got)} of {TOTAL} bytes in {secs:.1f}s (cut off as idle?)")
    check_eq(sha(got), sha(data), "sha256 of what arrived")
    check(TOTAL / secs <= 300 * 1024, f"read at {TOTAL / secs / 1024:.0f} KiB/s, meant to be at most 300")
    check(poll_until(lambda: "status=" in stderr_text(p), scaled(5)), "end line")
    check("status=TIMEOUT" not in stderr_text(p), "the slow reader's session ended as TIMEOUT")


@test
def slow_reader_keeps_its_session_splice(binary):
    run_slow_reader(binary, [])


@test
def slow_reader_keeps_its_session_copy(binary):
    # A capture turns the relay to plain read/write.
    run_slow_reader(binary, ["-w", os.path.join(scratch_dir("slowcap"), "cap")])


@test
def stalled_reader_still_times_out(binary):
    data = os.urandom(TOTAL)
    b = Backend(sender(data))
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-t", "2"])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.connect((LO4, port))
    t0 = time.monotonic()
    # The client reads nothing: its window closes, nothing drains the proxy's queue.
    check(poll_until(lambda: "status=TIMEOUT" in stderr_text(p), scaled(2 * 2 + 3)),
          f"stalled session not ended as TIMEOUT after {time.monotonic() - t0:.1f}s")
    kind, _, _ = outcome(s, scaled(10))
    check(kind in ("eof", "reset"), f"client connection after the timeout: {kind}")


if __name__ == "__main__":
    main()
