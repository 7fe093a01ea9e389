"""Every line about a session carries its session id, and its start line comes
first (issue 10.6); a handler's stderr is logged at info, tagged with the
session, cleaned of control characters and bounded (issue 11.5)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxytest import (LO4, Backend, adhoc, check, check_eq, connect, dead_port, echo, free_port, main,  # noqa: E402
                       outcome, poll_until, recv_exact, scaled, scratch_dir, stderr_text, test, write_file)


def session_lines(text, sid):
    return [ln for ln in text.splitlines() if f"session={sid} " in ln]


@test
def connect_failure_carries_the_session_id_after_the_start_line(binary):
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{dead_port()}")
    s = connect(LO4, port)
    outcome(s, scaled(10))
    check(poll_until(lambda: "event=end" in stderr_text(p), scaled(5)), "end line")
    text = stderr_text(p)
    m = re.search(r"session=(\d+) event=start", text)
    check(m is not None, f"start line: {text!r}")
    lines = session_lines(text, m.group(1))
    warning = [ln for ln in lines if "connect" in ln and "warning" in ln]
    check(len(warning) == 1, f"one connect warning with the session id: {text!r}")
    check("event=start" in lines[0], f"the start line comes first: {lines!r}")
    check("event=end" in lines[-1], f"the end line comes last: {lines!r}")


@test
def capture_failure_carries_the_session_id(binary):
    b = Backend(echo())
    d = scratch_dir("nocap")
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-w", os.path.join(d, "missing", "cap")])
    s = connect(LO4, port)
    s.sendall(b"x")
    recv_exact(s, 1)
    s.close()
    check(poll_until(lambda: "event=end" in stderr_text(p), scaled(5)), "end line")
    text = stderr_text(p)
    sid = re.search(r"session=(\d+) event=start", text).group(1)
    check(any("capture" in ln and "not captured" in ln for ln in session_lines(text, sid)),
          f"the capture failure with the session id: {text!r}")


@test
def handler_stderr_is_info_cleaned_and_bounded(binary):
    d = scratch_dir("noisy")
    handler = write_file("noisy/handler.sh",
                         "#!/bin/sh\n"
                         "printf 'bad \\033[31mred\\033]0;title\\007 \\302\\233x\\n' >&2\n"
                         "i=0; while [ $i -lt 1500 ]; do echo \"line $i\" >&2; i=$((i+1)); done\n"
                         "echo done\n", mode=0o755)
    port = free_port()
    p = adhoc(binary, port, os.path.join(d, "handler.sh"))
    s = connect(LO4, port)
    kind, data, _ = outcome(s, scaled(20))
    check_eq(data, b"done\n", "handler output")
    check(poll_until(lambda: "event=end" in stderr_text(p), scaled(10)), "end line")
    with open(p.errpath, "rb") as f:
        raw = f.read()
    check(b"\x1b" not in raw and b"\x07" not in raw and b"\xc2\x9b" not in raw,
          "no control character of the handler's reached the log")
    text = raw.decode(errors="replace")
    sid = re.search(r"session=(\d+) event=start", text).group(1)
    said = [ln for ln in session_lines(text, sid) if " handler: " in ln and "event=" not in ln]
    check(len(said) > 0 and all("info: " in ln for ln in said), f"handler stderr at info: {said[:3]!r}")
    check(any("bad ?[31mred" in ln for ln in said), f"the escape sequence cleaned: {said[:2]!r}")
    check(len(said) <= 1002, f"{len(said)} lines of handler stderr logged: not bounded")
    check(any("more lines not shown" in ln for ln in said), "the lines beyond the bound are counted")
    del handler


@test
def exit_handler_stderr_is_info_with_the_session_id(binary):
    d = scratch_dir("exit_noisy")
    sess = os.path.join(d, "sess")
    os.mkdir(sess)
    handler = write_file("exit_noisy/exit.sh", "#!/bin/sh\ncat > /dev/null\necho 'said \033[1mthis' >&2\n", mode=0o755)
    b = Backend(echo())
    port = free_port()
    p = adhoc(binary, port, f"{LO4}:{b.port}", extra=["-E", f"process,{sess},{handler}"])
    s = connect(LO4, port)
    s.sendall(b"x")
    recv_exact(s, 1)
    s.close()
    check(poll_until(lambda: "said" in stderr_text(p), scaled(10)), "the exit handler's stderr logged")
    text = stderr_text(p)
    sid = re.search(r"session=(\d+) event=start", text).group(1)
    said = [ln for ln in session_lines(text, sid) if "said" in ln]
    check(len(said) == 1 and "info: " in said[0] and "\x1b" not in said[0],
          f"exit handler stderr at info, with the session id, cleaned: {text!r}")


if __name__ == "__main__":
    main()
