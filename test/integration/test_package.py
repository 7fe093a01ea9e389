"""The Debian package: cpack builds the .deb from the build tree (into a temporary
directory); its control data and contents are checked; then it is installed for real
with dpkg -i (only as root with CI=true, and only when no tcpproxy package is installed
already), `tcpproxy --version` and `man -w` work, and dpkg --purge leaves none of its
files behind. Elsewhere the package is unpacked with dpkg -x and checked there instead."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (LO4, Backend, check, check_eq, connect, echo, fail, free_port, main, poll_until,  # noqa: E402
                       recv_exact, require_tool, scaled, start, stop, test, wait_listening)
import proxytest  # noqa: E402

proxytest.run_as_invoking_user = False  # no -u: the installed daemon's default user is what is checked

EXPECTED = [
    "usr/sbin/tcpproxy",
    "usr/share/man/man1/tcpproxy.1",
    "usr/share/man/man5/tcpproxy.conf.5",
    "usr/share/doc/tcpproxy/tcpproxy.conf",
    "usr/share/doc/tcpproxy/xinetd.tcpproxy",
    "usr/share/doc/tcpproxy/inetd.conf.tcpproxy",
    "usr/share/doc/tcpproxy/tcpproxy.service",
    "usr/share/doc/tcpproxy/tcpproxy.socket",
    "usr/share/doc/tcpproxy/tcpproxy@.service",
    "usr/lib/sysusers.d/tcpproxy.conf",
]


def run(cmd, **kw):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=scaled(kw.pop("timeout", 300)), **kw)
    return r.returncode, r.stdout.decode(errors="replace")


def must(cmd, what, **kw):
    rc, out = run(cmd, **kw)
    if rc != 0:
        fail(f"{what}: {' '.join(cmd)} exited {rc}: {out[-800:]}")
    return out


def build_deb(binary, into):
    build = os.path.dirname(binary)
    config = os.path.join(build, "CPackConfig.cmake")
    check(os.path.exists(config), f"{config} (CPack configured by the top CMakeLists.txt)")
    must(["cpack", "-G", "DEB", "-B", into, "--config", config], "cpack")
    debs = [f for f in os.listdir(into) if f.endswith(".deb")]
    check_eq(len(debs), 1, f"one .deb in {into}")
    return os.path.join(into, debs[0])


def version_of(binary):
    return must([binary, "--version"], "tcpproxy --version").strip()


@test
def deb_builds_installs_and_purges(binary):
    with tempfile.TemporaryDirectory(prefix="tcpproxy-deb-") as tmp:
        deb = build_deb(binary, tmp)
        fields = must(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends", "Maintainer"],
                      "dpkg-deb -f")
        check("Package: tcpproxy" in fields, f"package name: {fields}")
        want_version = version_of(binary).split()[-1]
        check(f"Version: {want_version}" in fields, f"version {want_version}: {fields}")
        # From dpkg-shlibdeps: the Boost runtime libraries and the C++ runtime.
        for lib in ("libboost-log", "libboost-thread", "libstdc++6", "libc6"):
            check(lib in fields, f"Depends names {lib}: {fields}")
        listing = must(["dpkg-deb", "-c", deb], "dpkg-deb -c")
        for path in EXPECTED:
            check(f"./{path}" in listing, f"{path} in the package")
        postinst = must(["dpkg-deb", "-I", deb, "postinst"], "dpkg-deb -I postinst")
        check("systemd-sysusers" in postinst and "adduser --system" in postinst,
              f"postinst creates the tcpproxy user: {postinst}")

        installed_before, _ = run(["dpkg-query", "-W", "tcpproxy"])
        real = os.geteuid() == 0 and os.environ.get("CI") == "true" and installed_before != 0
        if real:
            install_for_real(deb, want_version)
        else:
            print("  (not root with CI=true, or tcpproxy already installed: checking with dpkg -x instead)")
            unpack_and_check(deb, tmp, want_version)


def uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[2])  # effective
    return -1


def daemon_runs_as(binary, user):
    """The installed daemon, started as root without -u, handles a session as `user`."""
    import pwd
    b = Backend(echo(b"HI\n"))
    port = free_port()
    p = start(binary, ["-d", "-n", "-b", f"{LO4}:{port}", f"{LO4}:{b.port}"])
    wait_listening(LO4, port, p)
    s = connect(LO4, port)
    check_eq(recv_exact(s, 3), b"HI\n", "the installed daemon relays")
    s.close()
    want = pwd.getpwnam(user).pw_uid
    check(poll_until(lambda: uid_of(p.pid) == want, 5), f"the daemon runs as {user} ({want}): uid {uid_of(p.pid)}")
    stop(p)
    b.close()


def install_for_real(deb, want_version):
    rc, _ = run(["getent", "passwd", "tcpproxy"])
    user_before = rc == 0
    must(["dpkg", "-i", deb], "dpkg -i")
    try:
        must(["getent", "passwd", "tcpproxy"], "the package created the tcpproxy user")
        daemon_runs_as("/usr/sbin/tcpproxy", "tcpproxy")
        files = [f for f in must(["dpkg", "-L", "tcpproxy"], "dpkg -L").splitlines() if f.strip()]
        out = version_of("/usr/sbin/tcpproxy")
        check(out.endswith(want_version), f"installed tcpproxy --version: {out!r}")
        page = must(["man", "-w", "tcpproxy"], "man -w tcpproxy").strip()
        check(page.startswith("/usr/share/man/man1/tcpproxy.1"), f"man -w tcpproxy: {page!r}")
        page5 = must(["man", "-w", "5", "tcpproxy.conf"], "man -w 5 tcpproxy.conf").strip()
        check(page5.startswith("/usr/share/man/man5/tcpproxy.conf.5"), f"man -w 5 tcpproxy.conf: {page5!r}")
    finally:
        must(["dpkg", "--purge", "tcpproxy"], "dpkg --purge")
        # A system user stays after purge (Debian practice); the test leaves the machine as it found it.
        if not user_before:
            run(["userdel", "tcpproxy"])
            run(["groupdel", "tcpproxy"])
    rc, _ = run(["dpkg-query", "-W", "tcpproxy"])
    check(rc != 0, "dpkg no longer knows the package")
    # Every file it brought is gone; of its directories only shared ones (/usr/sbin ...) remain.
    left = [f for f in files if os.path.isfile(f) or os.path.islink(f)]
    check_eq(left, [], "files left behind after purge")
    check(not os.path.exists("/usr/share/doc/tcpproxy"), "its doc directory removed")
    rc, out = run(["man", "-w", "tcpproxy"])
    check(rc != 0, f"man page gone: {out!r}")


def unpack_and_check(deb, tmp, want_version):
    root = os.path.join(tmp, "root")
    must(["dpkg", "-x", deb, root], "dpkg -x")
    for path in EXPECTED:
        check(os.path.isfile(os.path.join(root, path)), f"{path} unpacked")
    out = version_of(os.path.join(root, "usr/sbin/tcpproxy"))
    check(out.endswith(want_version), f"unpacked tcpproxy --version: {out!r}")
    page = must(["man", "-M", os.path.join(root, "usr/share/man"), "-w", "tcpproxy"], "man -w").strip()
    check(page.endswith("man1/tcpproxy.1"), f"man -w finds the page: {page!r}")
    # The sysusers.d line creates the user in the unpacked tree (not on this machine).
    if os.geteuid() == 0 and os.path.exists("/usr/bin/systemd-sysusers"):
        os.makedirs(os.path.join(root, "etc"), exist_ok=True)
        must(["systemd-sysusers", f"--root={root}", os.path.join(root, "usr/lib/sysusers.d/tcpproxy.conf")],
             "systemd-sysusers --root")
        with open(os.path.join(root, "etc/passwd")) as f:
            check(any(line.startswith("tcpproxy:") for line in f), "sysusers.d creates the tcpproxy user")


if __name__ == "__main__":
    for tool, package in (("cpack", "cmake"), ("dpkg-deb", "dpkg"), ("dpkg-shlibdeps", "dpkg-dev"), ("file", "file")):
        require_tool(tool, package)
    main()
