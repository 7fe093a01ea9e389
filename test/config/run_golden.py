#!/usr/bin/env python3
"""Golden diagnostics test: for every NAME.conf in DIR, run
`BINARY --check-config -f NAME.conf` (from DIR, so FILE in diagnostics is
NAME.conf as given) and compare its stderr with NAME.expect exactly. The
expected exit status is 1 when NAME.expect holds an error, else 0 (and then
stdout must be the one-line summary for NAME.conf).

usage: run_golden.py BINARY DIR
Prints PASS/FAIL per file, then `N passed, N failed`; exits 1 on any failure.
"""

import difflib
import os
import re
import subprocess
import sys

# The one time bound, stretched like the integration tests' (TIME_SCALE).
TIMEOUT = 20 * max(1.0, float(os.environ.get("TIME_SCALE") or 1))
ERROR_RE = re.compile(r"^[^\n]*:\d+:\d+: error: |^[^\n:]+: error: ", re.MULTILINE)


def check(binary, directory, conf):
    name = conf[: -len(".conf")]
    expect_path = os.path.join(directory, name + ".expect")
    if not os.path.exists(expect_path):
        return f"{name}.expect is missing"
    with open(expect_path, encoding="utf-8", errors="surrogateescape") as f:
        expected = f.read()
    env = dict(os.environ, LC_ALL="C")  # strerror texts in English
    try:
        proc = subprocess.run([binary, "--check-config", "-f", conf], cwd=directory, env=env,
                              capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"did not exit within {TIMEOUT:g} s"
    stderr = proc.stderr.decode("utf-8", "surrogateescape")
    stdout = proc.stdout.decode("utf-8", "surrogateescape")
    problems = []
    want_rc = 1 if ERROR_RE.search(expected) else 0
    if proc.returncode != want_rc:
        problems.append(f"exit status {proc.returncode}, expected {want_rc}")
    if stderr != expected:
        diff = difflib.unified_diff(expected.splitlines(True), stderr.splitlines(True),
                                    f"{name}.expect", "stderr")
        problems.append("stderr differs:\n" + "".join(diff))
    if want_rc == 0 and not re.fullmatch(re.escape(conf) + r": configuration OK: .*\n", stdout):
        problems.append(f"stdout is not the summary line: {stdout!r}")
    if want_rc == 1 and stdout:
        problems.append(f"stdout is not empty for an invalid file: {stdout!r}")
    return "; ".join(problems)


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    binary, directory = os.path.abspath(sys.argv[1]), sys.argv[2]
    confs = sorted(f for f in os.listdir(directory) if f.endswith(".conf"))
    passed = failed = 0
    for conf in confs:
        problem = check(binary, directory, conf)
        if problem:
            failed += 1
            print(f"FAIL {conf}: {problem}")
        else:
            passed += 1
            print(f"PASS {conf}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not confs else 0


if __name__ == "__main__":
    sys.exit(main())
