#!/usr/bin/env python3
"""`tcpproxy --status -o DIR` and `tcpproxy --decode FILE` against the real binary.

--status reads a directory populated here (valid status files, a malformed
one, a foreign one, a planted FIFO) and must print one aligned row per valid
session and one warning per other file; --decode reads a capture written here
in the documented record format and must restore both directions byte for
byte, and name the byte offset of a truncated record.

A binary that answers either tool with "not implemented" fails the test (both
are part of the specified command line). Run as: test_report_tools.py --tcpproxy
PATH (the proxytest harness).
"""
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import expect, fail, main, scaled, scratch_dir, test  # noqa: E402

TIMEOUT = 20  # seconds (scaled); both tools must finish at once


def check(cond, what):
    return expect(cond, what)


def run(binary, args):
    p = subprocess.run([binary, *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=scaled(TIMEOUT))
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def require_wired(tool, rc, err):
    if rc == 2 and "not implemented" in err:
        fail(f"{tool}: the binary says it is not implemented (exit 2: {err.strip()!r})")


def status_line(logname, pid, started, iface, client, name, server="-", origdst="-"):
    return f"tcpproxy {logname} {pid} {started} {iface} {client} {name} {server} {origdst}\n"


def write(path, data, mode="w"):
    with open(path, mode) as f:
        f.write(data)


@test
def status_lists_sessions_and_warns(binary):
    tmp = scratch_dir("status")
    d = os.path.join(tmp, "stat")
    os.mkdir(d)
    now = int(time.time())
    # A live process that wrote the files itself: --status lists only such (a gone one's are marked).
    me = os.getpid()
    write(os.path.join(d, f"tcpproxy.{me}.1"),
          status_line("tcpproxy", me, now - 125, "127.0.0.1:2525", "127.0.0.2", "client.example",
                      "127.0.0.1:8025"))
    write(os.path.join(d, f"mail.proxy.{me}.17"),
          status_line("mail.proxy", me, now - 5, "[::1]:25", "::1", "::1", "-", "192.0.2.7:25"))
    write(os.path.join(d, f"tcpproxy.{me}.2"), f"tcpproxy tcpproxy {me} not-a-time\n")
    write(os.path.join(d, "notes.txt"), "hello\n")
    os.mkfifo(os.path.join(d, f"tcpproxy.{me}.3"))
    write(os.path.join(d, f".tcpproxy.{me}.4.tmp"), "partial")  # a writer's temporary file: ignored

    rc, out, err = run(binary, ["--status", "-o", d])
    require_wired("--status", rc, err)
    # The age is counted from the binary's clock: a slow start (a loaded
    # machine, a sanitizer build) may cross a second boundary after `now`.
    ages = [f"2m{125 - 120 + k:02d}s" for k in range(int(time.time()) - now + 1)]
    out = out.decode("utf-8", "replace")
    check(rc == 0, f"--status: exit {rc}, expected 0 (stderr {err!r})")
    lines = out.splitlines()
    if not check(len(lines) == 3, f"--status: expected a header and 2 rows, got {out!r}"):
        return
    header, older, newer = lines
    for col in ("CLIENT", "INTERFACE", "SERVER", "STARTED", "AGE", "ORIGDST", "LOGNAME", "PID/SESSION"):
        pos = header.find(col)
        if not check(pos >= 0, f"--status: header {header!r} lacks {col}"):
            continue
        for row in (older, newer):
            check(len(row) > pos and (pos == 0 or row[pos - 1] == " ") and row[pos] != " ",
                  f"--status: column {col} not aligned in {row!r} (header {header!r})")
    check(older.startswith("127.0.0.2 (client.example) "), f"--status: first row is not the older session: {older!r}")
    for text in ("127.0.0.1:2525", "127.0.0.1:8025", "tcpproxy", f"{me}/1"):
        check(text in older, f"--status: {text!r} missing from {older!r}")
    check(any(a in older for a in ages), f"--status: none of the ages {ages} in {older!r}")
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 125))
    check(started in older, f"--status: local start time {started!r} missing from {older!r}")
    check(newer.startswith("::1 "), f"--status: second row {newer!r}")
    for text in ("[::1]:25", "192.0.2.7:25", "mail.proxy", f"{me}/17"):
        check(text in newer, f"--status: {text!r} missing from {newer!r}")
    check(re.search(r" [0-9]s ", newer) is not None, f"--status: age of a 5 s old session missing in {newer!r}")
    warnings = err.splitlines()
    check(len(warnings) == 3, f"--status: expected 3 warnings (malformed, foreign, fifo), got {err!r}")
    for name in (f"tcpproxy.{me}.2", "notes.txt", f"tcpproxy.{me}.3"):
        check(any(name in w for w in warnings), f"--status: no warning about {name}: {err!r}")

    rc, out, err = run(binary, ["--status", "-o", os.path.join(tmp, "missing")])
    check(rc == 1, f"--status on a missing directory: exit {rc}, expected 1")
    check("No such file or directory" in err, f"--status on a missing directory: no errno text in {err!r}")


def record(tag, t, data):
    return f"{tag} {t:.6f} {len(data)}\n".encode() + data + b"\n"


@test
def decode_restores_both_directions(binary):
    tmp = scratch_dir("decode")
    rng = random.Random(5)
    up = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(20)]
    down = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(20)]
    up[0] = b"C2S-hello\n" + up[0]
    blob = b""
    t = 1700000000.0
    for u, s in zip(up, down):
        blob += record("C2S", t, u) + record("S2C", t + 0.000123, s)
        t += 1
    cap = os.path.join(tmp, "traffic.1.1.log")
    write(cap, blob, "wb")
    c_out, s_out = os.path.join(tmp, "client.bin"), os.path.join(tmp, "server.bin")

    rc, out, err = run(binary, ["--decode", cap, "--client-out", c_out, "--server-out", s_out])
    require_wired("--decode", rc, err)
    out = out.decode("utf-8", "replace")
    check(rc == 0, f"--decode: exit {rc}, expected 0 (stderr {err!r})")
    check(os.path.exists(c_out) and open(c_out, "rb").read() == b"".join(up),
          "--decode --client-out: client->server bytes not restored exactly")
    check(os.path.exists(s_out) and open(s_out, "rb").read() == b"".join(down),
          "--decode --server-out: server->client bytes not restored exactly")
    check("00000000  43 32 53 2d 68 65 6c 6c  6f 0a" in out and "|C2S-hello." in out,
          f"--decode: no hexdump -C style dump of the first record in {out[:400]!r}")
    check(out.count("C2S ") >= 20 and out.count("S2C ") >= 20, "--decode: not every record is shown")

    cut = os.path.join(tmp, "cut.1.1.log")
    whole = record("C2S", t, b"complete")
    write(cut, whole + record("S2C", t, b"x" * 100)[:-30], "wb")
    rc, out, err = run(binary, ["--decode", cut])
    check(rc == 1, f"--decode of a truncated file: exit {rc}, expected 1")
    check(b"|complete|" in out, f"--decode of a truncated file: the complete record is not shown: {out[:300]!r}")
    check(f"byte offset {len(whole)}" in err, f"--decode of a truncated file: offset {len(whole)} not named: {err!r}")


if __name__ == "__main__":
    main()
