"""The metrics listener: `metrics ADDRESS:PORT` / --metrics serve GET /metrics in the
Prometheus text format from a thread of their own; a real Prometheus server (Debian's
`prometheus`) scrapes it and its HTTP API reports what the test sent; the ACL allows
loopback only unless metrics-acl says otherwise; counters never go backwards across a
reload."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (Backend, LO4, LO6, adhoc, check, check_eq, configmode, connect, echo,  # noqa: E402
                       free_port, missing_tool, poll_until, recv_exact, scaled, scratch_dir, skip, stop, test,
                       wait_listening, write_file, main)


def get(host, port, path="/metrics", timeout=5.0):
    """(status, headers, body) of one HTTP GET, or None when the connection was closed without an answer."""
    s = socket.create_connection((host, port), timeout=scaled(timeout))
    try:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return status, headers, body.decode()


def answers(host, port):
    """Whether the metrics listener answers yet (for start-up; refused meanwhile)."""
    try:
        return get(host, port) is not None
    except OSError:
        return False


def samples(text):
    """{'name{labels}': value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def total(text, name, **labels):
    """The sum of a family's samples whose labels include `labels`."""
    n = 0.0
    for key, value in samples(text).items():
        if key == name or key.startswith(name + "{"):
            if all(f'{k}="{v}"' in key for k, v in labels.items()):
                n += value
    return n


def push(port, sessions, size):
    """`sessions` sessions through an echo server, each sending and getting back `size` bytes."""
    payload = os.urandom(size)
    for _ in range(sessions):
        c = connect(LO4, port)
        c.sendall(payload)
        check_eq(recv_exact(c, size), payload, "echo")
        c.close()


@test
def exposition_over_http(binary):
    b = Backend(echo())
    port, mport = free_port(), free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["--metrics", f"{LO4}:{mport}"])
    wait_listening(LO4, mport, p)
    push(port, 3, 1000)
    text = poll_until(lambda: (lambda r: r and total(r[2], "tcpproxy_sessions_total") == 3 and r[2])(
        get(LO4, mport)), 10)
    check(text, "tcpproxy_sessions_total reached 3")
    status, headers, body = get(LO4, mport)
    check_eq(status, 200, "status")
    check_eq(headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8", "Content-Type")
    check_eq(total(body, "tcpproxy_sessions_total", status="ok", port=port), 3, "sessions ok on the port")
    check_eq(total(body, "tcpproxy_bytes_total", direction="client_to_server"), 3000, "bytes from the client")
    check_eq(total(body, "tcpproxy_bytes_total", direction="server_to_client"), 3000, "bytes from the server")
    check_eq(total(body, "tcpproxy_upstream_connects_total", server=f"{LO4}:{b.port}"), 3, "upstream connects")
    check_eq(total(body, "tcpproxy_sessions_active"), 0, "active sessions")
    check("# TYPE tcpproxy_sessions_total counter" in body, "TYPE line")
    check_eq(get(LO4, mport, "/")[0], 404, "another path")
    stop(p)


@test
def ipv6_listener(binary):
    if not socket.has_ipv6:
        skip("no IPv6")
    b = Backend(echo())
    port, mport = free_port(), free_port(LO6)
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["--metrics", f"[{LO6}]:{mport}"])
    wait_listening(LO6, mport, p)
    r = get(LO6, mport)
    check(r and r[0] == 200 and "tcpproxy_build_info" in r[2], f"answer on [::1]: {r!r}")
    stop(p)


def outside_address():
    """A local IPv4 address that is not loopback (from `ip -o -4 addr`), or None."""
    try:
        out = subprocess.run(["ip", "-o", "-4", "addr", "show", "scope", "global"], capture_output=True,
                             text=True, timeout=scaled(10)).stdout
    except OSError:
        return None
    for line in out.splitlines():
        words = line.split()
        if "inet" in words:
            return words[words.index("inet") + 1].split("/")[0]
    return None


@test
def loopback_only_unless_metrics_acl_says_otherwise(binary):
    outside = outside_address()
    if not outside:
        skip("no non-loopback IPv4 address on this machine")
    b = Backend(echo())
    port, mport = free_port(), free_port()
    conf = f"metrics *:{mport}\nport {port}\n    interface {LO4}\n    server {LO4}:{b.port}\n"
    p = configmode(binary, conf, [(LO4, port)])
    check(poll_until(lambda: answers(LO4, mport), 10), "the metrics listener answers")
    check_eq(get(LO4, mport)[0], 200, "loopback client")
    check_eq(get(outside, mport), None, f"client {outside} (not loopback) closed without an answer")
    write_file(os.path.basename(p.conf), conf.replace("metrics *", f"metrics-acl {outside}/32\nmetrics *"))
    os.kill(p.pid, signal.SIGHUP)
    r = poll_until(lambda: get(outside, mport), 10)
    check(r and r[0] == 200, f"metrics-acl {outside}/32 lets it in: {r!r}")
    check_eq(get(LO4, mport), None, "metrics-acl replaces the loopback default")
    stop(p)


@test
def counters_do_not_go_backwards_across_a_reload(binary):
    b = Backend(echo())
    port, mport = free_port(), free_port()
    conf = f"metrics {LO4}:{mport}\nport {port}\n    interface {LO4}\n    server {LO4}:{b.port}\n"
    p = configmode(binary, conf, [(LO4, port)])
    check(poll_until(lambda: answers(LO4, mport), 10), "the metrics listener answers")
    push(port, 2, 10)
    check(poll_until(lambda: total(get(LO4, mport)[2], "tcpproxy_sessions_total") == 2, 10), "2 sessions counted")
    os.kill(p.pid, signal.SIGHUP)
    check(poll_until(lambda: total(get(LO4, mport)[2], "tcpproxy_reloads_total", result="ok") == 1, 10),
          "the reload is counted")
    body = get(LO4, mport)[2]
    check_eq(total(body, "tcpproxy_sessions_total"), 2, "sessions after the reload")
    check_eq(total(body, "tcpproxy_bytes_total"), 40, "bytes after the reload")
    push(port, 1, 10)
    check(poll_until(lambda: total(get(LO4, mport)[2], "tcpproxy_sessions_total") == 3, 10), "and they go on")
    stop(p)


def prometheus_binary():
    found = shutil.which("prometheus")
    if not found:
        missing_tool("`prometheus`", "prometheus")
    return found


def query(port, expr):
    url = f"http://{LO4}:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=scaled(5)) as r:
            doc = json.load(r)
    except OSError:
        return None
    result = doc.get("data", {}).get("result", [])
    return float(result[0]["value"][1]) if result else None


@test
def a_real_prometheus_scrapes_what_was_sent(binary):
    prom = prometheus_binary()
    b = Backend(echo())
    port, mport, pport = free_port(), free_port(), free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["--metrics", f"{LO4}:{mport}"])
    check(poll_until(lambda: answers(LO4, mport), 10), "the metrics listener answers")
    sessions, size = 7, 12345
    push(port, sessions, size)
    check(poll_until(lambda: total(get(LO4, mport)[2], "tcpproxy_sessions_total") == sessions, 10),
          "the reaper counted every session")
    d = scratch_dir("prometheus")
    cfg = write_file("prometheus.yml",
                     "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                     "scrape_configs:\n  - job_name: tcpproxy\n"
                     f"    static_configs:\n      - targets: ['{LO4}:{mport}']\n")
    prom_p = subprocess.Popen([prom, f"--config.file={cfg}", f"--storage.tsdb.path={d}",
                               f"--web.listen-address={LO4}:{pport}", "--log.level=warn"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=d)
    proxytest._procs.append(prom_p)
    wait_listening(LO4, pport, prom_p)
    got = poll_until(lambda: query(pport, 'sum(tcpproxy_sessions_total{job="tcpproxy"})') == sessions, 60)
    check(got, f"Prometheus reports {sessions} sessions: {query(pport, 'sum(tcpproxy_sessions_total)')}")
    check_eq(query(pport, f'tcpproxy_sessions_total{{status="ok",port="{port}"}}'), sessions, "sessions ok")
    check_eq(query(pport, 'sum(tcpproxy_bytes_total{direction="client_to_server"})'), sessions * size,
             "bytes from the client")
    check_eq(query(pport, 'sum(tcpproxy_bytes_total{direction="server_to_client"})'), sessions * size,
             "bytes from the server")
    check_eq(query(pport, 'up{job="tcpproxy"}'), 1, "the target is up")
    prom_p.terminate()
    prom_p.wait(scaled(30))
    stop(p)


if __name__ == "__main__":
    main()
