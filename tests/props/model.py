"""model.py - the reference model of weir for the property runner.

What one configuration of weir should do, computed in Python: the records
of an input, the result of a stage (built-in operations, or a COMMAND
chosen so that its effect is computable), and which records a stage fails
by itself (longer than --max-record, a NUL byte in a '{}' argument, a
command that exits non-zero). See weir(1): DESCRIPTION (records),
OPERATIONS, EXTERNAL COMMANDS.
"""

import re
import shutil

HAVE_PERL = shutil.which("perl") is not None

# ---------------------------------------------------------------------------
# Records


def split_records(data, delim):
    """[(payload, terminated)] of a byte string, as weir frames it: the last
    record may lack its delimiter; zero bytes are no record."""
    if not data:
        return []
    parts = data.split(delim)
    recs = [(p, True) for p in parts[:-1]]
    if parts[-1]:
        recs.append((parts[-1], False))
    return recs


def join_records(recs, delim):
    return b"".join(p + (delim if t else b"") for p, t in recs)


def split_output(data, delim):
    """Output bytes as a list of records, each with its delimiter if it has
    one (an open last record has none)."""
    if not data:
        return []
    parts = data.split(delim)
    out = [p + delim for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


# ---------------------------------------------------------------------------
# Built-in operations. Patterns are POSIX EREs for weir, with their Python
# translation: weir matches in the C locale with REG_STARTEND and without
# REG_NEWLINE, so '^'/'$' are the payload's ends (\A, \Z), '.' matches any
# byte but NUL (RE_DOT_NOT_NULL) and does match a newline.

PATTERNS = [
    ("7$", rb"7\Z"),
    ("^[a-m]", rb"\A[a-m]"),
    ("[0-9]{2}", rb"[0-9]{2}"),
    ("x|Q", rb"x|Q"),
    ("^$", rb"\A\Z"),
    ("e.", rb"e[^\x00]"),
    ("[[:upper:]]", rb"[A-Z]"),
    ("^.{0,3}$", rb"\A[^\x00]{0,3}\Z"),
    ("(ab|cd)+[^z]", rb"(?:ab|cd)+[^z]"),
]
_COMPILED = {ere: re.compile(py, re.DOTALL) for ere, py in PATTERNS}

_UPPER = bytes.maketrans(b"abcdefghijklmnopqrstuvwxyz", b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def upper(p):
    return p.translate(_UPPER)


def lower(p):
    return p.translate(_LOWER)


def apply_ops(ops, payload):
    """The payload after the chain, or None when a filter removed it."""
    for op in ops:
        name, _, arg = op.partition(":")
        if name == "upper":
            payload = upper(payload)
        elif name == "lower":
            payload = lower(payload)
        elif name == "grep":
            if not _COMPILED[arg].search(payload):
                return None
        elif name == "grepv":
            if _COMPILED[arg].search(payload):
                return None
        elif name in ("cat", "sleep", "spin"):
            pass
        else:
            raise ValueError(op)
    return payload


# ---------------------------------------------------------------------------
# Stages. A stage is a dict:
#   kind    'ops' | 'exec' | 'coproc' | 'pipe'
#   args    weir arguments for it (the -e flags, or the shape flag + COMMAND)
#   fn      payload -> payload of the result (None: removed), for one record
#   fails   payload -> True when the stage fails that record by itself
#   text    True when the command needs printable text (no NUL, no high bytes)
#   name    short name for the coverage table
#   one_each  True when weir writes each record's result by itself (at most
#           one output record per input record, what result() says); not
#           for --pipe, whose output is a block's
# A COMMAND is given each record with its delimiter, and its replies carry
# one, so every result of a COMMAND stage ends with the delimiter, also for
# an open last record; the result of built-in operations keeps the record's
# own termination.


def ops_stage(ops):
    return {
        "kind": "ops",
        "args": [a for op in ops for a in ("-e", op)],
        "fn": lambda p: apply_ops(ops, p),
        "fails": lambda p: False,
        "text": False,
        "name": "ops",
        "ops": ops,
        "one_each": True,
    }


def _cmd(kind, name, argv, fn, fails=None, text=False, job_fails=False):
    flag = {"exec": [], "coproc": ["--coproc"], "pipe": ["--pipe"]}[kind]
    return {
        "kind": kind,
        "flag": flag,
        "argv": argv,
        "fn": fn,
        "fails": fails or (lambda p: False),
        "text": text,
        "name": kind + ":" + name,
        "job_fails": job_fails,
        "one_each": kind != "pipe",
    }


def _delim_name(delim):
    return {b"\n": "nl", b"\0": "nul"}.get(delim, "other")


def exec_stages(delim):
    """Per-record commands whose result is computable."""
    d = _delim_name(delim)
    st = [
        _cmd("exec", "tr-upper", ["tr", "a-z", "A-Z"], upper),
        _cmd("exec", "cat", ["cat"], lambda p: p),
        _cmd("exec", "sh-tr-lower", ["sh", "-c", "tr A-Z a-z"], lower),
    ]
    if d == "nl":
        st += [
            _cmd("exec", "sed-prefix", ["sed", "s/^/E:/"], lambda p: b"E:" + p),
            # '{}': the record as an argument; one with a NUL byte fails
            _cmd("exec", "braces", ["sh", "-c", 'printf "X:%s\\n" "$1"', "sh", "{}"],
                 lambda p: b"X:" + p, fails=lambda p: b"\0" in p),
            # exits 1 for a record holding a 7: that record fails
            _cmd("exec", "grep-fail7", ["grep", "-av", "7"], lambda p: p,
                 fails=lambda p: b"7" in p, job_fails=True),
            # killed by a signal for a record holding a 7
            _cmd("exec", "sh-kill7",
                 ["sh", "-c", 'IFS= read -r l; case "$l" in *7*) kill -9 $$;; esac; printf "%s\\n" "$l"'],
                 lambda p: p, fails=lambda p: b"7" in p, text=True, job_fails=True),
            # a filter: empty output removes the record
            _cmd("exec", "sh-filter-x", ["sh", "-c", "grep -a x || true"],
                 lambda p: p if b"x" in p else None),
        ]
    elif d == "nul":
        st += [
            _cmd("exec", "sed-z-prefix", ["sed", "-z", "s/^/E:/"], lambda p: b"E:" + p),
            _cmd("exec", "grep-z-fail7", ["grep", "-zav", "7"], lambda p: p,
                 fails=lambda p: b"7" in p, job_fails=True),
        ]
    elif delim == b",":
        st += [
            _cmd("exec", "braces-comma", ["sh", "-c", 'printf "X:%s," "$1"', "sh", "{}"],
                 lambda p: b"X:" + p, fails=lambda p: b"\0" in p),
        ]
    return st


def coproc_stages(delim):
    d = _delim_name(delim)
    st = []
    if HAVE_PERL:  # any delimiter; perl reads what a read(2) gives, unbuffered output
        st.append(_cmd("coproc", "perl-prefix",
                       ["perl", "-e", '$/ = pack("C", hex shift); $| = 1; print "C:$_" while <STDIN>',
                        "%02x" % delim[0]],
                       lambda p: b"C:" + p))
    if d == "nl":
        st += [
            _cmd("coproc", "sed-u", ["sed", "-u", "s/^/P:/"], lambda p: b"P:" + p),
            _cmd("coproc", "sed-u", ["sed", "-u", "s/^/P:/"], lambda p: b"P:" + p),
            _cmd("coproc", "sh-read-loop",
                 ["sh", "-c", 'while IFS= read -r l; do printf "S:%s\\n" "$l"; done'],
                 lambda p: b"S:" + p, text=True),
            _cmd("coproc", "mawk-interactive", ["awk", "-W", "interactive", '{print "M:" $0}'],
                 lambda p: b"M:" + p, text=True),
        ]
    elif d == "nul":
        st += [
            _cmd("coproc", "sed-uz", ["sed", "-uz", "s/^/P:/"], lambda p: b"P:" + p),
            _cmd("coproc", "sed-uz", ["sed", "-uz", "s/^/P:/"], lambda p: b"P:" + p),
        ]
    return st


def pipe_stages(delim):
    d = _delim_name(delim)
    st = [
        _cmd("pipe", "cat", ["cat"], lambda p: p),
        _cmd("pipe", "tr-upper", ["tr", "a-z", "A-Z"], upper),
    ]
    if d == "nl":
        st.append(_cmd("pipe", "sed-prefix", ["sed", "s/^/B:/"], lambda p: b"B:" + p))
        # with --block-records 1 (the runner sees to it) a block is a record
        st.append(_cmd("pipe", "grep-fail7", ["grep", "-av", "7"], lambda p: p,
                       fails=lambda p: b"7" in p, job_fails=True))
    elif d == "nul":
        st.append(_cmd("pipe", "sed-z-prefix", ["sed", "-z", "s/^/B:/"], lambda p: b"B:" + p))
    return st


def jitter_stages(delim):
    """Commands that take a random 0-3 ms over each record (perl): with
    several workers and -u, records overtake one another unless something
    (--key) keeps them in order. The identity, and a prefix."""
    if not HAVE_PERL:
        return []
    sep = "%02x" % delim[0]
    nap = "select undef, undef, undef, rand 0.003"
    return [
        _cmd("exec", "perl-jitter",
             ["perl", "-e", '$/ = pack("C", hex shift); while (<STDIN>) { %s; print }' % nap,
              sep], lambda p: p),
        _cmd("coproc", "perl-jitter",
             ["perl", "-e", '$/ = pack("C", hex shift); $| = 1; '
              'while (<STDIN>) { %s; print "J:$_" }' % nap, sep],
             lambda p: b"J:" + p),
    ]


def sed3q_stage(delim, payloads, max_record, retries):
    """A co-process that quits after 3 replies: with one worker and nothing
    shed, the record after each third one fails (weir restarts it and
    re-sends what followed); with --retries it is sent again first, so none
    fails and there is one retry per restart. Needs unique payloads."""
    z = ["-z"] if delim == b"\0" else []
    sent = [p for p in payloads if max_record is None or len(p) <= max_record]
    failing = set() if retries else {p for i, p in enumerate(sent) if i % 4 == 3}
    st = _cmd("coproc", "sed-3q", ["sed", "-u"] + z + ["3q"], lambda p: p,
              fails=lambda p: p in failing, job_fails=True)
    st["retried"] = (len(sent) - 1) // 3 if retries and sent else 0
    return st


def result(stage, payload, terminated, delim):
    """Expected output bytes of one record, or None when it is removed."""
    out = stage["fn"](payload)
    if out is None:
        return None
    if stage["kind"] == "ops":
        return out + (delim if terminated else b"")
    return out + delim


# ---------------------------------------------------------------------------
# Keys (--key, src/key.c's key_of): a record's key, or None when it has
# none (then weir counts it in records_unkeyed and it shares the empty
# key). re: specs are POSIX EREs for weir, each with a Python translation
# that finds the same match: weir takes the leftmost-longest match, Python
# the leftmost-first, so these are patterns where the two agree (one
# possible end at the leftmost start, or greedy runs followed by nothing
# that could end them elsewhere); none uses '.' or '$'.

KEY_RES = [
    ("^([a-z]+)", rb"\A([a-z]+)"),
    ("([0-9]+):", rb"([0-9]+):"),
    ("^(ann|bob)?", rb"\A(ann|bob)?"),  # a group that may take no part: unkeyed
    ("[[:digit:]]+", rb"[0-9]+"),  # no group: the whole match
    ("=([a-z]*)", rb"=([a-z]*)"),  # may be empty, and still a key
    ("(x|Q)", rb"(x|Q)"),
]
_KEY_COMPILED = {ere: re.compile(py) for ere, py in KEY_RES}
KEY_MAX = 4096  # src/key.h: a longer key is cut there
_BLANKS = re.compile(rb"[ \t]+")


def key_of(spec, sep, payload):
    """The key of payload (without its delimiter) for --key spec, with -F
    sep (one byte) or None (fields split by runs of blanks, as awk)."""
    if spec.startswith("re:"):
        rx = _KEY_COMPILED[spec[3:]]
        m = rx.search(payload)
        key = m and m.group(1 if rx.groups else 0)
        return None if key is None else key[:KEY_MAX]
    if sep is not None:
        fields = payload.split(sep)  # empty fields count; "" has field 1
    else:
        fields = [f for f in _BLANKS.split(payload) if f]
    idx = [int(x) for x in spec.split(",")]
    if max(idx) > len(fields):
        return None
    return (sep if sep is not None else b" ").join(fields[i - 1] for i in idx)[:KEY_MAX]
