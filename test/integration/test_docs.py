#!/usr/bin/env python3
"""Documentation checks: the man pages are warning-free troff that document
every option, directive, variable and status of the reference; the full
example in tcpproxy.conf(5) is samples/tcpproxy.conf; the samples are valid
configurations; and samples/local.conf really runs.

    python3 test_docs.py --tcpproxy BINARY          run the checks (proxytest harness)
    python3 test_docs.py --sync-example             copy samples/tcpproxy.conf
                                                    into man/tcpproxy.conf.5
"""

import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (LO4, expect, free_port, main, require_tool, scaled, scratch,  # noqa: E402
                       stop, test, wait_listening, write_file)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE1 = os.path.join(ROOT, "man", "tcpproxy.1")
PAGE5 = os.path.join(ROOT, "man", "tcpproxy.conf.5")
SAMPLE = os.path.join(ROOT, "samples", "tcpproxy.conf")
LOCAL = os.path.join(ROOT, "samples", "local.conf")

# Reference §2, kept here because the reference is not part of the tree.
OPTIONS = ["-a", "-b", "-d", "-e", "-f", "-l", "-n", "-o", "-p", "-pp", "-q", "-r", "-s",
           "-t", "-u", "-v", "-w", "-x", "-A", "-E", "-O", "--check-config", "--status",
           "--decode", "--client-out", "--server-out", "-h", "--help", "-V", "--version", "--metrics"]
# Reference §3.3 and the section directives.
DIRECTIVES = ["standalone", "pidfile", "statdir", "session-dir", "session-mode", "exit-code",
              "exit-handler", "max-sessions", "server", "exec", "acl", "acp", "timeout",
              "redirect-mode", "srcip", "rotate", "user", "writefile", "debug", "extended-info",
              "logname", "name", "setenv", "proxy-protocol", "accept-proxy", "port", "interface",
              "metrics", "metrics-acl"]
# Reference §5.
VARIABLES = ["BINDING", "BYTES_CLIENT", "BYTES_SERVER", "CLIENT", "CLIENTNAME", "DURATION",
             "INTERFACE", "LOGNAME", "NAME", "ORIGDST_SERVER", "ORIGDST_PORT", "PID", "PORT",
             "PROGRAM", "SERVER", "SERVERNAME", "SERVERPORT", "STARTED", "STATUS", "STATUSCODE"]
# Reference §6.
STATUSES = ["OK", "WARNING", "ACCESS", "CONNECT", "TIMEOUT", "SERVER", "CLIENT", "PROXY"]
REDIRECT_MODES = ["none", "accept", "forward", "forward-only", "only"]
STATUS_LINE = ("tcpproxy LOGNAME PID STARTED IFACE_IP:PORT CLIENT_IP CLIENT_NAME "
               "SERVER_IP:PORT ORIGDST")

EXAMPLE_BEGIN = '.\\" BEGIN samples/tcpproxy.conf'
EXAMPLE_END = '.\\" END samples/tcpproxy.conf'

def check(name, problems):
    """Record one check; `problems` is a list of strings (empty = pass). The test it
    belongs to fails (after running its other checks) when any check has problems."""
    expect(not problems, f"{name}: " + "; ".join(problems))


def render(page):
    """The page as plain text, the way a reader sees it."""
    out = subprocess.run(["groff", "-man", "-Tascii", "-P-cbou", page],
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, LC_ALL="C"))
    return out.stdout


def section(text, title):
    """The rendered text of one .SH section (up to the next heading)."""
    m = re.search(rf"^{re.escape(title)}\n(.*?)(?=^[A-Z][A-Z .]+\n|\Z)", text, re.M | re.S)
    return m.group(1) if m else ""


def tags(text):
    """The words that start a tagged paragraph (.TP) in rendered text:
    lines indented by exactly 7 columns, split at commas."""
    found = set()
    for line in text.splitlines():
        m = re.match(r"^ {7}(\S.*)$", line)
        if m:
            for part in m.group(1).split(","):
                words = part.split()
                if words:
                    found.add(words[0])
    return found


# ---------------------------------------------------------------------------
# the pages


@test
def check_groff_warnings(binary):
    for page in (PAGE1, PAGE5):
        name = os.path.relpath(page, ROOT)
        try:
            out = subprocess.run(["groff", "-man", "-ww", "-z", page],
                                 capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
        except FileNotFoundError:
            check(f"groff -man -ww -z {name}", ["groff is not installed (Debian package groff-base)"])
            continue
        problems = []
        if out.returncode != 0:
            problems.append(f"exit status {out.returncode}")
        if (out.stdout + out.stderr).strip():
            problems.append("output: " + (out.stdout + out.stderr).strip().replace("\n", " | ")[:400])
        check(f"groff -man -ww -z {name}", problems)


@test
def check_page1(binary):
    text = render(PAGE1)
    options = tags(section(text, "OPTIONS"))
    check("tcpproxy.1 documents every option of reference section 2",
          [f"no OPTIONS entry for {o}" for o in OPTIONS if o not in options])
    handlers = tags(section(text, "REQUEST HANDLERS"))
    check("tcpproxy.1 documents every variable of reference section 5",
          [f"no entry for {v}" for v in VARIABLES if v not in handlers])
    statuses = section(text, "EXIT STATUS")
    check("tcpproxy.1 documents every status of reference section 6 with its number",
          [f"no '{s} ({n})'" for n, s in enumerate(STATUSES) if f"{s} ({n})" not in statuses])
    signals = tags(section(text, "SIGNALS"))
    problems = [f"no entry for {s}" for s in ("SIGTERM", "SIGINT", "SIGHUP") if s not in signals]
    if "kill -HUP $(cat /var/run/tcpproxy.pid)" not in section(text, "SIGNALS"):
        problems.append("reload is not shown as kill -HUP of the pidfile's process")
    check("tcpproxy.1 documents the signals and how to reload", problems)
    problems = [f"no {s} section" for s in ("SYNOPSIS", "MODES", "SECURITY", "FILES", "EXAMPLES")
                if not section(text, s)]
    examples = section(text, "EXAMPLES")
    for needle in ("nowait", "server_args", "ExecReload", "Accept=yes"):
        if needle not in examples:
            problems.append(f"EXAMPLES lacks {needle!r}")
    # Examples use documentation addresses (RFC 5737, RFC 3849) and names only.
    for addr in re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", examples):
        if not addr.startswith(("192.0.2.", "198.51.100.", "203.0.113.", "127.")):
            problems.append(f"EXAMPLES uses a real address {addr}")
    check("tcpproxy.1 has its sections and corrected examples", problems)


@test
def check_page5(binary):
    text = render(PAGE5)
    documented = set()
    for title in ("GLOBAL DIRECTIVES", "SERVICE DIRECTIVES", "SECTION DIRECTIVES"):
        documented |= tags(section(text, title))
    check("tcpproxy.conf.5 documents every directive of reference section 3.3",
          [f"no entry for {d}" for d in DIRECTIVES if d not in documented])
    modes = tags(section(text, "REDIRECTED CONNECTIONS"))
    check("tcpproxy.conf.5 documents every redirect mode",
          [f"no entry for {m}" for m in REDIRECT_MODES if m not in modes])
    problems = []
    if STATUS_LINE not in section(text, "STATUS FILES"):
        problems.append("the status line format is missing")
    capture = section(text, "TRAFFIC CAPTURE")
    for needle in ("C2S", "S2C", "SECONDS.MICROSECONDS", "LENGTH"):
        if needle not in capture:
            problems.append(f"TRAFFIC CAPTURE lacks {needle}")
    diagnostics = section(text, "DIAGNOSTICS")
    if not re.search(r"^\s+\S+:\d+:\d+: error: ", diagnostics, re.M):
        problems.append("DIAGNOSTICS has no FILE:LINE:COLUMN: error: example")
    for title in ("LEXICAL RULES", "STRUCTURE", "ACCESS CONTROL", "SESSION HANDLING", "EXAMPLE"):
        if not section(text, title):
            problems.append(f"no {title} section")
    check("tcpproxy.conf.5 documents files, formats and diagnostics", problems)


# ---------------------------------------------------------------------------
# the full example is the sample


def troff_escape(line):
    line = line.replace("\\", "\\e").replace("-", "\\-").replace("'", "\\(aq").replace("`", "\\(ga")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def example_block(page_text):
    """Offsets of the text between the line holding the BEGIN marker and the
    line starting with the END marker."""
    start = page_text.index("\n", page_text.index(EXAMPLE_BEGIN)) + 1
    end = page_text.index(EXAMPLE_END, start)
    return start, end


def sample_as_troff():
    with open(SAMPLE, encoding="utf-8") as f:
        return "".join(troff_escape(line.rstrip("\n")) + "\n" for line in f)


def sync_example():
    with open(PAGE5, encoding="utf-8") as f:
        page = f.read()
    start, end = example_block(page)
    with open(PAGE5, "w", encoding="utf-8") as f:
        f.write(page[:start] + sample_as_troff() + page[end:])


@test
def check_example_is_sample(binary):
    with open(PAGE5, encoding="utf-8") as f:
        page = f.read()
    try:
        start, end = example_block(page)
    except ValueError:
        check("tcpproxy.conf.5 EXAMPLE is samples/tcpproxy.conf", ["example markers missing"])
        return
    problems = []
    if page[start:end] != sample_as_troff():
        problems.append("they differ: run test/integration/test_docs.py --sync-example")
    check("tcpproxy.conf.5 EXAMPLE is samples/tcpproxy.conf", problems)


# ---------------------------------------------------------------------------
# the samples against the binary


@test
def check_samples_valid(binary):
    for sample in (SAMPLE, LOCAL):
        name = os.path.relpath(sample, ROOT)
        out = subprocess.run([binary, "--check-config", "-f", sample],
                             capture_output=True, text=True, timeout=scaled(30))
        problems = []
        if out.returncode != 0:
            problems.append(f"exit status {out.returncode}: {(out.stdout + out.stderr).strip()[:400]}")
        if re.search(r":\d+:\d+: (error|warning):", out.stdout + out.stderr):
            problems.append("diagnostics: " + (out.stdout + out.stderr).strip()[:400])
        check(f"tcpproxy --check-config -f {name} exits 0 without diagnostics", problems)


def exchange(port, data=b"", deadline=10.0):
    with socket.create_connection((LO4, port), timeout=scaled(deadline)) as s:
        if data:
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


@test
def check_local_sample_runs(binary):
    """samples/local.conf on free ports: the proxied date, the direct date and
    the echo service all answer."""
    name = "samples/local.conf runs: date through the proxy, date, echo"
    with open(LOCAL, encoding="utf-8") as f:
        text = f.read()
    fixed = [int(p) for p in re.findall(r"^port (\d+)$", text, re.M)]
    if sorted(fixed) != [8007, 8013, 8025]:
        check(name, [f"expected ports 8007, 8013, 8025 in the sample, found {fixed}"])
        return
    mapping = {old: free_port() for old in fixed}
    for old, new in mapping.items():
        text = re.sub(rf"\b{old}\b", str(new), text)
    problems = []
    conf = write_file("local.conf", text)
    # As a user runs the sample: no -u added (proxytest.start would add one as root).
    errpath = scratch("local.stderr")
    with open(errpath, "wb") as log:
        proc = subprocess.Popen([binary, "-d", "-f", conf], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, close_fds=True)
    proc.errpath = errpath
    proxytest._procs.append(proc)  # killed by the runner whatever happens
    for port in mapping.values():
        wait_listening(LO4, port, proc)  # a port taken by someone else: the runner retries
    try:
        year = time.strftime("%Y").encode()
        for label, port in (("through the proxy", mapping[8025]), ("directly", mapping[8013])):
            got = exchange(port)
            if year not in got or not got.endswith(b"\n"):
                problems.append(f"date {label}: got {got[:80]!r}")
        got = exchange(mapping[8007], b"ping\x00\xffpong\n")
        if got != b"ping\x00\xffpong\n":
            problems.append(f"echo: got {got[:80]!r}")
    except OSError as e:
        problems.append(f"{e}")
    stop(proc)
    if problems:
        problems.append("its output: " + proxytest.stderr_text(proc).strip()[-400:])
    check(name, problems)



if __name__ == "__main__":
    if "--sync-example" in sys.argv[1:]:
        sync_example()
        sys.exit(0)
    require_tool("groff", "groff-base")
    main()
