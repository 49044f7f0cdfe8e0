#!/usr/bin/env python3
"""props.py - seeded random-configuration property runner for weir.

Each configuration is drawn from one seed: policy, queue bounds, workers,
order, a stage (built-in operations, or a COMMAND run per record, as a
co-process or per block, chosen so that its effect is computable), rate
limits, delimiter, input shape and how it is fed (file, pipe, trickle, zstd),
consumer (file, pipe, slow reader, head -c that closes early), signals at a
random time and SIGUSR1 storms. weir runs it with --stats json (and
--rejects FILE), and the run is checked against weir(1):

  - the exit status is one the man page allows for the configuration, and
    the summary's "exit" says the same;
  - stderr holds exactly one summary ("final":true), after every snapshot
    ("final":false, in_flight, records_in == outcomes + in_flight), and no
    line but JSON and known warnings;
  - records_in == done + dropped + timed_out + failed; all input read when
    the run was not stopped; the counters each policy may move;
  - the output equals the reference model (model.py): in input order, or
    as a multiset with -u; with shedding, output + rejects == input records
    read (as multisets, through the stage), each rejected record whole with
    its delimiter, and as many as were shed or failed;
  - no shedding and no exit 75 where no record finds the queue full with
    every worker busy (one record per worker, records <= -c + -j);
  - queue_max <= queue_capacity, the bounds as given, workers, latency
    percentiles in order, the rate limiter's bound;
  - peak RSS (GNU time) within the memory bound of DESCRIPTION for large
    inputs (not under sanitizers);
  - with --key: keys_max, key_waits and records_unkeyed (records read
    without the key, as model.key_of finds it) against the records read;
    built-in operations keep input order even with -u; with a COMMAND, -u
    and --key-limit 1, each key's output records keep input order.

README.md in this directory lists what is drawn and checked.

Environment:
  WEIR           weir binary (default ./weir)
  PROPS_SEED     base seed (default: random); configuration i uses seed
                 PROPS_SEED + i, so PROPS_SEED=S PROPS_N=1 replays one
  PROPS_N        number of configurations (default 200)
  PROPS_J        runs at a time (default 2)
  PROPS_REPEAT   run each configuration this many times (default 1): a
                 failure that depends on timing may need several tries
  PROPS_KEEP     1: keep every run's directory (failed runs are always kept)
  PROPS_VERBOSE  1: print a line per configuration
  PROPS_TMP      where run directories go (default $TMPDIR or /tmp)

Exit status 0 when every configuration passed, 1 otherwise, 2 on misuse.
"""

import collections
import concurrent.futures
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model  # noqa: E402

K = 1024
M = 1024 * 1024
CHUNK = 256 * K  # weir's read size (src/pipeline.c)
OUT_BUF = 256 * K  # weir's output buffer (src/output.c)
NPROC = os.cpu_count() or 1
SIGNAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
SIGEXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}

WEIR = os.path.abspath(os.environ.get("WEIR") or "weir")
HAVE_ZSTD = shutil.which("zstd") is not None
# Peak RSS comes from GNU time: wait4's ru_maxrss would also count the
# runner's own pages, which the child had until it ran exec.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def sanitized(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__tsan_init" in data


SANITIZED = sanitized(WEIR)
SCALE = 4 if SANITIZED else 1  # time limits under sanitizers
RUN_LIMIT = 30.0  # seconds one run may take before it counts as hung


def size_str(n):
    for suf, mul in (("M", M), ("K", K)):
        if n % mul == 0 and n >= mul:
            return "%d%s" % (n // mul, suf)
    return str(n)


def dur_s(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s)", text)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]


# ---------------------------------------------------------------------------
# Configuration

TEXT = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-_:;!x7eQ"
DELIMS = {  # name: (byte, weir flags, weight)
    "nl": (b"\n", [], 60),
    "nul": (b"\0", ["-0"], 14),
    "comma": (b",", ["-d", ","], 12),
    "tab": (b"\t", ["-d", "\\t"], 6),
    "x1e": (b"\x1e", ["--delimiter=\\x1e"], 8),
}


def text_payload(rng, i, lo=0, hi=20):
    n = rng.randint(lo, hi)
    word = bytes(rng.choice(TEXT) for _ in range(n))
    return b"%d:" % i + word if i is not None else word


def binary_payload(rng, delim, lo=0, hi=40):
    n = rng.randint(lo, hi)
    bad = delim[0]
    return bytes(b if b != bad else (b + 1) % 256 for b in rng.randbytes(n))


def long_text(rng, n, tag):
    base = bytes(rng.choice(TEXT) for _ in range(64))
    s = (tag + base * (n // 64 + 2))[:n]
    return s


def keyed_payloads(rng, delim, n, key_sep):
    """Records that begin with one of a few key words, so keys repeat: a
    word, a separator (key_sep, or runs of blanks, maybe leading ones too),
    a unique number and a tail (k=WORD, or text); some records are one
    field (a repeated word) or empty."""
    words = rng.sample(KEY_WORDS, rng.choice([1, 2, 3, 5, 8]))
    blanks = [b for b in (b" ", b"\t", b"  ", b" \t") if delim not in b]
    out = []
    for i in range(n):
        sep = key_sep if key_sep is not None else rng.choice(blanks)
        lead = b"" if key_sep is not None or rng.random() < 0.8 else rng.choice(blanks)
        w = rng.choice(words)
        r = rng.random()
        if r < 0.05:
            out.append(b"")
        elif r < 0.12:
            out.append(lead + w)
        else:
            tail = (b"k=" + rng.choice(words) if rng.random() < 0.5
                    else text_payload(rng, None, 0, 8))
            out.append(lead + w + sep + b"%d:" % i + sep + tail)
    return out


def gen_shape(rng, shape, delim, n, max_record, big=True, key_sep=None):
    """(payloads, extra info) of an input shape; "keyed" records split into
    fields by key_sep (a byte, or None: blanks)."""
    if shape == "keyed":
        return keyed_payloads(rng, delim, n, key_sep)
    if shape == "empty":
        return []
    if shape == "one":
        return [text_payload(rng, None, 0, 30)]
    if shape == "text":
        return [text_payload(rng, i) for i in range(n)]
    if shape == "magic":
        # plain input whose first bytes begin a zstd or skippable frame
        # magic number: weir must look further, then take it as plain
        out = [text_payload(rng, i, 0, 3) for i in range(rng.choice([1, 1, 2, n]))]
        out[0] = rng.choice([b"(", b"(\xb5", b"(\xb5/", b"P", b"P*", b"P*M", b"]*M"]) + out[0]
        return out
    if shape == "dups":
        pool = [text_payload(rng, None, 0, 4) for _ in range(rng.randint(1, 5))]
        return [rng.choice(pool) for _ in range(n)]
    if shape == "binary":
        return [binary_payload(rng, delim) for _ in range(n)]
    if shape == "nul":
        inner = b"\n" if delim == b"\0" else b"\0"
        out = []
        for i in range(n):
            p = bytearray(text_payload(rng, i))
            for _ in range(rng.randint(0, 3)):
                p.insert(rng.randint(0, len(p)), inner[0])
            out.append(bytes(p))
        return out
    if shape == "empties":
        return [b"" if rng.random() < 0.5 else text_payload(rng, i, 0, 3) for i in range(n)]
    if shape == "maxrec":
        m = max_record
        lens = [0, max(0, m - 1), m, m + 1, 2 * m, m + 100]
        out = [long_text(rng, rng.choice(lens), b"%d:" % i) for i in range(n)]
        if big and rng.random() < 0.15:
            out.insert(rng.randint(0, len(out)), long_text(rng, 300 * K, b"big:"))
        return out
    if shape == "longrec":
        return [long_text(rng, rng.randint(50 * K, 600 * K), b"%d:" % i) for i in range(n)]
    if shape == "large":
        total = rng.randint(16, 32) * M
        pool = [long_text(rng, rng.randint(50, 2000), b"") for _ in range(64)]
        out, size, i = [], 0, 0
        while size < total:
            p = b"%d:" % i + rng.choice(pool)
            out.append(p)
            size += len(p) + 1
            i += 1
        return out
    raise ValueError(shape)


class Config:
    pass


# --key: -F's byte and how it is written; the words keyed records begin with
KEY_SEPS = [(b";", ";"), (b":", ":"), (b"|", "|"), (b"\t", "\\t"), (b",", ","),
            (b";", "\\x3b")]
KEY_WORDS = [b"ann", b"bob", b"cy", b"dee", b"eve", b"fay", b"gus", b"hal"]


def draw_key(rng, c, kind):
    """--key in about a fifth of the configurations whose stage is not
    --pipe (which refuses it), more often for a COMMAND: c.key (the spec,
    or None), c.key_sep (-F's byte, or None: runs of blanks) and c.key_f
    (-F's text), c.key_limit, c.key_sticky, and c.lanes: whether weir gives
    keys lanes (a COMMAND per record or a co-process; built-in operations
    keep input order instead)."""
    c.key = c.key_sep = c.key_f = None
    c.key_limit, c.key_sticky, c.lanes = 1, False, False
    if kind == "pipe" or rng.random() >= (0.3 if kind in ("exec", "coproc") else 0.17):
        return
    if rng.random() < 0.25:
        c.key = "re:" + rng.choice(model.KEY_RES)[0]
    else:
        c.key = rng.choice(["1", "1", "1", "2", "1,2", "2,1", "3"])
        if rng.random() < 0.4:
            c.key_sep, c.key_f = rng.choice([x for x in KEY_SEPS if x[0] != c.delim])
    c.key_limit = 2 if rng.random() < 0.2 else 1
    c.key_sticky = rng.random() < 0.25
    c.lanes = kind != "ops"


def pick(rng, weighted):
    items = list(weighted)
    return rng.choices([k for k, _ in items], [w for _, w in items])[0]


def draw_policy(rng):
    """(policy, -t value or None)."""
    policy = pick(rng, (("block", 35), ("drop", 20), ("drop-oldest", 15), ("timeout", 15),
                        ("fail", 15)))
    timeout = None
    if policy == "timeout":
        timeout = rng.choice(["0", "1ms", "5ms", "20ms"])
    elif policy == "fail":
        timeout = rng.choice([None, "0", "1ms", "10ms", "100ms"])
    return policy, timeout


def draw_stage(rng, kind, delim, p_slow=0.3):
    """(stage, slow op or None) of a kind: "ops" (built-in operations, a
    sleep: or spin: among them with probability p_slow), "exec", "coproc"
    or "pipe" (a COMMAND from model.py's table)."""
    if kind == "ops":
        fast = ["cat", "upper", "lower"] + ["grep:" + p for p, _ in model.PATTERNS] + [
            "grepv:" + p for p, _ in model.PATTERNS]
        ops = [rng.choice(fast) for _ in range(rng.randint(0, 3))]
        slow = None
        if rng.random() < p_slow:
            slow = rng.choice(["sleep:100us", "sleep:300us", "sleep:1ms", "sleep:2ms",
                               "spin:20us", "spin:100us", "spin:500us"])
            ops.insert(rng.randint(0, len(ops)), slow)
        return model.ops_stage(ops), slow
    table = {"exec": model.exec_stages, "coproc": model.coproc_stages,
             "pipe": model.pipe_stages}[kind](delim)
    return rng.choice(table), None


def draw_blocks(rng, c, kind):
    """--block and --block-records for a pipe stage; and since a COMMAND's
    output bounded by --capacity-bytes fails its job, c.cap_bytes raised
    above what the stage writes, so that the model stays deterministic."""
    c.block = c.block_records = None
    if kind == "ops":
        return
    st = c.stage
    longest = max([len(p) + 8 for p in c.payloads] + [0])
    if kind == "pipe":
        c.block = rng.choice([None, 1, 16, K, 64 * K])
        if rng.random() < 0.5 or st.get("job_fails"):
            c.block_records = 1 if st.get("job_fails") else rng.choice([1, 2, 7, 50])
        longest = 3 * max(c.block or M, longest)
    if c.cap_bytes is not None and c.cap_bytes < longest:
        c.cap_bytes = None if longest > M else rng.choice(
            [x for x in (4 * K, 64 * K, M) if x >= longest])


def gen_config(seed):
    rng = random.Random(seed)
    c = Config()
    c.seed = seed
    c.dname = pick(rng, ((k, v[2]) for k, v in DELIMS.items()))
    c.delim, dflags, _ = DELIMS[c.dname]

    kind = pick(rng, (("ops", 50), ("exec", 17), ("coproc", 17), ("pipe", 16)))
    c.stage, c.slow = draw_stage(rng, kind, c.delim)
    c.sed3q = kind == "coproc" and c.delim in (b"\n", b"\0") and rng.random() < 0.2
    draw_key(rng, c, kind)
    jitter = [s for s in model.jitter_stages(c.delim) if s["kind"] == kind]
    if c.key and jitter and rng.random() < 0.35:
        c.stage = rng.choice(jitter)  # records that overtake each other but for the keys
    st = c.stage

    # shape, and the number of records the time budget allows
    shapes = [("empty", 5), ("one", 8), ("text", 30), ("dups", 6), ("binary", 12), ("nul", 8),
              ("empties", 6), ("maxrec", 12), ("longrec", 4), ("large", 5), ("magic", 4)]
    if st["text"]:
        shapes = [s for s in shapes if s[0] in ("empty", "one", "text", "dups", "empties")]
    if kind in ("exec", "coproc") or c.slow:  # sed -u reads a byte at a time
        shapes = [s for s in shapes if s[0] not in ("large", "longrec")]
    if kind != "ops":
        shapes = [s for s in shapes if s[0] != "large"]
    if c.key:
        shapes.append(("keyed", 2 * sum(w for _, w in shapes)))
    c.shape = pick(rng, shapes)
    n = rng.choice([2, 3, 5, 10, 30, 100, 300, 1000, 3000])
    if c.shape == "longrec":
        n = rng.randint(1, 6)
    c.j = rng.choice([None, 0, 1, 2, 2, 3, 4] if c.lanes else [None, 0, 1, 1, 2, 2, 3, 4])
    c.j_eff = NPROC if not c.j else c.j
    if kind == "exec":
        n = min(n, 30)
    elif kind == "pipe":
        n = min(n, 300)
    if st["name"].endswith("jitter"):
        n = min(n, 60)
    if c.slow:
        n = min(n, max(2, int(0.2 * c.j_eff / dur_s(c.slow.split(":")[1]))))

    c.max_record = None
    if c.shape == "maxrec":
        c.max_record = rng.choice([1, 2, 8, 64, 1000, 4096])
        n = min(n, 100)
    elif rng.random() < 0.12 and c.shape != "large":
        c.max_record = rng.choice([4, 16, 100, 4 * K])
    payloads = gen_shape(rng, c.shape, c.delim, n, c.max_record or 16 * M, kind != "coproc",
                         c.key_sep)
    c.terminated = not payloads or rng.random() < 0.7
    if not c.terminated:
        if payloads[-1] == b"":
            payloads[-1] = b"z"
        # an open last record is unique, so the model knows which copy it is
        while payloads[-1] in payloads[:-1]:
            payloads[-1] += b"z"
    c.raw = b"".join(p + c.delim for p in payloads)
    if not c.terminated:
        c.raw = c.raw[:-1]
    c.payloads = payloads

    # queue, workers, order
    c.policy, c.timeout = draw_policy(rng)
    c.cap = rng.choice([None, None, 1, 2, 3, 8, 64, 1000])
    c.cap_bytes = rng.choice([None, None, None, 1, 100, 4 * K, 64 * K, M])
    c.unordered = rng.random() < (0.65 if c.lanes else 0.4)
    if c.shape == "large":
        c.cap_bytes = rng.choice([64 * K, 256 * K, M])
        c.cap = rng.choice([None, 16, 256])

    draw_blocks(rng, c, kind)

    # command options
    c.on_error = c.retries = c.job_timeout = None
    c.dashdash = kind != "ops" and rng.random() < 0.3
    if kind != "ops":
        if st.get("job_fails") and rng.random() < 0.4:
            c.on_error = "fail"
        elif rng.random() < 0.1:
            c.on_error = "skip"
        if kind in ("exec", "pipe") and rng.random() < 0.25:
            c.retries = rng.choice([1, 2])
        if rng.random() < 0.15:
            c.job_timeout = "10s"

    # rate limits
    c.rate = c.burst = c.byte_rate = c.byte_burst = None
    if rng.random() < 0.15 and c.shape != "large":
        c.rate = rng.choice([300, 1000, 5000, 20000])
        if rng.random() < 0.6:
            c.burst = rng.choice([1, 5, 50])
    if rng.random() < 0.06 and c.shape != "large":
        c.byte_rate = rng.choice([64 * K, M])
        if rng.random() < 0.5:
            c.byte_burst = rng.choice([512, 4 * K, 64 * K])
    c.interval = rng.choice(["10ms", "30ms"]) if rng.random() < 0.1 else None

    # how the input comes
    modes = [("file", 45), ("pipe", 20), ("trickle", 20)]
    if HAVE_ZSTD:
        modes += [("zstd-file", 6), ("zstd-pipe", 6), ("zstd-trunc", 3), ("zstd-trickle", 5)]
    if c.shape == "large":
        modes = [("file", 50), ("pipe", 20)] + ([("zstd-file", 30)] if HAVE_ZSTD else [])
    if len(c.raw) > 16 * K:
        modes = [m for m in modes if "trickle" not in m[0]]
    c.input = pick(rng, modes)
    c.decompress = None
    if c.input.startswith("zstd") and rng.random() < 0.1 and not st["text"] \
            and c.shape != "large" and kind not in ("exec", "pipe"):
        c.decompress = "no"
    if c.input == "zstd-trunc" and c.on_error == "fail":
        c.on_error = None

    # the time budget: cap records again for rates and slow paths
    # (the shape is drawn; cut the payload list and rebuild)
    limit = len(c.payloads)
    if c.rate and c.policy == "block":
        limit = min(limit, int(0.25 * c.rate) + (c.burst or max(1, c.rate // 10)))
    if kind == "pipe" and (c.block_records == 1 or (c.block or M) < 64 or c.input == "trickle"):
        limit = min(limit, 40)
    if (c.slow or kind == "exec") and c.cap is not None and c.cap <= 8 and c.policy != "block" \
            and rng.random() < 0.5:
        # as many records as the queue and the idle workers take: no overload
        limit = min(limit, c.cap + c.j_eff)
    if limit < len(c.payloads):
        c.payloads = c.payloads[:limit]
        c.terminated = True
        c.raw = b"".join(p + c.delim for p in c.payloads)
    if c.byte_rate and len(c.raw) > c.byte_rate // 4:
        c.byte_rate = None
        c.byte_burst = None

    # consumer
    est_out = len(c.raw) * 2 + 16
    cons = [("file", 40), ("pipe", 25), ("slow", 15), ("head", 15)]
    if est_out > 16 * K:
        cons = [x for x in cons if x[0] != "slow"]
    if c.shape == "large":
        cons = [("file", 60), ("pipe", 40)]
    c.consumer = pick(rng, cons)
    c.head = None
    if c.consumer == "head":
        c.head = rng.choice([0, 1, rng.randint(0, max(1, len(c.raw))), rng.randint(0, 2 * M)])
    c.compress = c.consumer != "head" and HAVE_ZSTD and rng.random() < 0.07

    # signals
    c.signal = None
    if rng.random() < 0.18 and c.shape != "large":
        # most runs take a few ms: most signals come early
        c.signal = (rng.choice([signal.SIGINT, signal.SIGTERM]),
                    rng.uniform(0, rng.choice([0.002, 0.01, 0.1])))
    c.usr1 = None
    if rng.random() < 0.12:
        c.usr1 = (rng.randint(3, 30), rng.uniform(0, 0.003))

    c.rejects = None
    if rng.random() < 0.85:
        c.rejects = "rej.zst" if HAVE_ZSTD and rng.random() < 0.2 else "rej"
    c.rss_check = c.shape == "large" and not SANITIZED
    if c.sed3q:
        sed3q(c, rng)
    if c.rss_check:
        c.signal = c.usr1 = None  # GNU time stands between: no signals
    c.feed_seed = rng.getrandbits(32)
    c.args = build_args(c, dflags, rng)
    return c


def sed3q(c, rng):
    """Turn the co-process into sed -u 3q, where the model needs one worker,
    no shedding, no stop, and unique records."""
    if len(set(c.payloads)) != len(c.payloads) or c.input == "zstd-trunc" or c.decompress \
            or len(c.payloads) > 100:
        return
    c.j = c.j_eff = 1
    c.policy, c.timeout = "block", None
    c.signal = None
    c.on_error = None
    if c.consumer == "head":
        c.consumer, c.head = "pipe", None
    c.retries = rng.choice([None, 1, 2])
    c.stage = model.sed3q_stage(c.delim, c.payloads, c.max_record, c.retries)


def command_args(c):
    """The options of a COMMAND stage: --block, --block-records,
    --on-error, --retries."""
    a = []
    if c.block is not None:
        a += ["--block", size_str(c.block)]
    if c.block_records is not None:
        a += ["--block-records", str(c.block_records)]
    if c.on_error:
        a += ["--on-error", c.on_error]
    if c.retries:
        a += ["--retries", str(c.retries)]
    return a


def build_args(c, dflags, rng):
    a = ["--stats", "json"] if rng.random() < 0.5 else ["--stats=json"]
    a += dflags
    if c.max_record is not None:
        a += ["--max-record", size_str(c.max_record)]
    if c.cap is not None:
        a += rng.choice([["-c", str(c.cap)], ["--capacity=%d" % c.cap]])
    if c.cap_bytes is not None:
        a += ["--capacity-bytes", size_str(c.cap_bytes)]
    if c.j is not None:
        a += rng.choice([["-j", str(c.j)], ["--workers=%d" % c.j], ["--jobs", str(c.j)]])
    if c.unordered:
        a += ["-u"]
    if c.policy == "timeout" and rng.random() < 0.4:
        a += ["-t", c.timeout]  # -t alone implies the policy
    else:
        a += ["-p", c.policy]
        if c.timeout is not None:
            a += ["-t", c.timeout]
    if c.rejects:
        a += ["--rejects", c.rejects]
    if c.rate:
        a += ["-r", "%d/s" % c.rate]
        if c.burst:
            a += ["--burst", str(c.burst)]
    if c.byte_rate:
        a += ["--byte-rate", "%s/s" % size_str(c.byte_rate)]
        if c.byte_burst:
            a += ["--byte-burst", size_str(c.byte_burst)]
    if c.interval:
        a += ["-i", c.interval]
    if c.key:
        a += ["--key", c.key]
        if c.key_f:
            a += rng.choice([["-F", c.key_f], ["--field-sep", c.key_f]])
        if c.key_limit != 1 or rng.random() < 0.1:
            a += ["--key-limit", str(c.key_limit)]
        if c.key_sticky:
            a += ["--key-sticky"]
    if c.decompress:
        a += ["--decompress", c.decompress]
    if c.compress:
        a += ["-z"]
    st = c.stage
    if st["kind"] == "ops":
        a += st["args"]
        return a
    a += command_args(c)
    if c.job_timeout:
        a += ["--job-timeout", c.job_timeout]
    a += st["flag"]
    if c.dashdash:
        a += ["--"]
    return a + st["argv"]


# ---------------------------------------------------------------------------
# Running one configuration


class Proc:
    """weir's process; signals go to it only while it is not yet reaped."""

    def __init__(self, popen):
        self.p = popen
        self.lock = threading.Lock()
        self.alive = True

    def send(self, sig):
        with self.lock:
            if self.alive:
                os.kill(self.p.pid, sig)
                return True
        return False

    def blocked(self, sigs):
        """True once weir blocks all of sigs; None when it has exited."""
        with self.lock:
            if not self.alive:
                return None
            try:
                with open("/proc/%d/status" % self.p.pid) as f:
                    text = f.read()
            except OSError:
                return None
        m = re.search(r"^SigBlk:\s*([0-9a-f]+)", text, re.M)
        if not m:
            return False
        mask = int(m.group(1), 16)
        return all(mask & (1 << (s - 1)) for s in sigs)

    def wait_blocked(self, sigs, limit):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            r = self.blocked(sigs)
            if r is None:
                return False
            if r:
                return True
            time.sleep(0.0005)
        return False


class Obs:
    pass


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def feeder(fd, data, trickle, rng):
    try:
        if trickle:
            pos = 0
            while pos < len(data):
                k = rng.randint(1, 64)
                write_all(fd, data[pos:pos + k])
                pos += k
                if rng.random() < 0.3:
                    time.sleep(rng.uniform(0, 0.002))
        else:
            write_all(fd, data)
    except OSError:
        pass  # weir stopped reading (signal, fail, closed stdout)
    finally:
        os.close(fd)


def reader(fd, sink, slow, rng):
    try:
        if slow:
            time.sleep(rng.uniform(0, 0.1))  # a stalled start
        while True:
            b = os.read(fd, rng.choice([1, 16, 256, 4096]) if slow else 1 << 16)
            if not b:
                break
            sink.append(b)
            if slow:
                time.sleep(rng.uniform(0, 0.002))
    finally:
        os.close(fd)


def stdout_for(consumer, head_bytes, outpath):
    """weir's stdout for its consumer: "file" (outpath), "pipe" (read at
    once), "slow" (a slow reader) or "head" (head -c head_bytes); (what
    Popen takes, how the command line says it)."""
    if consumer == "file":
        return open(outpath, "wb"), "> out"
    return subprocess.PIPE, {"pipe": "| (read at once) > out",
                             "slow": "| (slow reader: stalls up to 100 ms, then 1-4096 bytes "
                                     "per read, up to 2 ms apart) > out",
                             "head": "| head -c %s > out" % head_bytes}[consumer]


def consume_stdout(p, stdout, consumer, head_bytes, outpath, sink, rng, threads):
    """Once weir (p) runs: close the runner's copy of the stdout file, or
    start what reads the pipe: head -c into outpath, or a reader thread
    (put in threads) into sink. head's process, or None."""
    if consumer == "file":
        stdout.close()
        return None
    if consumer == "head":
        with open(outpath, "wb") as f:
            head = subprocess.Popen(["head", "-c", str(head_bytes)], stdin=p.stdout, stdout=f)
        p.stdout.close()
        return head
    t = threading.Thread(target=reader, args=(os.dup(p.stdout.fileno()), sink,
                                              consumer == "slow", rng))
    p.stdout.close()
    threads.append(t)
    t.start()
    return None


def wait_weir(proc, o):
    """Reap weir (a Proc), killed after RUN_LIMIT * SCALE s (o.hung then);
    its exit code as subprocess gives it. proc takes no more signals once
    weir has exited, before its pid is freed."""
    p = proc.p

    def watchdog():
        o.hung = True
        proc.send(signal.SIGKILL)

    dog = threading.Timer(RUN_LIMIT * SCALE, watchdog)
    dog.start()
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    with proc.lock:
        proc.alive = False
    _, status, _ = os.wait4(p.pid, 0)
    dog.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode


def reap(o, threads, children):
    """After weir: join the runner's threads (a note in o for one that does
    not finish) and wait for its other processes (None: none), killed when
    they take over 10 s."""
    for t in threads:
        t.join(10 * SCALE)
        if t.is_alive():
            o.notes.append("a helper thread did not finish")
    for child in children:
        if child is None:
            continue
        try:
            child.wait(10 * SCALE)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def read_stdout(consumer, sink, outpath):
    """The bytes weir's consumer got, in outpath (written there from sink
    for the reader threads)."""
    if consumer in ("pipe", "slow"):
        with open(outpath, "wb") as f:
            f.write(b"".join(sink))
    with open(outpath, "rb") as f:
        return f.read()


def read_rejects(d, name):
    """The rejects file name in d, decompressed if it ends in .zst: (bytes,
    None), or (what zstd -dc wrote, what failed); b"" when weir made none."""
    path = os.path.join(d, name)
    if not os.path.exists(path):
        return b"", None
    if name.endswith(".zst"):
        r = subprocess.run(["zstd", "-dc", "-q", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            return r.stdout, "zstd -dc of the rejects failed: %s" % r.stderr.decode(
                errors="replace")
        return r.stdout, None
    with open(path, "rb") as f:
        return f.read(), None


def run_config(c, d):
    o = Obs()
    o.sig_sent = None
    o.usr1_sent = 0
    o.hung = False
    o.notes = []
    rng = random.Random(c.feed_seed)
    inpath = os.path.join(d, "in")
    with open(inpath, "wb") as f:
        f.write(c.raw)
    c.model_raw = c.raw
    c.stdin_desc = "< in"
    zpath = os.path.join(d, "in.zst")
    if c.input.startswith("zstd"):
        subprocess.run(["zstd", "-q", "-f", "-o", zpath, inpath], check=True)
        if c.input == "zstd-trunc":
            with open(zpath, "rb") as f:
                z = f.read()
            cut = rng.randint(len(z) // 2, len(z) - 1)
            with open(zpath, "wb") as f:
                f.write(z[:cut])
            # weir decodes what zstd -dc decodes, then reports the damage
            c.model_raw = subprocess.run(["zstd", "-dc", "-q", zpath], stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL).stdout
        if c.decompress == "no":
            with open(zpath, "rb") as f:
                c.model_raw = f.read()
        c.zlen = os.path.getsize(zpath)
    c.records = model.split_records(c.model_raw, c.delim)

    env = dict(os.environ, LC_ALL="C")
    threads = []
    producer = None
    stdin = None
    feed_w = None
    if c.input in ("file", "zstd-file", "zstd-trunc"):
        stdin = open(zpath if c.input != "file" else inpath, "rb")
        c.stdin_desc = "< " + ("in.zst" if c.input != "file" else "in")
    elif c.input in ("pipe", "trickle", "zstd-trickle"):
        r, feed_w = os.pipe()
        stdin = r
        c.stdin_desc = "< %s (through a pipe%s)" % (
            "in.zst" if c.input == "zstd-trickle" else "in",
            ", trickled in chunks of 1-64 bytes up to 2 ms apart" if "trickle" in c.input else "")
    elif c.input == "zstd-pipe":
        producer = subprocess.Popen(["zstd", "-q", "-c", inpath], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL)
        stdin = producer.stdout
        c.stdin_desc = "< <(zstd -q -c in)"

    outpath = os.path.join(d, "out")
    errf = open(os.path.join(d, "err"), "wb")
    sink = []
    stdout, c.stdout_desc = stdout_for(c.consumer, c.head, outpath)
    t0 = time.monotonic()
    rsspath = os.path.join(d, "rss")
    wrap = ([GNU_TIME, "-f", "%M", "-o", rsspath] if c.rss_check and GNU_TIME else [])
    p = subprocess.Popen(wrap + [WEIR] + c.args, stdin=stdin, stdout=stdout, stderr=errf, cwd=d,
                         env=env)
    proc = Proc(p)
    if isinstance(stdin, int):
        os.close(stdin)
    elif stdin is not None:
        stdin.close()
    head = consume_stdout(p, stdout, c.consumer, c.head, outpath, sink, rng, threads)
    if feed_w is not None:
        data = c.raw
        if c.input == "zstd-trickle":
            with open(zpath, "rb") as f:
                data = f.read()
        t = threading.Thread(target=feeder, args=(feed_w, data, "trickle" in c.input,
                                                  random.Random(c.feed_seed + 1)))
        threads.append(t)
        t.start()

    def signaller():
        sig, delay = c.signal
        if proc.wait_blocked([signal.SIGINT, signal.SIGTERM], 10 * SCALE):
            time.sleep(delay)
            if proc.send(sig):
                o.sig_sent = sig

    def storm():
        count, gap = c.usr1
        if proc.wait_blocked([signal.SIGUSR1], 10 * SCALE):
            for _ in range(count):
                if not proc.send(signal.SIGUSR1):
                    break
                o.usr1_sent += 1
                time.sleep(rng.uniform(0, gap))

    side = []
    if c.signal:
        side.append(threading.Thread(target=signaller))
    if c.usr1:
        side.append(threading.Thread(target=storm))
    for t in side:
        t.start()

    def hwm_poller():  # without GNU time: weir's VmHWM, read until it exits
        while True:
            with proc.lock:
                if not proc.alive:
                    return
                try:
                    with open("/proc/%d/status" % p.pid) as f:
                        m = re.search(r"^VmHWM:\s*(\d+)", f.read(), re.M)
                except OSError:
                    m = None
            if m:
                o.maxrss_kb = max(o.maxrss_kb, int(m.group(1)))
            time.sleep(0.002)

    o.maxrss_kb = 0
    if c.rss_check and not GNU_TIME:
        side.append(threading.Thread(target=hwm_poller))
        side[-1].start()
    o.code = wait_weir(proc, o)
    if wrap:
        try:
            with open(rsspath) as f:
                o.maxrss_kb = int(f.read().split()[-1])
        except (OSError, ValueError, IndexError):
            o.notes.append("no RSS from GNU time")
    o.wall = time.monotonic() - t0
    reap(o, side + threads, [head, producer])
    errf.close()
    o.raw_out = read_stdout(c.consumer, sink, outpath)
    o.out = o.raw_out
    o.out_error = None
    if c.compress:
        r = subprocess.run(["zstd", "-dc", "-q"], input=o.raw_out, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        o.out = r.stdout
        if r.returncode != 0:
            o.out_error = "zstd -dc of stdout failed: %s" % r.stderr.decode(errors="replace")
    with open(os.path.join(d, "err"), "rb") as f:
        o.err = f.read()
    o.rej = None
    o.rej_error = None
    if c.rejects:
        o.rej, o.rej_error = read_rejects(d, c.rejects)
    return o


# ---------------------------------------------------------------------------
# Checking one run

WARNINGS = [re.compile(x) for x in (
    rb"weir: record \d+ is longer than --max-record \d+ bytes: failed",
    rb"weir: (record|block) \d+: (co-process )?\S+ (exited with status \d+"
    rb"|killed by signal \d+ \([^)]*\)|timed out \(--job-timeout\)): failed",
    rb"weir: record \d+: holds a NUL byte, which \{\} cannot pass as an argument: failed",
    rb"weir: a record failed: stopping \(--on-error fail\)",
    rb"weir: stdin: (truncated|corrupt) zstd input.*",
    rb"weir: record \d+ was read only in part \(\d+ bytes\) when reading stopped: dropped",
    rb"weir: co-process \S+ has answered none of \d+ records? in \d+ s: .*",
)]
FURTHER = b" (further ones not reported)"
COUNTS = ("records_done", "records_dropped", "records_timed_out", "records_failed")


def is_subsequence(small, big):
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def subsequence_break(small, big):
    """Index in small of the first record that breaks the order, or None."""
    it = iter(big)
    for i, x in enumerate(small):
        if not any(x == y for y in it):
            return i
    return None


def lane_key(c, p):
    """The key weir gives payload p: its key, the empty one when it has none."""
    k = model.key_of(c.key, c.key_sep, p)
    return b"" if k is None else k


def keys_may_wait(c, recs):
    """Whether a record may wait in the queue's bounds for its key (or,
    sticky, for its worker) while a worker is idle: with lanes, unless
    every record has a key of its own."""
    return c.lanes and (c.key_sticky or len(set(lane_key(c, p) for p, _ in recs)) < len(recs))


KEY_FIGURES = ("keys_max", "key_waits", "records_unkeyed")


def check_key_figures(c, J, snaps, sent, kept, exact, P):
    """--key's figures in the summary and snapshots (there exactly with
    --key), against sent (the records read that may reach a worker: all
    but oversize ones), kept (those known to have reached one, or None) and
    exact (every record of sent reached a worker)."""
    for s in snaps + [J]:
        have = [k for k in KEY_FIGURES if k in s]
        if len(have) != (3 if c.key else 0):
            P.append("%s has %s%s" % ("the summary" if s is J else "a snapshot",
                                      ", ".join(have) or "no key figures",
                                      " with --key" if c.key else " without --key"))
            return
    if not c.key:
        return
    for a, b in zip(snaps, snaps[1:] + [J]):
        for k in KEY_FIGURES:
            if b[k] < a[k]:
                P.append("%s went down from %d to %d between snapshots" % (k, a[k], b[k]))
    unkeyed = lambda recs: sum(model.key_of(c.key, c.key_sep, p) is None  # noqa: E731
                               for p in recs)
    got, most = J["records_unkeyed"], unkeyed(sent)
    if got > most or (exact and got != most):
        P.append("records_unkeyed %d, want %s%d (records read without the key)" % (
            got, "" if exact else "at most ", most))
    elif kept is not None and got < unkeyed(kept):
        P.append("records_unkeyed %d < %d records without the key that were processed" % (
            got, unkeyed(kept)))
    keys = len(set(lane_key(c, p) for p in sent))
    waits = J["key_waits"]
    if not c.lanes:  # built-in operations keep input order: nothing waits
        if waits:
            P.append("key_waits %d with built-in operations" % waits)
        return
    if (J["records_done"] or got) and J["keys_max"] < 1:
        P.append("keys_max %d although records went through their lanes" % J["keys_max"])
    if J["keys_max"] > keys:
        P.append("keys_max %d > %d distinct keys read" % (J["keys_max"], keys))
    if waits > len(sent):
        P.append("key_waits %d > %d records" % (waits, len(sent)))
    # a record waits when --key-limit records of its key are in work, with
    # the worker that took it idle: never with K >= workers or unique keys
    if waits and (c.key_limit >= J["workers_requested"] or keys == len(sent)):
        P.append("key_waits %d with --key-limit %d, %d workers and %d keys for %d records" % (
            waits, c.key_limit, J["workers_requested"], keys, len(sent)))


def key_order_break(c, st, read, det_fail, O):
    """With one record of a key in work at a time: the first output record
    of O (whole records) that comes out before a record of its key read
    before it, as (its key, its index in O), or None. An output record that
    more than one key's records give tells nothing and is left out."""
    keys_of = collections.defaultdict(set)  # result -> keys of the records giving it
    want = collections.defaultdict(list)  # key -> its results, in input order
    for p, t in read:
        r = None if det_fail(p) else model.result(st, p, t, c.delim)
        if r is not None:
            k = lane_key(c, p)
            keys_of[r].add(k)
            want[k].append(r)
    got = collections.defaultdict(list)
    for i, r in enumerate(O):
        if len(keys_of.get(r, ())) == 1:
            got[next(iter(keys_of[r]))].append(i)
    for k, idx in got.items():
        b = subsequence_break([O[i] for i in idx], want[k])
        if b is not None:
            return k, idx[b]
    return None


def mem_bound(c, st):
    """Bytes of records that weir(1) DESCRIPTION lets be read but not yet
    written, for this configuration."""
    recs = c.records
    longest = max([len(p) + 1 for p, _ in recs] + [1])
    if c.max_record is not None:
        longest = min(longest, c.max_record + 1)
    cap_rec = c.cap if c.cap is not None else (1 << 60 if st["kind"] == "pipe" else 1024)
    capb = c.cap_bytes if c.cap_bytes is not None else 64 * M
    queue = min(capb + longest, cap_rec * longest)
    if c.slow or st["kind"] == "exec":
        batch = longest
    elif st["kind"] == "coproc":
        batch = 64 * longest
    elif st["kind"] == "pipe":
        batch = max(c.block or M, longest)
    else:
        batch = min(min(cap_rec, 4096) * longest, CHUNK + longest)
    jobs = c.j_eff * capb if st["kind"] != "ops" else 0
    return queue + (c.j_eff + 1) * batch + CHUNK + OUT_BUF + jobs


def parse_stderr(err, P):
    """weir's stderr, line by line: (final summaries, snapshots, the last
    JSON line, lines that are neither JSON nor a known warning). P gets the
    lines that are not one JSON object, or have no boolean "final"."""
    finals, snaps, last_json = [], [], None
    strange = []
    for ln in err.split(b"\n"):
        if not ln:
            continue
        if ln.startswith(b"{"):
            try:
                j = json.loads(ln)
            except ValueError:
                P.append("stderr line is not one JSON object: %r" % ln[:300])
                continue
            if j.get("final") is True:
                finals.append(j)
            elif j.get("final") is False:
                snaps.append(j)
            else:
                P.append("JSON line without a boolean final: %r" % ln[:300])
            last_json = j
        else:
            w = ln[:-len(FURTHER)] if ln.endswith(FURTHER) else ln
            if not any(r.fullmatch(w) for r in WARNINGS):
                strange.append(ln)
    return finals, snaps, last_json, strange


def the_summary(finals, last_json, P):
    """The one final summary, last of the JSON lines; None (P says why)
    when there is not exactly one."""
    if len(finals) != 1:
        P.append("%d summary lines with \"final\":true on stderr (want exactly 1)" % len(finals))
        return None
    if last_json is not finals[0]:
        P.append("a snapshot came after the final summary")
    return finals[0]


def rejected_records(o, delim, P):
    """The records of the rejects file (o.rej), whole ones: P says when
    reading it failed or it does not end with the delimiter."""
    if o.rej_error:
        P.append(o.rej_error)
    data = o.rej or b""
    if data and not data.endswith(delim):
        P.append("the rejects file does not end with the delimiter: ...%r" % data[-40:])
    return data.split(delim)[:-1] if data else []


def check_records_out(J, out, O, st, delim, want, P):
    """records_out against the records in out (O: out split after each
    delimiter; a COMMAND's output counts its delimiters); the output's
    records as a multiset against want, the model's (None: not known). The
    output's multiset."""
    n_out = len(O) if st["kind"] == "ops" else out.count(delim)
    if J["records_out"] != n_out:
        P.append("records_out %d != %d records written" % (J["records_out"], n_out))
    got = collections.Counter(O)
    if want is not None and got != want:
        extra, miss = got - want, want - got
        P.append("output differs from the model: %d records too many%s, %d missing%s" % (
            sum(extra.values()), " (e.g. %r)" % next(iter(extra))[:80] if extra else "",
            sum(miss.values()), " (e.g. %r)" % next(iter(miss))[:80] if miss else ""))
    return got


def check(c, o, baseline_kb):
    P = []
    st = c.stage
    delim = c.delim
    if o.hung:
        P.append("hang: killed after %.0f s" % (RUN_LIMIT * SCALE))
    if o.code < 0:
        P.append("weir was killed by signal %d" % -o.code)

    # stderr: JSON lines and known warnings only
    finals, snaps, last_json, strange = parse_stderr(o.err, P)
    san = [ln for ln in strange if re.search(rb"ERROR: \w+Sanitizer|^SUMMARY: |runtime error:", ln)]
    for ln in (san or strange)[:3]:
        P.append("%s on stderr: %r" % ("sanitizer report" if san else "unexpected line",
                                      ln[:300]))
    if len(strange) > 3:
        P.append("... and %d more unexpected stderr lines (see err)" % (len(strange) - 3))
    J = the_summary(finals, last_json, P)
    if J is None:
        return P

    # exit status
    job_fail_recs = [p for p, _ in c.records if st.get("job_fails") and st["fails"](p)]
    oversize = lambda p: c.max_record is not None and len(p) > c.max_record  # noqa: E731
    det_fail = lambda p: oversize(p) or st["fails"](p)  # noqa: E731
    trunc = c.input == "zstd-trunc" and c.decompress != "no"
    base = {1} if trunc else {0}
    extra = set()
    if c.policy == "fail":
        extra.add(75)
    if o.sig_sent:
        extra.add(SIGEXIT[o.sig_sent])
    if c.consumer == "head":
        extra.add(141)
    if c.on_error == "fail" and job_fail_recs:
        extra.add(1)
    allowed = base | extra
    if o.code not in allowed:
        P.append("exit %d, want one of %s" % (o.code, sorted(allowed)))
    if J.get("exit") != o.code:
        P.append("summary says exit %r, the process exited %d" % (J.get("exit"), o.code))
    complete = o.code in base and not (o.code == 1 and 1 in extra)
    if trunc:
        # weir decodes what zstd -dc writes at least, and may decode more
        # (zstd -dc drops its last partly filled output buffer): the input
        # is the prefix of the original that weir decoded
        got = J["bytes_in"]
        if complete and not len(c.model_raw) <= got <= len(c.raw):
            P.append("damaged zstd: bytes_in %d, zstd -dc decodes %d of %d" % (
                got, len(c.model_raw), len(c.raw)))
        elif got <= len(c.raw):
            c.model_raw = c.raw[:got]
            c.records = model.split_records(c.model_raw, delim)

    # counters
    n_in = J["records_in"]
    total = len(c.records)
    if n_in != sum(J[k] for k in COUNTS):
        P.append("records_in %d != done %d + dropped %d + timed_out %d + failed %d" % (
            (n_in,) + tuple(J[k] for k in COUNTS)))
    if J.get("in_flight") != 0:
        P.append("in_flight %r in the final summary" % J.get("in_flight"))
    if n_in > total:
        P.append("records_in %d but the input has %d records" % (n_in, total))
    if complete:
        if n_in != total:
            P.append("exit %d but records_in %d != %d input records" % (o.code, n_in, total))
        if J["bytes_in"] != len(c.model_raw):
            P.append("bytes_in %d != %d input bytes" % (J["bytes_in"], len(c.model_raw)))
        if c.input.startswith("zstd") and c.decompress != "no" and not trunc:
            if J.get("compressed_bytes_in") != c.zlen:
                P.append("compressed_bytes_in %r != %d" % (J.get("compressed_bytes_in"), c.zlen))
    read = c.records[:n_in]
    stopped = not complete
    # stopped early: dropping is allowed. Damaged zstd input and a closed
    # stdout in one run may exit 1 or 141 (weir(1) does not say which wins)
    signalled = o.code in (130, 143, 141) or (o.code == 1 and 1 in extra) or (
        o.code == 1 and trunc and c.consumer == "head")
    if J["records_dropped"] and c.policy not in ("drop", "drop-oldest") and not signalled:
        P.append("records_dropped %d under %s" % (J["records_dropped"], c.policy))
    if J["records_timed_out"] and c.policy != "timeout":
        P.append("records_timed_out %d under %s" % (J["records_timed_out"], c.policy))
    n_det = sum(1 for p, _ in read if det_fail(p))
    n_over = sum(1 for p, _ in read if oversize(p))
    if complete and not signalled and c.policy == "block" and J["records_failed"] != n_det:
        P.append("records_failed %d, want %d (records the stage fails)" % (
            J["records_failed"], n_det))
    if complete and c.policy != "fail" and J["records_failed"] > n_det:
        P.append("records_failed %d > %d records the stage fails" % (J["records_failed"], n_det))
    if complete and J["records_failed"] < n_over and c.policy != "fail":
        P.append("records_failed %d < %d oversize records" % (J["records_failed"], n_over))
    # no overload: when every record fits in the queue or with an idle
    # worker, no policy may shed ("a full queue with a worker idle is not an
    # overload", weir(1) POLICIES). Workers take one record at a time with
    # sleep/spin and -x; the byte bound and the output must not interfere.
    one_by_one = c.slow or st["kind"] == "exec"
    cap_rec = c.cap if c.cap is not None else 1024
    if one_by_one and c.policy != "block" and total <= cap_rec + c.j_eff and not c.rate \
            and not c.byte_rate and not o.sig_sent and c.consumer in ("file", "pipe") \
            and c.on_error != "fail" and not trunc and not keys_may_wait(c, c.records) \
            and (c.cap_bytes is None or c.cap_bytes >= len(c.model_raw)):
        c.overload_checked = True
        shed = J["records_dropped"] + J["records_timed_out"] + J["records_failed"] - n_det
        if o.code != 0 or shed:
            P.append("overload with %d records for -c %d and %d idle workers: exit %d, "
                     "%d records shed" % (total, cap_rec, c.j_eff, o.code, shed))
    if o.code == 75 and J["records_failed"] < 1:
        P.append("exit 75 but no record counted as failed")
    n_jobfail = sum(1 for p, _ in read if st.get("job_fails") and st["fails"](p)
                    and not oversize(p))
    if c.retries:
        want = st["retried"] if "retried" in st else c.retries * n_jobfail
        if complete and c.policy == "block" and J["records_retried"] != want:
            P.append("records_retried %d, want %d" % (J["records_retried"], want))
        if J["records_retried"] > want:
            P.append("records_retried %d > %d" % (J["records_retried"], want))
    elif J["records_retried"]:
        P.append("records_retried %d without --retries" % J["records_retried"])

    # the summary's other figures
    want_cap = c.cap if c.cap is not None else (None if st["kind"] == "pipe" else 1024)
    if J["queue_capacity"] != want_cap:
        P.append("queue_capacity %r, want %r" % (J["queue_capacity"], want_cap))
    if J["queue_capacity"] is not None and J["queue_max"] > J["queue_capacity"]:
        P.append("queue_max %d > queue_capacity %d" % (J["queue_max"], J["queue_capacity"]))
    if J["queue_capacity_bytes"] != (c.cap_bytes if c.cap_bytes is not None else 64 * M):
        P.append("queue_capacity_bytes %r" % J["queue_capacity_bytes"])
    if J["workers_requested"] != c.j_eff:
        P.append("workers_requested %r, want %d" % (J["workers_requested"], c.j_eff))
    if not 1 <= J["workers"] <= max(1, J["workers_requested"]):
        P.append("workers %r of %r requested" % (J["workers"], J["workers_requested"]))
    if J["policy"] != c.policy:
        P.append("policy %r, want %r" % (J["policy"], c.policy))
    lat = J["latency_ms"]
    seq = [lat[k] for k in ("p50", "p90", "p99", "p999", "max")]
    if seq != sorted(seq) or seq[0] < 0:
        P.append("latency percentiles out of order: %r" % lat)
    if c.rate and c.policy == "block" and complete:
        burst = c.burst or max(1, c.rate // 10)
        adm = J["records_done"]
        el = J["elapsed_s"]
        if adm > burst + c.rate * el * 1.02 + 1:
            P.append("rate: %d records done in %.3f s at -r %d/s burst %d" % (
                adm, el, c.rate, burst))
        if (adm - burst - n_over) / c.rate > el * 1.05 + 0.005:
            P.append("rate: %d records in %.3f s is faster than -r %d/s burst %d" % (
                adm, el, c.rate, burst))

    # snapshots
    prev = None
    for s in snaps + [J]:
        if s is not J:
            if "exit" in s:
                P.append("snapshot with an exit key")
            fl = s.get("in_flight")
            if fl is None or fl < 0 or s["records_in"] != sum(s[k] for k in COUNTS) + fl:
                P.append("snapshot: records_in %d != %s + in_flight %r" % (
                    s["records_in"], "+".join(str(s[k]) for k in COUNTS), fl))
        if prev is not None:
            for k in ("records_in", "records_done", "records_out", "bytes_in"):
                if s[k] < prev[k]:
                    P.append("%s went down from %d to %d between snapshots" % (k, prev[k], s[k]))
        prev = s

    # rejects: whole records, as many as shed or failed, all from the input
    R = None
    partial_ok = stopped
    if c.rejects:
        R = rejected_records(o, delim, P)
        shed = J["records_dropped"] + J["records_timed_out"] + J["records_failed"]
        if len(R) != shed:
            P.append("%d records in the rejects file, %d shed or failed" % (len(R), shed))
        # the last record read, cut short by the stop (read in part, or
        # oversize), is in the rejects as the part read, which bytes_in
        # counts: let the whole record stand for it
        if partial_ok and read:
            last, term = read[-1]
            full = sum(len(p) + (1 if t else 0) for p, t in read)
            cut_len = J["bytes_in"] - (full - len(last) - (1 if term else 0))
            if 0 < cut_len < len(last) and last[:cut_len] in R:
                R[len(R) - 1 - R[::-1].index(last[:cut_len])] = last
        left = collections.Counter(p for p, _ in read)
        stray = []
        for r in R:
            if left[r] > 0:
                left[r] -= 1
            else:
                stray.append(r)
        if stray:
            P.append("%d rejected records are not among the %d records read, first %r" % (
                len(stray), n_in, stray[0][:80]))
        missing = [p for p, _ in read if det_fail(p)]
        have = collections.Counter(R)
        for p in missing:
            if have[p] > 0:
                have[p] -= 1
            elif not (oversize(p) and p == read[-1][0] and stopped):
                P.append("record the stage fails is not in the rejects: %r" % p[:80])
                break

    # keys: the figures; exact when every record read reached a worker
    sent = [p for p, _ in read if not oversize(p)]
    kept = None
    if R is not None and not stopped:
        kept = list((collections.Counter(sent) - collections.Counter(R)).elements())
    exact = complete and not J["records_dropped"] and not J["records_timed_out"] and (
        c.policy != "fail" or J["records_failed"] == n_det)
    check_key_figures(c, J, snaps, sent, kept, exact, P)
    c.unkeyed_exact = exact

    # output
    if o.out_error:
        P.append(o.out_error)
    out = o.out
    last_open = c.records and not c.records[-1][1] and n_in == total
    F = []  # expected results of the records read, in order
    for i, (p, t) in enumerate(read):
        if det_fail(p):
            continue
        r = model.result(st, p, t, delim)
        if r is not None:
            F.append(r)
    want = None  # the expected multiset of output records
    if R is not None:
        kept = collections.Counter(p for p, _ in read)
        kept.subtract(collections.Counter(R))
        want = collections.Counter()
        for i, (p, t) in enumerate(read):
            if kept[p] > 0 and not det_fail(p):
                kept[p] -= 1
                r = model.result(st, p, t, delim)
                if r is not None:
                    want[r] += 1
    elif J["records_dropped"] + J["records_timed_out"] + J["records_failed"] == n_det:
        want = collections.Counter(F)
    # with unique records the rejects say which ones were shed, so the
    # ordered output is known exactly: Kseq
    Kseq = None
    if len(set(p for p, _ in read)) == len(read) and (R is not None or want is not None):
        gone = set(R or [])
        Kseq = [model.result(st, p, t, delim) for p, t in read
                if p not in gone and not det_fail(p)]
        Kseq = [r for r in Kseq if r is not None]
    O = model.split_output(out, delim)
    # built-in operations keep input order with --key, even with -u
    ordered = not c.unordered or (c.key and not c.lanes)
    if c.consumer != "head":
        if J["bytes_out"] != len(out):
            P.append("bytes_out %d != %d bytes written" % (J["bytes_out"], len(out)))
        if c.compress and o.code != 141 and J.get("compressed_bytes_out") != len(o.raw_out):
            P.append("compressed_bytes_out %r != %d" % (J.get("compressed_bytes_out"),
                                                        len(o.raw_out)))
        got = check_records_out(J, out, O, st, delim, want, P)
        if want is None and got - collections.Counter(F):
            P.append("output has records the model does not give: %r" % next(
                iter(got - collections.Counter(F)))[:80])
        if ordered:
            b = subsequence_break(O, F)
            if b is not None:
                P.append("output out of input order at output record %d: %r" % (b, O[b][:80]))
            elif Kseq is not None and O != Kseq and not P:
                P.append("output differs from the model's sequence")
        if last_open and O and st["kind"] == "ops" and O[-1].endswith(delim) and \
                model.result(st, *c.records[-1], delim) is not None and \
                not det_fail(c.records[-1][0]) and \
                (c.records[-1][0] not in R if R is not None else want is not None):
            P.append("the open last record came out with a delimiter")
    else:
        if len(o.raw_out) > c.head:
            P.append("head -c %d wrote %d bytes" % (c.head, len(o.raw_out)))
        whole = O[:-1] if O and not O[-1].endswith(delim) else O
        tail = O[-1] if O and not O[-1].endswith(delim) else None
        ref = want if want is not None else collections.Counter(F)
        if collections.Counter(whole) - ref:
            P.append("output (through head) has records the model does not give: %r" % next(
                iter(collections.Counter(whole) - ref))[:80])
        if ordered:
            b = subsequence_break(whole, F)
            if b is not None:
                P.append("output out of input order at output record %d" % b)
        if tail is not None and not any(r.startswith(tail) for r in F):
            P.append("the last bytes through head are no prefix of a result: %r" % tail[:80])
        full = b"".join(F)
        if ordered and Kseq is not None:
            # whole records are the model's, in order; the record cut short
            # by the close may count as dropped (and be in the rejects)
            kb = b"".join(Kseq)
            cut = out.rfind(delim) + 1
            if not kb.startswith(out[:cut]):
                at = next((i for i in range(cut) if i >= len(kb) or out[i] != kb[i]), cut)
                P.append("output through head is not a prefix of the model's output "
                         "(differs at byte %d of %d)" % (at, len(out)))
            elif o.code == 0 and out != kb[:c.head]:
                P.append("exit 0 but head got %d bytes, not the first %d of the output" % (
                    len(out), min(c.head, len(kb))))
        if c.policy == "block" and not o.sig_sent and complete and len(full) > c.head + 2 * M:
            P.append("exit 0 although head closed stdout %d bytes before the end" % (
                len(full) - c.head))

    # -u with lanes of one record at a time: each key's results in input order
    if c.lanes and c.unordered and c.key_limit == 1 and st["one_each"]:
        c.key_order_checked = True
        whole = O[:-1] if O and not O[-1].endswith(delim) else O
        b = key_order_break(c, st, read, det_fail, whole)
        if b is not None:
            P.append("key %r out of input order (--key-limit 1, -u) at output record %d: %r" % (
                b[0][:40], b[1], whole[b[1]][:80]))

    # memory
    if c.rss_check and baseline_kb:
        bound = mem_bound(c, st)
        slack = 8 * M + (8 * M if c.input.startswith("zstd") else 0) + (4 * M if c.compress
                                                                         else 0)
        limit_kb = baseline_kb + (2 * bound + slack) // K
        o.notes.append("RSS %d KiB, limit %d KiB (bound %d KiB, input %d KiB)" % (
            o.maxrss_kb, limit_kb, bound // K, len(c.model_raw) // K))
        if o.maxrss_kb > limit_kb:
            P.append("peak RSS %d KiB > %d KiB: baseline %d + 2 x bound %d + slack %d" % (
                o.maxrss_kb, limit_kb, baseline_kb, bound // K, slack // K))
    return P


# ---------------------------------------------------------------------------
# Reporting


def describe_input(c):
    recs = c.records
    first = ", ".join(repr(p[:24]) + ("..." if len(p) > 24 else "") for p, _ in recs[:3])
    s = "%s, %d records, %d bytes, delimiter %r (%s)%s" % (
        c.shape, len(recs), len(c.model_raw), c.delim, c.dname,
        ", last record unterminated" if recs and not recs[-1][1] else "")
    if c.max_record is not None:
        s += ", --max-record %d" % c.max_record
    if c.input.startswith("zstd"):
        s += ", zstd (%s%s, %d bytes compressed)" % (
            c.input, ", --decompress no" if c.decompress else "", c.zlen)
    return s + (": " + first if first else "")


def describe_cmd(c, d):
    s = "cd %s && %s %s %s 2> err" % (shlex.quote(d), shlex.quote(WEIR),
                                      shlex.join(c.args), c.stdin_desc)
    s += " " + c.stdout_desc
    if c.signal:
        s += "  [%s after %.0f ms]" % (SIGNAMES[c.signal[0]], c.signal[1] * 1000)
    if c.usr1:
        s += "  [%d x SIGUSR1, up to %.1f ms apart]" % (c.usr1[0], c.usr1[1] * 1000)
    return s


def replay_line(seed):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rel = os.path.relpath(WEIR, root)
    m = re.fullmatch(r"build/(check|asan|tsan)/weir", rel)
    if rel == "weir" or m:
        variant = " VARIANT=" + m.group(1) if m else ""
        cc = " CC=clang" if m and m.group(1) != "check" else ""
        return "PROPS_SEED=%d PROPS_N=1 make%s%s check-props" % (seed, variant, cc)
    return "PROPS_SEED=%d PROPS_N=1 WEIR=%s python3 tests/props/props.py" % (
        seed, shlex.quote(WEIR))


def fail_details(c, d):
    """What print_run shows of a failed configuration."""
    yield "replay", replay_line(c.seed)
    yield "command", describe_cmd(c, d)
    yield "input", describe_input(c)


def baseline_rss():
    """Peak RSS of weir on a small input, for the memory check."""
    best = 0
    if not GNU_TIME:
        return 8 * K  # a generous guess: VmHWM polling sees weir's own pages only
    with tempfile.TemporaryDirectory() as d:
        for args in (["-j", "4", "-e", "upper"], ["-j", "4", "-z"]):
            path = os.path.join(d, "rss")
            subprocess.run([GNU_TIME, "-f", "%M", "-o", path, WEIR, "-q"] + args,
                           input=b"x" * 100 + b"\n" * 1000, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            with open(path) as f:
                best = max(best, int(f.read().split()[-1]))
    return best


def run_and_check(run, check_run, d, keep):
    """(o, P) of o = run() and P = check_run(o); an exception from either
    (a bug in the runner) is a failure too, with o None. d, the run's
    directory, is removed when the run passed, unless keep."""
    try:
        o = run()
        P = check_run(o)
    except Exception as e:
        import traceback
        o = None
        P = ["runner error: %s\n%s" % (e, traceback.format_exc())]
    if not P and not keep:
        shutil.rmtree(d, ignore_errors=True)
    return o, P


def one(i, seed, tmp, baseline_kb, keep):
    c = gen_config(seed)
    d = tempfile.mkdtemp(prefix="props-%d-" % seed, dir=tmp)
    o, P = run_and_check(lambda: run_config(c, d), lambda o: check(c, o, baseline_kb), d, keep)
    return i, c, o, P, d


def settings(default_n):
    """(seed, n, jobs, repeat, keep, verbose, tmp) from PROPS_SEED, PROPS_N
    (default default_n), PROPS_J, PROPS_REPEAT, PROPS_KEEP, PROPS_VERBOSE and
    PROPS_TMP; ValueError when one of the first four is no integer."""
    seed = int(os.environ.get("PROPS_SEED") or random.SystemRandom().randrange(1, 1 << 31))
    n = int(os.environ.get("PROPS_N") or default_n)
    jobs = int(os.environ.get("PROPS_J") or 2)
    repeat = int(os.environ.get("PROPS_REPEAT") or 1)
    keep = os.environ.get("PROPS_KEEP") == "1"
    verbose = os.environ.get("PROPS_VERBOSE") == "1"
    tmp = os.environ.get("PROPS_TMP") or tempfile.gettempdir()
    return seed, n, jobs, repeat, keep, verbose, tmp


def count_config(cover, c):
    """Count what both runners draw alike in cover: policy, stage, shape,
    delimiter, order."""
    cover["policy"][c.policy] += 1
    cover["stage"][c.stage["name"]] += 1
    cover["shape"][c.shape] += 1
    cover["delimiter"][c.dname] += 1
    cover["order"]["-u" if c.unordered else "ordered"] += 1


def print_run(name, i, n, c, o, P, d, verbose, failed, details):
    """Print a line for configuration i of n with verbose; for a failure
    (P), add its seed to failed and print what it was: details, (label,
    text) pairs taken one at a time as printed (a generator), then the
    directory kept, what broke, stderr's end."""
    if verbose:
        print("%s: %4d seed %d %s exit %s %.2fs %s" % (
            name, i, c.seed, "FAIL" if P else "ok", o.code if o else "?",
            o.wall if o else 0, shlex.join(c.args)), flush=True)
    if not P:
        return
    if c.seed not in failed:
        failed.append(c.seed)
    print("%s: FAIL configuration %d of %d, seed %d" % (name, i + 1, n, c.seed))
    for label, text in details:
        print("  %s: %s" % (label, text))
    print("  files kept in %s" % d)
    for x in P:
        print("  broke: %s" % x)
    if o is not None:
        for x in o.err.decode(errors="replace").splitlines()[-4:]:
            print("  stderr: %s" % x[:400])
    sys.stdout.flush()


def main():
    try:
        seed, n, jobs, repeat, keep, verbose, tmp = settings(200)
    except ValueError:
        print("props: PROPS_SEED, PROPS_N and PROPS_J are integers", file=sys.stderr)
        return 2
    if not os.access(WEIR, os.X_OK):
        print("props: no weir at %s (set WEIR)" % WEIR, file=sys.stderr)
        return 2
    print("props: PROPS_SEED=%d PROPS_N=%d, %d at a time, WEIR=%s%s%s" % (
        seed, n, jobs, WEIR, " (sanitized: no RSS checks, longer limits)" if SANITIZED else "",
        "" if HAVE_ZSTD else " (no zstd CLI: no zstd input)"), flush=True)
    baseline_kb = 0 if SANITIZED else baseline_rss()
    if baseline_kb:
        print("props: baseline peak RSS %d KiB (%s)" % (
            baseline_kb, "GNU time" if GNU_TIME else "a guess: no GNU time, VmHWM polled"))
    t0 = time.monotonic()
    cover = collections.defaultdict(collections.Counter)
    failed = []
    notes = []
    walls = []
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        futs = [ex.submit(one, i, seed + i, tmp, baseline_kb, keep) for i in range(n)
                for _ in range(repeat)]
        for f in futs:
            i, c, o, P, d = f.result()
            count_config(cover, c)
            cover["input"][c.input] += 1
            cover["consumer"][c.consumer] += 1
            cover["flags"].update(
                k for k, v in (("rejects", c.rejects), ("rejects.zst", c.rejects == "rej.zst"),
                               ("-z", c.compress), ("-r", c.rate), ("--byte-rate", c.byte_rate),
                               ("-i", c.interval), ("--max-record", c.max_record is not None),
                               ("slow op", c.slow), ("--retries", c.retries),
                               ("--on-error fail", c.on_error == "fail"),
                               ("--decompress no", c.decompress),
                               ("RSS checked", c.rss_check),
                               ("no-overload checked", getattr(c, "overload_checked", False)))
                if v)
            if c.key:
                cover["keys"].update(k for k, v in (
                    ("re:" if c.key.startswith("re:") else "N,M" if "," in c.key else "N", True),
                    ("-F", c.key_f), ("--key-limit 2", c.key_limit == 2),
                    ("--key-sticky", c.key_sticky), ("lanes", c.lanes),
                    ("keyed shape", c.shape == "keyed"),
                    ("unkeyed exact", getattr(c, "unkeyed_exact", False)),
                    ("key order checked", getattr(c, "key_order_checked", False))) if v)
            if o is not None:
                cover["exit"][str(o.code)] += 1
                if o.sig_sent:
                    cover["signal sent"][SIGNAMES[o.sig_sent]] += 1
                if o.usr1_sent:
                    cover["signal sent"]["SIGUSR1 storm"] += 1
                notes += ["seed %d: %s" % (c.seed, x) for x in o.notes]
                walls.append((o.wall, c.seed))
            print_run("props", i, n, c, o, P, d, verbose, failed, fail_details(c, d))
    el = time.monotonic() - t0
    if verbose:
        for x in notes:
            print("props: note: %s" % x)
    for k in ("policy", "stage", "shape", "input", "consumer", "delimiter", "order", "flags",
              "keys", "signal sent", "exit"):
        items = sorted(cover[k].items(), key=lambda kv: (-kv[1], kv[0]))
        print("props: %-11s %s" % (k, ", ".join("%s %d" % kv for kv in items)))
    walls.sort(reverse=True)
    if walls:
        print("props: slowest runs: %s" % ", ".join("seed %d %.2f s" % (s, w) for w, s in
                                                    walls[:3]))
    print("props: %d configurations%s, %d failed, %.1f s (PROPS_SEED=%d)" % (
        n, " x %d" % repeat if repeat > 1 else "", len(failed), el, seed))
    if failed:
        print("props: failed seeds: %s" % " ".join(map(str, failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
