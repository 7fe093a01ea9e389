"""Configuration ownership (issue 11.2, tcpproxy(1) SECURITY), as sshd's StrictModes: started as
root, tcpproxy refuses a configuration file, or a directory above it, that a user other than root
can write, at start, from --check-config and on reload (SIGHUP), naming the file. A sticky
directory (/tmp) above a root-owned file is fine. Needs root: skipped otherwise."""

import os
import pwd
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxytest  # noqa: E402
from proxytest import (LO4, check, check_eq, configmode, connect, free_port, is_listening, main, outcome,  # noqa: E402
                       poll_until, scaled, scratch_dir, skip_all, start, stderr_text, test)

if os.geteuid() != 0:
    if proxytest.IN_CI:
        print("FAIL test_config_ownership.py: needs root, and CI=true", flush=True)
        sys.exit(1)
    skip_all("needs root (the check applies only to a daemon started as root)")

proxytest.run_as_invoking_user = False  # no -u: --check-config refuses it
NOBODY = pwd.getpwnam("nobody").pw_uid


def conf_text(port):
    return f"port {port}\n  exec /usr/bin/printf ok\n"


def config_in(dirname, name, port):
    """A fresh scratch directory and a root-owned 0644 configuration file in it."""
    d = scratch_dir(dirname)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(conf_text(port))
    os.chmod(path, 0o644)
    return d, path


def refused(binary, path, why):
    """--check-config and a start both refuse `path`, naming the culprit `why`."""
    for args in (["--check-config", "-f", path], ["-d", "-s", "-f", path]):
        p = start(binary, args)
        code = p.wait(scaled(10))
        check(code != 0, f"{args[0]} on {path} exited 0")
        text = stderr_text(p)
        check("refused, started as root" in text and why in text, f"{args[0]}: message names {why}: {text}")


@test
def a_file_another_user_owns_or_may_write_is_refused(binary):
    port = free_port()
    d, path = config_in("own-file", "nobody.conf", port)
    os.chown(path, NOBODY, -1)
    os.chmod(path, 0o644)
    refused(binary, path, f"{path} is owned by uid {NOBODY}, not root")
    os.chown(path, 0, -1)
    for mode, who in ((0o664, "its group"), (0o646, "others")):
        os.chmod(path, mode)
        refused(binary, path, f"{path} is writable by {who}")
    os.chmod(path, 0o644)
    p = start(binary, ["--check-config", "-f", path])
    check_eq(p.wait(scaled(10)), 0, f"root-owned 0644 file accepted: {stderr_text(p)}")


@test
def a_directory_above_it_another_user_may_write_is_refused(binary):
    port = free_port()
    d, path = config_in("own-dir", "x.conf", port)
    os.chmod(path, 0o644)
    os.chown(d, NOBODY, -1)
    refused(binary, path, f"{d} is owned by uid {NOBODY}, not root")
    os.chown(d, 0, -1)
    os.chmod(d, 0o777)
    refused(binary, path, f"{d} is writable by others")
    os.chmod(d, 0o1777)  # sticky, like /tmp: nobody can replace root's file
    p = start(binary, ["--check-config", "-f", path])
    check_eq(p.wait(scaled(10)), 0, f"root file in a sticky directory accepted: {stderr_text(p)}")
    os.chmod(d, 0o755)
    # A symbolic link in a directory another user can write: that user can point it elsewhere.
    linkdir = scratch_dir("own-link", 0o777)
    link = os.path.join(linkdir, "link.conf")
    os.symlink(path, link)
    refused(binary, link, f"{linkdir} is writable by others")


@test
def a_reload_of_a_file_another_user_took_over_is_refused(binary):
    port, new_port = free_port(), free_port()
    p = configmode(binary, conf_text(port), [(LO4, port)])
    with open(p.conf, "a") as f:
        f.write(f"port {new_port}\n  user root\n  exec /usr/bin/id -u\n")
    os.chown(p.conf, NOBODY, -1)
    p.send_signal(signal.SIGHUP)
    check(poll_until(lambda: "keeping the running configuration" in stderr_text(p), 10),
          f"reload refused: {stderr_text(p)[-1500:]}")
    text = stderr_text(p)
    check(f"{p.conf} is owned by uid {NOBODY}, not root" in text, f"the message names the file: {text[-1500:]}")
    check(not is_listening(LO4, new_port), "the port the other user added is not served")
    s = connect(LO4, port)
    _, data, _ = outcome(s)
    check_eq(data, b"ok", "the running configuration still serves")


if __name__ == "__main__":
    main()
