"""Redirected connections (reference §4.4) for real: in a network namespace of its own with an
nftables REDIRECT rule, checks accept, forward, forward-only, the loop guard, the ORIGDST
variables and status-file field, for IPv4 and IPv6. Needs root, `ip` (iproute2) and `nft`
(nftables): skipped with a message otherwise. The namespace is deleted whatever happens."""

import ctypes
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (Backend, LO4, adhoc, check, check_eq, configmode, connect, fail, free_port, main,  # noqa: E402
                       outcome, poll_until, recv_exact, scaled, scratch, stderr_text, test, write_file)

NS = f"tcpproxy-it-{os.getpid()}"
CLIENT4, ORIG4 = "127.0.0.9", "127.0.0.5"     # redirected client source / its original destination
CLIENT6, ORIG6 = "fd00::9", "fd00::5"
CLONE_NEWNET = 0x40000000
state = {}


def sh(*args):
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(args)}: {r.stderr.strip()}")


def enter_namespace():
    sh("ip", "netns", "add", NS)
    fd = os.open(f"/run/netns/{NS}", os.O_RDONLY)
    try:
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
            fail(f"setns: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
    # From here on this thread, the threads it starts and every child live in the namespace.
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "addr", "add", f"{ORIG6}/128", "dev", "lo", "nodad")
    sh("ip", "addr", "add", f"{CLIENT6}/128", "dev", "lo", "nodad")


def backend(host, reply):
    def h(c, info):
        c.recv(1)  # the session stays open until the client speaks: time to look at the status file
        c.sendall(reply)
    return Backend(h, host=host)


def setup():
    if "proxy_port" in state:
        return
    enter_namespace()
    state["conf_backend"] = backend(LO4, b"CONFIGURED\n")
    state["orig4"] = backend(ORIG4, b"ORIGINAL4\n")
    state["orig6"] = backend(ORIG6, b"ORIGINAL6\n")
    state["proxy_port"] = free_port()
    state["other_port"] = free_port()  # a second port of the proxy: redirecting to it would loop
    rules = f"""table inet tcpproxy_it {{
  chain out {{
    type nat hook output priority -100;
    ip saddr {CLIENT4} tcp dport {{ {state['orig4'].port}, {state['other_port']} }} redirect to :{state['proxy_port']}
    ip6 saddr {CLIENT6} tcp dport {state['orig6'].port} redirect to :{state['proxy_port']}
  }}
}}
"""
    rf = write_file("redirect.nft", rules)
    sh("nft", "-f", rf)


def start_proxy(binary, mode, exec_handler=None):
    setup()
    statdir = scratch(f"stat-{mode}")
    os.makedirs(statdir, exist_ok=True)
    os.chmod(statdir, 0o777)  # the daemon writes status files as nobody
    target = exec_handler or f"{LO4}:{state['conf_backend'].port}"
    conf = f"""statdir {statdir}
port {state['proxy_port']}
  redirect-mode {mode}
  {'exec' if exec_handler else 'server'} {target}
port {state['other_port']}
  server {LO4}:{state['conf_backend'].port}
"""
    p = configmode(binary, conf, [(LO4, state["proxy_port"]), (LO4, state["other_port"])])
    return p, statdir


def session(host, port, src, statdir=None):
    """Connects (from src) and returns (reply, status line seen while the session ran)."""
    s = connect(host, port, src=src)
    line = None
    if statdir:
        def status():
            # This session's file: an earlier session's may not be removed yet.
            for n in os.listdir(statdir):
                try:
                    with open(os.path.join(statdir, n)) as f:
                        line = f.read().strip()
                except OSError:
                    continue
                fields = line.split()
                if len(fields) == 9 and fields[5] == src and fields[4].endswith(f":{state['proxy_port']}"):
                    return line
        line = poll_until(status, 5)
    try:
        s.sendall(b"x")
    except OSError:
        pass
    _, data, _ = outcome(s, scaled(5))
    s.close()
    return data, line


def orig4():
    return f"{ORIG4}:{state['orig4'].port}"


@test
def accept_mode_sets_origdst_and_uses_the_configured_server(binary):
    p, statdir = start_proxy(binary, "accept")
    data, line = session(ORIG4, state["orig4"].port, CLIENT4, statdir)
    check_eq(data, b"CONFIGURED\n", "accept connects to the configured server")
    check(line and line.split()[-1] == orig4(), f"status file ORIGDST field: {line!r}")
    check(f"original destination {orig4()}" in stderr_text(p), "the original destination is logged")
    data, line = session(LO4, state["proxy_port"], LO4, statdir)
    check_eq(data, b"CONFIGURED\n", "an unredirected connection is served")
    check(line and line.split()[-1] == "-", f"no ORIGDST for a direct connection: {line!r}")


@test
def forward_mode_connects_to_the_original_destination(binary):
    start_proxy(binary, "forward")
    data, _ = session(ORIG4, state["orig4"].port, CLIENT4)
    check_eq(data, b"ORIGINAL4\n", "forward (IPv4) reaches the original destination")
    data, _ = session(ORIG6, state["orig6"].port, CLIENT6)
    check_eq(data, b"ORIGINAL6\n", "forward (IPv6, IP6T_SO_ORIGINAL_DST) reaches the original destination")
    data, _ = session(LO4, state["proxy_port"], LO4)
    check_eq(data, b"CONFIGURED\n", "forward: an unredirected connection goes to the configured server")


@test
def forward_only_drops_unredirected(binary):
    p, _ = start_proxy(binary, "only")
    data, _ = session(ORIG4, state["orig4"].port, CLIENT4)
    check_eq(data, b"ORIGINAL4\n", "forward-only forwards a redirected connection")
    data, _ = session(LO4, state["proxy_port"], LO4)
    check_eq(data, b"", "forward-only drops an unredirected connection")
    check(poll_until(lambda: "status=ACCESS" in stderr_text(p), 5), "as ACCESS")


@test
def redirect_to_ourselves_is_refused(binary):
    p, _ = start_proxy(binary, "forward")
    data, _ = session(LO4, state["other_port"], CLIENT4)
    check_eq(data, b"", "a connection whose original destination is our own port is refused")
    check(poll_until(lambda: "is this proxy itself" in stderr_text(p), 5), f"logged: {stderr_text(p)[-300:]}")
    check("status=ACCESS" in stderr_text(p), "as ACCESS")


@test
def exec_handler_gets_origdst_variables(binary):
    h = write_file("origdst.sh", '#!/bin/sh\necho "$PROXY_ORIGDST_SERVER $PROXY_ORIGDST_PORT"\n', 0o755)
    start_proxy(binary, "forward", exec_handler=h)  # forward on an exec service acts as accept
    data, _ = session(ORIG4, state["orig4"].port, CLIENT4)
    check_eq(data, f"{ORIG4} {state['orig4'].port}\n".encode(), "ORIGDST variables (IPv4)")
    data, _ = session(ORIG6, state["orig6"].port, CLIENT6)
    check_eq(data, f"{ORIG6} {state['orig6'].port}\n".encode(), "ORIGDST variables (IPv6)")


if __name__ == "__main__":
    proxytest.require_root("network namespace, nftables")
    proxytest.require_tool("ip", "iproute2")
    proxytest.require_tool("nft", "nftables")
    try:
        main()
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
