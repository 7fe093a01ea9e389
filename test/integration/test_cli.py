#!/usr/bin/env python3
"""Command-line errors, --help and --version against the real binary.

Every usage error must exit 2 with exactly two lines on stderr: one saying what
is wrong (starting "tcpproxy: ") and the usage line; nothing may be left
listening. Run as: test_cli.py --tcpproxy PATH (the proxytest harness)
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import LO4, expect, free_port, is_listening, main, scaled, test  # noqa: E402

TIMEOUT = 10  # seconds (scaled) for a command that should exit at once


def run(binary, args):
    p = subprocess.run([binary, *args], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=scaled(TIMEOUT))
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    expect(cond, what)


def listening(port):
    return is_listening(LO4, port)


def usage_error(binary, args, message):
    """Exit 2; stderr = the message (exact, or a prefix when it ends in '...') + the usage line."""
    rc, out, err = run(binary, args)
    cmd = "tcpproxy " + " ".join(args)
    check(rc == 2, f"`{cmd}`: exit status {rc}, expected 2 (stderr {err!r})")
    lines = err.splitlines()
    check(len(lines) == 2, f"`{cmd}`: expected 2 lines on stderr, got {err!r}")
    if lines:
        if message.endswith("..."):
            check(lines[0].startswith(message[:-3]), f"`{cmd}`: message {lines[0]!r}, expected {message!r}")
        else:
            check(lines[0] == message, f"`{cmd}`: message {lines[0]!r}, expected {message!r}")
    check(len(lines) == 2 and lines[1].startswith("usage: tcpproxy"), f"`{cmd}`: no usage line: {err!r}")
    check(out == "", f"`{cmd}`: wrote to stdout: {out!r}")


@test
def usage_errors(binary):
    usage_error(binary, ["-Z"], "tcpproxy: unknown option -Z")
    usage_error(binary, ["-dnZ"], "tcpproxy: unknown option -Z")
    usage_error(binary, ["--no-such-option"], "tcpproxy: unknown option --no-such-option")
    usage_error(binary, ["-d", "-n", "-t"], "tcpproxy: option -t needs an argument (SECONDS)")
    usage_error(binary, ["-d", "-n", "-b"], "tcpproxy: option -b needs an argument ([IFACE:]PORT)")
    usage_error(binary, ["-pp"], "tcpproxy: option -p needs an argument (FILE)")
    usage_error(binary, ["--decode"], "tcpproxy: option --decode needs an argument (FILE)")
    usage_error(binary, ["-r", "sideways"], "tcpproxy: option -r: \"sideways\" is not a redirect mode...")
    usage_error(binary, ["-A", "10.1/16"], "tcpproxy: option -A: ACL item \"10.1/16\": ...")
    usage_error(binary, ["-E", "process,/tmp"],
                "tcpproxy: option -E: mode process needs a HANDLER (process,DIR,HANDLER)")
    usage_error(binary, ["-q", "nowhere"], "tcpproxy: option -q: \"nowhere\" is not an IPv4 or IPv6 address")
    usage_error(binary, ["--check-config", "127.0.0.1:25"],
                "tcpproxy: --check-config takes no SERVER, got \"127.0.0.1:25\"")
    usage_error(binary, ["--check-config", "--status"],
                "tcpproxy: --check-config and --status cannot be used together")
    usage_error(binary, ["--client-out", "/tmp/x"], "tcpproxy: option --client-out needs --decode FILE")
    usage_error(binary, ["--help=1"], "tcpproxy: option --help takes no argument")
    # SERVER with stdin not a socket and no -b (stdin is /dev/null here).
    usage_error(binary, ["-d", "-n", "127.0.0.1:25"], "tcpproxy: ...")



@test
def listening_side_errors_bind_nothing(binary):
    # Errors about the listening side: exit 2 and nothing bound.
    port = free_port()
    usage_error(binary, ["-d", "-n", "-t", "abc", "-b", f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"],
                "tcpproxy: option -t: \"abc\" is not a number of seconds")
    check(not listening(port), f"port {port} listening after -t abc")
    usage_error(binary, ["-d", "-n", "-t", "31536001", "-b", f"127.0.0.1:{port}", "127.0.0.1:25"],
                "tcpproxy: option -t: 31536001 seconds is out of range (0-31536000)")
    usage_error(binary, ["-d", "-n", "-b", "127.0.0.1:no-such-service-xyz", "127.0.0.1:25"],
                "tcpproxy: option -b: \"no-such-service-xyz\" is neither a port number nor a known TCP service")
    usage_error(binary, ["-d", "-n", "-b", f"127.0.0.1:{port}"], "tcpproxy: option -b needs a SERVER to forward to")
    check(not listening(port), f"port {port} listening after -b without SERVER")
    usage_error(binary, ["-d", "-n", "-u", "no-such-user-xyz", "-b", f"127.0.0.1:{port}", "127.0.0.1:25"],
                "tcpproxy: option -u: unknown user \"no-such-user-xyz\"")
    check(not listening(port), f"port {port} listening after -u with an unknown user")
    usage_error(binary, ["-b", f"127.0.0.1:{port}", "127.0.0.1:25", "-d"],
                "tcpproxy: unexpected argument \"-d\" after SERVER \"127.0.0.1:25\"...")


@test
def help_and_version(binary):
    for opt in ("-h", "--help", "-dh"):
        rc, out, err = run(binary, [opt])
        check(rc == 0, f"`tcpproxy {opt}`: exit status {rc}, expected 0")
        check(out.startswith("usage: tcpproxy"), f"`tcpproxy {opt}`: help does not start with usage: {out[:80]!r}")
        check("-E MODE,DIR,HANDLER" in out and "--check-config" in out, f"`tcpproxy {opt}`: options missing")
        check(err == "", f"`tcpproxy {opt}`: wrote to stderr: {err!r}")
    for opt in ("-V", "--version"):
        rc, out, err = run(binary, [opt])
        check(rc == 0, f"`tcpproxy {opt}`: exit status {rc}, expected 0")
        words = out.split()
        check(len(words) == 2 and words[0] == "tcpproxy" and words[1][:1].isdigit(),
              f"`tcpproxy {opt}`: expected 'tcpproxy VERSION', got {out!r}")


if __name__ == "__main__":
    main()
