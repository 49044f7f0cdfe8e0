#!/usr/bin/env python3
"""readme.py - run the README's shell sessions as pasted and compare.

    WEIR=/path/to/weir python3 tests/doc/readme.py README.md

A session is an indented block whose lines start with `$ `: each such line
(with its `\\` continuation lines) is a command, the indented lines after it
up to the next command or the end of the block its expected output. All
commands run in order in one fresh directory, each in bash with `weir` first
on the PATH, as a reader who followed the README's install step has it; so a
file one command makes is there for the next. Then all of them run again in
the same directory, as a reader who pastes an example twice does: an
example that appends to a file it did not clear first shows up. Expected lines that start with
`weir: ` are compared with the command's stderr, the others with its stdout,
each in order. The summary's figures change from run to run, so its lines
(`weir: N records in ...` and the indented `weir:   ...` ones) are skipped
on both sides, as are the figures NORMALIZE names. Prints one line per
command and exits 1 if any differed or exited non-zero without saying so.
"""
import os
import re
import subprocess
import sys
import tempfile

SUMMARY = re.compile(r"^weir: (\d+ records in |  )")
NORMALIZE = [(re.compile(r'"compressed_bytes_out":\d+'), '"compressed_bytes_out":N')]
TIMEOUT_S = 60


def sessions(text):
    """Yields (line number, command, expected lines) in README order."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if not lines[i].startswith("    $ "):
            i += 1
            continue
        start = i + 1
        cmd = lines[i][6:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd + "\n" + lines[i][4:]
        i += 1
        out = []
        while i < len(lines) and lines[i].startswith("    ") and not lines[i].startswith("    $ "):
            out.append(lines[i][4:])
            i += 1
        yield start, cmd, out


def relevant(lines):
    kept = []
    for line in lines:
        if SUMMARY.match(line):
            continue
        for pattern, repl in NORMALIZE:
            line = pattern.sub(repl, line)
        kept.append(line)
    return kept


def run(cmd, cwd, env):
    p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True,
                       timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    out = p.stdout.decode("utf-8", "replace").split("\n")
    err = p.stderr.decode("utf-8", "replace").split("\n")
    return p.returncode, out[:-1] if out[-1] == "" else out, err[:-1] if err[-1] == "" else err


def main():
    readme = sys.argv[1] if len(sys.argv) > 1 else "README.md"
    weir = os.path.abspath(os.environ.get("WEIR", "weir"))
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    bindir = tempfile.mkdtemp(prefix="weir-readme-bin.")
    os.symlink(weir, os.path.join(bindir, "weir"))
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    bad = 0
    with tempfile.TemporaryDirectory(prefix="weir-readme.") as cwd:
        for line, cmd, expected in list(sessions(text)) * 2:
            rc, out, err = run(cmd, cwd, env)
            want_err = relevant([x for x in expected if x.startswith("weir: ")])
            want_out = relevant([x for x in expected if not x.startswith("weir: ")])
            got_out, got_err = relevant(out), relevant(err)
            ok = got_out == want_out and got_err == want_err
            print("%s README.md:%d: %s" % ("ok  " if ok else "FAIL", line, cmd.split("\n")[0]))
            if not ok:
                bad += 1
                print("  exit %d\n  expected stdout %r\n  got      stdout %r" % (rc, want_out, got_out))
                print("  expected stderr %r\n  got      stderr %r" % (want_err, got_err))
    os.unlink(os.path.join(bindir, "weir"))
    os.rmdir(bindir)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
