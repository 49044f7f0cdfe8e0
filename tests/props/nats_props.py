#!/usr/bin/env python3
"""nats_props.py - seeded random-configuration property runner for weir
reading a NATS JetStream durable pull consumer (weir --nats URL --from
STREAM/CONSUMER; weir(1), NATS JETSTREAM).

One real `nats-server -js` runs for the whole run, on a free loopback port
with its store in a temporary directory. Each configuration is drawn from
one seed, as in props.py: a fresh stream and subject, the records published
to it (none to 3000, of random lengths, empty ones, binary bytes, records
around --max-record, newlines inside the payloads with -0 or -d ,), a
consumer of its own (made by natstool, or by weir), policy, queue bounds,
workers, order, a stage whose effect model.py computes (built-in operations,
or a COMMAND per record, as a co-process or per block), a rejects file or
--rejects-subject (with a stream for it, or once in a while none), a
consumer of stdout (a file, a pipe, a slow reader, head -c), --idle-exit,
and sometimes SIGINT or SIGTERM mid-run. weir runs with --stats json, and
the run is checked against weir(1):

  1. the exit status is one the man page allows (0; 75 for fail; 130/143
     after a signal; 141 after head; 1 for --on-error fail or a rejects
     subject no stream takes), and the summary's "exit" says the same;
  2. records_in == done + dropped + timed_out + failed (in_flight 0), the
     snapshots too with in_flight; records_returned <= records_dropped;
     all messages read and none returned when the run was not stopped;
  3. no record lost: every published message is in exactly one of the
     output (through the model), the rejects (file or stream), or still in
     the stream for the consumer, as multisets: the stream's part is
     fetched after the run, and its messages are exactly the ones weir
     never read (in publish order) and the records_returned ones it handed
     back (delivered once before);
  4. acks: the consumer then holds no message unacknowledged but the ones
     weir handed back (num_ack_pending == records_returned: the server keeps
     a nak'd message pending until it delivers it again), and num_pending
     is the messages weir did not read;
  5. with ordered output, the output is the model's in publish order (the
     order of fetching), exactly when payloads are unique;
  6. records_redelivered == 0, nats_reconnects == 0.

README.md in this directory lists what is drawn and checked.

Environment (as props.py):
  WEIR           weir binary (default ./weir)
  NATSTOOL       tests/nats/natstool.c built (default: natstool next to WEIR)
  PROPS_SEED     base seed (default: random); configuration i uses seed
                 PROPS_SEED + i, so PROPS_SEED=S PROPS_N=1 replays one
  PROPS_N        number of configurations (default 20)
  PROPS_J        runs at a time (default 2)
  PROPS_REPEAT   run each configuration this many times (default 1)
  PROPS_KEEP     1: keep every run's directory (failed runs are always kept)
  PROPS_VERBOSE  1: print a line per configuration
  PROPS_TMP      where run directories and the server's store go

Exit status 0 when every configuration passed, 1 otherwise, 2 on misuse or
when nats-server or natstool is missing.
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
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import model  # noqa: E402
import props  # noqa: E402  (the stdin runner: its helpers, WEIR and SCALE)

K = props.K
WEIR = props.WEIR
SCALE = props.SCALE
RUN_LIMIT = props.RUN_LIMIT  # seconds one run may take before it counts as hung
HAVE_ZSTD = props.HAVE_ZSTD
ROOT = os.path.dirname(os.path.dirname(HERE))


def default_natstool():
    """natstool next to the weir under test; for ./weir, the release one
    (as tests/cli/nats_helper.bash)."""
    path = os.path.join(os.path.dirname(WEIR), "natstool")
    if not os.access(path, os.X_OK) and os.path.abspath(WEIR) == os.path.join(ROOT, "weir"):
        path = os.path.join(ROOT, "build", "release", "natstool")
    return path


NATSTOOL = os.path.abspath(os.environ.get("NATSTOOL") or default_natstool())


def variant():
    """The build variant of WEIR (check, asan, tsan, release) or None."""
    rel = os.path.relpath(WEIR, ROOT)
    if rel == "weir":
        return "release"
    m = re.fullmatch(r"build/(check|asan|tsan|release)/weir", rel)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------
# The server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """nats-server -js on a free loopback port, store and log in d."""

    def __init__(self, d):
        self.d = d
        self.p = None
        self.log = os.path.join(d, "nats-server.log")

    def start(self):
        for _ in range(5):  # another process may take the port first
            self.port = free_port()
            self.url = "nats://127.0.0.1:%d" % self.port
            logf = open(self.log, "ab")
            skip = os.path.getsize(self.log)
            self.p = subprocess.Popen(
                ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.port),
                 "-sd", os.path.join(self.d, "store")],
                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)  # a ^C reaches the runner, which stops it
            logf.close()
            end = time.monotonic() + 10 * SCALE
            while time.monotonic() < end and self.p.poll() is None:
                with open(self.log, "rb") as f:
                    f.seek(skip)
                    ready = b"Server is ready" in f.read()
                if ready:
                    try:
                        socket.create_connection(("127.0.0.1", self.port), 1).close()
                        return None
                    except OSError:
                        pass
                time.sleep(0.01)
            self.stop()
        with open(self.log, "rb") as f:
            tail = f.read().decode(errors="replace").splitlines()[-5:]
        return "nats-server did not start; the end of %s:\n  %s" % (self.log, "\n  ".join(tail))

    def stop(self):
        if self.p is None:
            return
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p = None


class ToolError(Exception):
    pass


def natstool(url, *args, data=None):
    r = subprocess.run([NATSTOOL, url] + list(args), input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60 * SCALE)
    if r.returncode != 0:
        raise ToolError("natstool %s: exit %d: %s" % (
            " ".join(args), r.returncode, r.stderr.decode(errors="replace").strip()))
    return r.stdout


def fetch_all(url, stream, consumer):
    """Every message the consumer hands out now, acked (natstool fetch):
    [(payload, stream sequence, times delivered)]."""
    b = natstool(url, "fetch", stream, consumer)
    out = []
    i = 0
    while i < len(b):  # "SEQ DELIVERED LEN\n", LEN bytes, "\n"
        j = b.find(b"\n", i)
        w = b[i:j].split() if j >= 0 else []
        if len(w) != 3 or not all(x.isdigit() for x in w):
            raise ToolError("natstool fetch %s %s: no header at byte %d: %r" % (
                stream, consumer, i, b[i:i + 80]))
        seq, dc, n = map(int, w)
        if b[j + 1 + n:j + 2 + n] != b"\n":
            raise ToolError("natstool fetch %s %s: message %d is not %d bytes and a newline" % (
                stream, consumer, seq, n))
        out.append((b[j + 1:j + 1 + n], seq, dc))
        i = j + 2 + n
    return out


# ---------------------------------------------------------------------------
# Configuration

DELIMS = {  # name: (byte, weir flags, weight, natstool pub flags)
    "nl": (b"\n", [], 65, []),
    "nul": (b"\0", ["-0"], 25, ["-0"]),
    "comma": (b",", ["-d", ","], 10, ["--delim", ","]),
}


def lines_payload(rng, i, delim):
    """Text with newlines inside (for a delimiter other than newline)."""
    p = bytearray(props.text_payload(rng, i))
    for _ in range(rng.randint(1, 3)):
        p.insert(rng.randint(0, len(p)), 10)
    return bytes(p)


def gen_payloads(rng, shape, delim, n, max_record):
    if shape == "empty":
        return []
    if shape == "one":
        return [props.text_payload(rng, None, 0, 30)]
    if shape == "text":
        return [props.text_payload(rng, i) for i in range(n)]
    if shape == "dups":
        pool = [props.text_payload(rng, None, 0, 4) for _ in range(rng.randint(1, 5))]
        return [rng.choice(pool) for _ in range(n)]
    if shape == "binary":
        return [props.binary_payload(rng, delim) for _ in range(n)]
    if shape == "empties":
        return [b"" if rng.random() < 0.5 else props.text_payload(rng, i, 0, 3) for i in range(n)]
    if shape == "lines":
        return [lines_payload(rng, i, delim) if rng.random() < 0.5 else props.text_payload(rng, i)
                for i in range(n)]
    if shape == "maxrec":
        m = max_record
        lens = [0, max(0, m - 1), m, m + 1, 2 * m, m + 100]
        return [props.long_text(rng, rng.choice(lens), b"%d:" % i) for i in range(n)]
    raise ValueError(shape)


class Config:
    pass


def gen_config(seed, rep):
    rng = random.Random(seed)
    c = Config()
    c.seed = seed
    tag = "%d" % seed if rep == 0 else "%d_%d" % (seed, rep)
    c.stream, c.subject, c.consumer = "P" + tag, "p%s.in" % tag, "C" + tag
    c.rstream, c.rsubject = "R" + tag, "p%s.rej" % tag
    c.dname = props.pick(rng, ((k, v[2]) for k, v in DELIMS.items()))
    c.delim, c.dflags, _, c.pub_flags = DELIMS[c.dname]

    c.policy, c.timeout = props.draw_policy(rng)

    kind = props.pick(rng, (("ops", 55), ("exec", 12), ("coproc", 20), ("pipe", 13)))
    # a slow stage makes the shedding policies shed
    c.stage, c.slow = props.draw_stage(rng, kind, c.delim, 0.3 if c.policy == "block" else 0.5)
    st = c.stage

    c.max_record = None
    if rng.random() < 0.2:
        c.max_record = rng.choice([1, 2, 8, 64, 1000, 4096])
    shapes = [("empty", 4), ("one", 6), ("text", 34), ("dups", 8), ("binary", 12),
              ("empties", 8), ("maxrec", 25 if c.max_record else 0),
              ("lines", 12 if c.delim != b"\n" else 0)]
    if st["text"]:
        shapes = [s for s in shapes if s[0] in ("empty", "one", "text", "dups", "empties")]
    c.shape = props.pick(rng, shapes)
    n = props.pick(rng, ((2, 2), (5, 2), (30, 3), (100, 3), (300, 3), (1000, 3), (3000, 3)))
    c.j = rng.choice([None, 0, 1, 1, 2, 2, 3, 4])
    c.j_eff = props.NPROC if not c.j else c.j
    if kind == "exec":
        n = min(n, 30)
    elif kind == "pipe":
        n = min(n, 300)
    elif kind == "coproc":
        n = min(n, 1000)
    if c.shape == "maxrec":
        n = min(n, 100)
    if c.slow:
        n = min(n, max(2, int(0.2 * c.j_eff / props.dur_s(c.slow.split(":")[1]))))
    c.payloads = gen_payloads(rng, c.shape, c.delim, n, c.max_record or 16 * props.M)

    # queue, workers, order
    c.cap = rng.choice([None, None, 1, 2, 3, 8, 64, 1000])
    c.cap_bytes = rng.choice([None, None, None, 1, 100, 4 * K, 64 * K, props.M])
    c.unordered = rng.random() < 0.4

    props.draw_blocks(rng, c, kind)
    c.on_error = c.retries = None
    if kind != "ops":
        if st.get("job_fails") and rng.random() < 0.3:
            c.on_error = "fail"
        if kind in ("exec", "pipe") and rng.random() < 0.25:
            c.retries = rng.choice([1, 2])
    if kind == "pipe" and (c.block_records == 1 or (c.block or props.M) < 64):
        c.payloads = c.payloads[:40]
    # weir pulls no more than a queue's worth: a small queue takes a round
    # trip to the server every record or two
    if (c.cap is not None and c.cap <= 3) or (c.cap_bytes is not None and c.cap_bytes <= 100):
        c.payloads = c.payloads[:300]

    # the consumer and its creator; the rejects
    c.made_by = "natstool" if rng.random() < 0.6 else "weir"
    c.filter = c.made_by == "natstool" and rng.random() < 0.4
    c.subject_flag = (c.made_by == "weir" or c.filter) and rng.random() < 0.5
    c.rejects = props.pick(rng, (("file", 40), ("subject", 35), ("none", 25)))
    c.rej_file = None
    c.rej_stream = True
    if c.rejects == "file":
        c.rej_file = "rej.zst" if HAVE_ZSTD and rng.random() < 0.2 else "rej"
    elif c.rejects == "subject":
        c.rej_stream = rng.random() > 0.06  # else: a subject no stream takes
    c.idle = "%dms" % rng.randint(200, 500)
    c.interval = rng.choice(["20ms", "50ms"]) if rng.random() < 0.1 else None

    # stdout
    est_out = sum(len(p) + 8 for p in c.payloads) + 16
    cons = [("file", 45), ("pipe", 30), ("slow", 15 if est_out <= 16 * K else 0), ("head", 10)]
    c.out = props.pick(rng, cons)
    c.head = None
    if c.out == "head":
        c.head = rng.choice([0, 1, rng.randint(0, est_out), rng.randint(0, 2 * est_out)])

    # a signal at a random time from the start, or once output has come
    # (then records are in flight more often)
    c.signal = None
    if rng.random() < 0.25:
        c.signal = (rng.choice([signal.SIGINT, signal.SIGTERM]),
                    rng.uniform(0, rng.choice([0.005, 0.05, 0.3])),
                    rng.random() < 0.6)
    c.feed_seed = rng.getrandbits(32)
    return c


def build_args(c, url):
    rng = random.Random(c.feed_seed)
    a = ["--nats", url, "--from", "%s/%s" % (c.stream, c.consumer)]
    if c.subject_flag:
        a += ["--subject", c.subject]
    a += ["--idle-exit", c.idle]
    a += ["--stats", "json"] if rng.random() < 0.5 else ["--stats=json"]
    a += c.dflags
    if c.max_record is not None:
        a += ["--max-record", props.size_str(c.max_record)]
    if c.cap is not None:
        a += ["-c", str(c.cap)]
    if c.cap_bytes is not None:
        a += ["--capacity-bytes", props.size_str(c.cap_bytes)]
    if c.j is not None:
        a += ["-j", str(c.j)]
    if c.unordered:
        a += ["-u"]
    a += ["-p", c.policy]
    if c.timeout is not None:
        a += ["-t", c.timeout]
    if c.rej_file:
        a += ["--rejects", c.rej_file]
    elif c.rejects == "subject":
        a += ["--rejects-subject", c.rsubject]
    if c.interval:
        a += ["-i", c.interval]
    st = c.stage
    if st["kind"] == "ops":
        return a + st["args"]
    return a + props.command_args(c) + st["flag"] + ["--"] + st["argv"]


# ---------------------------------------------------------------------------
# Running one configuration


class Obs:
    pass


def publish(c, url, data):
    """The stream, the payloads in it (data: each one and the delimiter,
    which no payload holds), the rejects stream, the consumer."""
    if any(c.delim in p for p in c.payloads):
        raise ValueError("a payload holds the delimiter %r" % c.delim)
    natstool(url, "stream-add", c.stream, c.subject)
    if c.payloads:
        natstool(url, "pub", c.subject, *c.pub_flags, data=data)
    if c.rejects == "subject" and c.rej_stream:
        natstool(url, "stream-add", c.rstream, c.rsubject)
    if c.made_by == "natstool":
        natstool(url, "consumer-add", c.stream, c.consumer,
                 *(["--filter", c.subject] if c.filter else []))


def info(c, url):
    return json.loads(natstool(url, "info", c.stream, c.consumer))


def run_config(c, d, server):
    url = server.url
    o = Obs()
    o.sig_sent = None
    o.hung = False
    o.notes = []
    rng = random.Random(c.feed_seed)
    c.args = build_args(c, url)
    # what was published: each payload ended with the delimiter (natstool
    # pub with the delimiter's flag, as describe_setup says)
    data = b"".join(p + c.delim for p in c.payloads)
    with open(os.path.join(d, "in"), "wb") as f:
        f.write(data)
    publish(c, url, data)

    outpath = os.path.join(d, "out")
    errf = open(os.path.join(d, "err"), "wb")
    sink = []
    threads = []
    stdout, c.stdout_desc = props.stdout_for(c.out, c.head, outpath)
    t0 = time.monotonic()
    p = subprocess.Popen([WEIR] + c.args, stdin=subprocess.DEVNULL, stdout=stdout,
                         stderr=errf, cwd=d, env=dict(os.environ, LC_ALL="C"))
    proc = props.Proc(p)
    head = props.consume_stdout(p, stdout, c.out, c.head, outpath, sink, rng, threads)

    def output_came():
        if sink:
            return True
        try:
            return os.path.getsize(outpath) > 0
        except OSError:
            return False

    def signaller():
        sig, delay, after_output = c.signal
        if not proc.wait_blocked([signal.SIGINT, signal.SIGTERM], 10 * SCALE):
            return
        if after_output:
            end = time.monotonic() + 10 * SCALE
            while proc.blocked([]) is not None and not output_came() and \
                    time.monotonic() < end:
                time.sleep(0.001)
        time.sleep(delay)
        if proc.send(sig):
            o.sig_sent = sig

    if c.signal:
        threads.append(threading.Thread(target=signaller))
        threads[-1].start()

    o.code = props.wait_weir(proc, o)
    o.wall = time.monotonic() - t0
    props.reap(o, threads, [head])
    errf.close()
    o.out = props.read_stdout(c.out, sink, outpath)
    with open(os.path.join(d, "err"), "rb") as f:
        o.err = f.read()
    J = final_summary(o.err)

    # the consumer as weir left it: wait a while for acks and naks in
    # flight to be processed, then take what it still holds
    want = None
    if J is not None and isinstance(J.get("records_returned"), int):
        want = (J["records_returned"], len(c.payloads) - J["records_in"])
    end = time.monotonic() + 5 * SCALE
    while True:
        o.info = info(c, url)
        if want is None or (o.info["num_ack_pending"], o.info["num_pending"]) == want \
                or time.monotonic() > end:
            break
        time.sleep(0.05)
    o.fetched = fetch_all(url, c.stream, c.consumer)

    o.rej = None
    o.rej_error = None
    if c.rej_file:
        o.rej, o.rej_error = props.read_rejects(d, c.rej_file)
    elif c.rejects == "subject" and c.rej_stream:
        natstool(url, "consumer-add", c.rstream, "check")
        o.rej_msgs = [m[0] for m in sorted(fetch_all(url, c.rstream, "check"),
                                           key=lambda m: m[1])]
    return o


# ---------------------------------------------------------------------------
# Checking one run

COUNTS = props.COUNTS
REJ_BROKEN = re.compile(rb"weir: --rejects-subject \S+: No responders available for request: "
                        rb"stopping")


def final_summary(err):
    finals = [ln for ln in err.split(b"\n") if ln.startswith(b"{") and b'"final":true' in ln]
    try:
        return json.loads(finals[-1]) if finals else None
    except ValueError:
        return None


def check(c, o):
    P = []
    st = c.stage
    delim = c.delim
    pub = c.payloads
    N = len(pub)
    if o.hung:
        P.append("hang: killed after %.0f s" % (RUN_LIMIT * SCALE))
    if o.code < 0:
        P.append("weir was killed by signal %d" % -o.code)

    # stderr: JSON lines and known warnings only (props.WARNINGS: --max-record,
    # failed jobs, --on-error fail), and the stop when no stream takes rejects
    finals, snaps, last_json, strange = props.parse_stderr(o.err, P)
    if c.rejects == "subject" and not c.rej_stream:
        strange = [ln for ln in strange if not REJ_BROKEN.fullmatch(ln)]
    for ln in strange[:3]:
        P.append("unexpected line on stderr: %r" % ln[:300])
    J = props.the_summary(finals, last_json, P)
    if J is None:
        return P
    for k in COUNTS + ("records_in", "records_returned", "records_redelivered",
                       "nats_reconnects", "bytes_in", "bytes_out", "records_out"):
        if not isinstance(J.get(k), int):
            P.append("no %s in the summary" % k)
            return P

    # 1. exit status
    oversize = lambda p: c.max_record is not None and len(p) > c.max_record  # noqa: E731
    det_fail = lambda p: oversize(p) or st["fails"](p)  # noqa: E731
    job_fail = [p for p in pub if st.get("job_fails") and st["fails"](p) and not oversize(p)]
    allowed = {0}
    if c.policy == "fail":
        allowed.add(75)
    if o.sig_sent:
        allowed.add(props.SIGEXIT[o.sig_sent])
    if c.out == "head":
        allowed.add(141)
    if c.on_error == "fail" and job_fail:
        allowed.add(1)
    if c.rejects == "subject" and not c.rej_stream:
        allowed.add(1)
    if o.code not in allowed:
        P.append("exit %d, want one of %s" % (o.code, sorted(allowed)))
    if J.get("exit") != o.code:
        P.append("summary says exit %r, the process exited %d" % (J.get("exit"), o.code))
    # a clean stop hands back what did not finish (NATS JETSTREAM,
    # Acknowledgements): a signal, stdout closed, --on-error fail; and a
    # rejects subject that fails, whose records go back to the stream
    stopped = o.code in (130, 143, 141, 1)

    # 2. the summary
    n_in = J["records_in"]
    ret = J["records_returned"]
    if n_in != sum(J[k] for k in COUNTS):
        P.append("records_in %d != done %d + dropped %d + timed_out %d + failed %d" % (
            (n_in,) + tuple(J[k] for k in COUNTS)))
    if J.get("in_flight", 0) != 0:
        P.append("in_flight %r in the final summary" % J.get("in_flight"))
    # records_returned: "messages handed back to the stream unfinished at a
    # stop (they also count as dropped)". A --rejects-subject no stream takes
    # hands back what it could not publish, which was shed or failed, as
    # --to does with failed records (weir(1) says nothing of the counts)
    rej_broken = c.rejects == "subject" and not c.rej_stream and o.code == 1
    shed_all = J["records_dropped"] + J["records_timed_out"] + J["records_failed"]
    if ret > J["records_dropped"] and not rej_broken:
        P.append("records_returned %d > records_dropped %d" % (ret, J["records_dropped"]))
    elif ret > shed_all:
        P.append("records_returned %d > %d dropped, timed out or failed" % (ret, shed_all))
    if n_in > N:
        P.append("records_in %d but %d messages were published" % (n_in, N))
    if J["records_redelivered"] != 0:
        P.append("records_redelivered %d in a run without a crash" % J["records_redelivered"])
    if J["nats_reconnects"] != 0:
        P.append("nats_reconnects %d with the server up all along" % J["nats_reconnects"])
    if o.code == 0:
        # --idle-exit: no message came for the idle time, so all were read
        if n_in != N:
            P.append("exit 0 but records_in %d of %d messages" % (n_in, N))
        elif J["bytes_in"] != sum(len(p) + 1 for p in pub):
            P.append("bytes_in %d, want %d (payloads and a delimiter each)" % (
                J["bytes_in"], sum(len(p) + 1 for p in pub)))
    if not stopped and ret:
        P.append("records_returned %d without a stop (exit %d)" % (ret, o.code))
    if J["records_dropped"] and c.policy not in ("drop", "drop-oldest") and not stopped:
        P.append("records_dropped %d under %s" % (J["records_dropped"], c.policy))
    if J["records_timed_out"] and c.policy != "timeout":
        P.append("records_timed_out %d under %s" % (J["records_timed_out"], c.policy))
    read_all = pub[:n_in]
    n_det = sum(1 for p in read_all if det_fail(p))
    if o.code == 0 and c.policy == "block" and J["records_failed"] != n_det:
        P.append("records_failed %d, want %d (records the stage fails)" % (
            J["records_failed"], n_det))
    if o.code == 75 and J["records_failed"] < 1:
        P.append("exit 75 but no record counted as failed")
    if c.retries:
        most = c.retries * sum(1 for p in read_all if p in job_fail)
        if J["records_retried"] > most:
            P.append("records_retried %d > %d" % (J["records_retried"], most))
        elif o.code == 0 and c.policy == "block" and J["records_retried"] != most:
            P.append("records_retried %d, want %d" % (J["records_retried"], most))
    elif J["records_retried"]:
        P.append("records_retried %d without --retries" % J["records_retried"])
    want_cap = c.cap if c.cap is not None else (None if st["kind"] == "pipe" else 1024)
    if J.get("queue_capacity") != want_cap:
        P.append("queue_capacity %r, want %r" % (J.get("queue_capacity"), want_cap))
    elif want_cap is not None and J["queue_max"] > want_cap:
        P.append("queue_max %d > queue_capacity %d" % (J["queue_max"], want_cap))
    if J.get("policy") != c.policy:
        P.append("policy %r, want %r" % (J.get("policy"), c.policy))
    prev = None
    for s in snaps + [J]:
        if s is not J:
            fl = s.get("in_flight")
            if "exit" in s or fl is None or fl < 0 or \
                    s["records_in"] != sum(s[k] for k in COUNTS) + fl:
                P.append("snapshot: records_in %d != %s + in_flight %r%s" % (
                    s["records_in"], "+".join(str(s[k]) for k in COUNTS), fl,
                    " (with an exit key)" if "exit" in s else ""))
            if s.get("records_returned", 0) > s["records_dropped"]:
                P.append("snapshot: records_returned %r > records_dropped %d" % (
                    s.get("records_returned"), s["records_dropped"]))
        if prev is not None:
            for k in ("records_in", "records_done", "records_out", "records_returned"):
                if s.get(k, 0) < prev.get(k, 0):
                    P.append("%s went down from %d to %d between snapshots" % (k, prev[k], s[k]))
        prev = s

    # 4. acks: what the consumer holds after the run. A nak'd message stays
    # pending for an ack until the server delivers it again.
    I = o.info
    o.want_info = "num_ack_pending %d (records_returned), num_pending %d (%d - records_in %d)" % (
        ret, N - n_in, N, n_in)
    if I["num_ack_pending"] != ret:
        P.append("consumer: num_ack_pending %d after the run, want %d (records_returned): %s" % (
            I["num_ack_pending"], ret, json.dumps(I)))
    if I["num_pending"] != N - n_in:
        P.append("consumer: num_pending %d after the run, want %d messages not read: %s" % (
            I["num_pending"], N - n_in, json.dumps(I)))
    if I["num_redelivered"] != 0:
        P.append("consumer: num_redelivered %d after the run" % I["num_redelivered"])
    if I["delivered"] != n_in:
        P.append("consumer: %d messages delivered, weir counts %d records_in" % (
            I["delivered"], n_in))

    # 3. where every message went. The consumer now hands out the messages
    # weir never read (delivered once: by us) and the ones it handed back
    # (delivered twice); the stream sequence says which record each is.
    fresh = sorted((s, p) for p, s, dc in o.fetched if dc == 1)
    back = sorted((s, p, dc) for p, s, dc in o.fetched if dc != 1)
    if [p for _, p in fresh] != pub[n_in:] or [s for s, _ in fresh] != list(range(n_in + 1,
                                                                                  N + 1)):
        P.append("the messages left in the stream are not the %d weir did not read "
                 "(sequences %d-%d): %d left, sequences %s" % (
                     N - n_in, n_in + 1, N, len(fresh), short([s for s, _ in fresh])))
    bad = [(s, dc) for s, p, dc in back if dc != 2 or not 1 <= s <= n_in or p != pub[s - 1]]
    if bad:
        P.append("messages handed back that weir did not read, or read twice "
                 "(sequence, deliveries): %s" % short(bad))
    if len(back) != ret:
        P.append("%d messages handed back to the stream (nak'd), records_returned %d%s" % (
            len(back), ret, "" if len(back) < ret else
            ": weir settled some as done or rejected and still nak'd them, or never settled "
            "them (the checks of the output and rejects below may break for the same records)"))
    returned = set(s for s, _, _ in back)
    # the records weir settled, in fetch (= publish) order
    settled = [p for s, p in enumerate(read_all, 1) if s not in returned]

    # the rejects: whole records, as many as shed or failed and not handed back
    R = None
    shed = J["records_dropped"] + J["records_timed_out"] + J["records_failed"] - ret
    if c.rej_file:
        R = props.rejected_records(o, delim, P)
    elif c.rejects == "subject" and c.rej_stream:
        R = o.rej_msgs
    elif c.rejects == "subject":
        R = []  # nothing can be published there: all shed records went back
    if R is not None and len(R) != shed:
        P.append("%d records in the rejects, want %d shed or failed (%d) less returned (%d)" % (
            len(R), shed, shed + ret, ret))
    left = collections.Counter(settled)
    kept = collections.Counter(settled)
    if R is not None:
        stray = collections.Counter(R) - left
        if stray:
            P.append("%d rejected records are not among the records weir settled "
                     "(read and not handed back), e.g. %r" % (
                         sum(stray.values()), next(iter(stray))[:80]))
        kept = left - collections.Counter(R)
        for p in kept:
            if det_fail(p):
                P.append("a record the stage fails is neither in the rejects nor handed back: "
                         "%r" % p[:80])
                break
        if sum(kept.values()) != J["records_done"]:
            P.append("%d records neither rejected nor handed back, records_done %d" % (
                sum(kept.values()), J["records_done"]))

    # the output, through the model
    def res(p):
        return None if det_fail(p) else model.result(st, p, True, delim)

    out = o.out
    O = model.split_output(out, delim)
    unique = len(set(settled)) == len(settled)
    # the settled records' results in publish order: exactly the output
    # when the rejects say which ones were shed (and records are unique)
    seq_all = [r for r in map(res, settled) if r is not None]
    Kseq = None
    if R is not None and unique:
        gone = set(R)
        Kseq = [r for r in (res(p) for p in settled if p not in gone) if r is not None]
    want = None
    if R is not None:
        want = collections.Counter()
        for p, n in kept.items():
            r = res(p)
            if r is not None:
                want[r] += n
    if c.out != "head":
        if J["bytes_out"] != len(out):
            P.append("bytes_out %d != %d bytes written" % (J["bytes_out"], len(out)))
        got = props.check_records_out(J, out, O, st, delim, want, P)
        if want is None and got - collections.Counter(seq_all):
            P.append("output has records the model does not give for the records read: %r" %
                     next(iter(got - collections.Counter(seq_all)))[:80])
        if not c.unordered:
            b = props.subsequence_break(O, seq_all)
            if b is not None:
                P.append("output out of fetch (= publish) order at output record %d: %r" % (
                    b, O[b][:80]))
            elif Kseq is not None and O != Kseq and not P:
                P.append("output differs from the model's sequence")
    else:
        if len(out) > c.head:
            P.append("head -c %d wrote %d bytes" % (c.head, len(out)))
        cut = out.rfind(delim) + 1
        whole = model.split_output(out[:cut], delim)
        ref = want if want is not None else collections.Counter(seq_all)
        if collections.Counter(whole) - ref:
            P.append("output (through head) has records the model does not give: %r" %
                     next(iter(collections.Counter(whole) - ref))[:80])
        if not c.unordered:
            b = props.subsequence_break(whole, seq_all)
            if b is not None:
                P.append("output (through head) out of order at output record %d" % b)
            elif Kseq is not None and not b"".join(Kseq).startswith(out[:cut]):
                P.append("output through head is not a prefix of the model's output")
        tail = out[cut:]
        if tail and not any(r.startswith(tail) for r in (seq_all + [
                res(p) or b"" for _, p, _ in back])):
            P.append("the last bytes through head are no prefix of a result: %r" % tail[:80])
    return P


def short(xs, n=8):
    xs = list(xs)
    return "[%s%s]" % (", ".join(map(str, xs[:n])), ", ..." if len(xs) > n else "")


# ---------------------------------------------------------------------------
# Reporting


def describe_input(c):
    recs = c.payloads
    first = ", ".join(repr(p[:24]) + ("..." if len(p) > 24 else "") for p in recs[:3])
    s = "%s, %d messages on %s (stream %s), delimiter %r (%s)" % (
        c.shape, len(recs), c.subject, c.stream, c.delim, c.dname)
    if c.max_record is not None:
        s += ", --max-record %d" % c.max_record
    return s + (": " + first if first else "")


def describe_setup(c, url):
    nt = shlex.quote(NATSTOOL) + " " + url
    s = ["%s stream-add %s %s" % (nt, c.stream, c.subject),
         "%s pub %s < in" % (nt, shlex.join([c.subject] + c.pub_flags))]
    if c.rejects == "subject" and c.rej_stream:
        s.append("%s stream-add %s %s" % (nt, c.rstream, c.rsubject))
    if c.made_by == "natstool":
        s.append("%s consumer-add %s %s%s" % (nt, c.stream, c.consumer,
                                               " --filter " + c.subject if c.filter else ""))
    else:
        s.append("(no consumer: weir makes %s)" % c.consumer)
    return "; ".join(s)


def describe_cmd(c, d):
    s = "cd %s && %s %s < /dev/null 2> err %s" % (shlex.quote(d), shlex.quote(WEIR),
                                                  shlex.join(c.args), c.stdout_desc)
    if c.signal:
        s += "  [%s %.0f ms after %s]" % (props.SIGNAMES[c.signal[0]], c.signal[1] * 1000,
                                          "the first output" if c.signal[2] else "the start")
    return s


def replay_line(seed):
    return "PROPS_SEED=%d PROPS_N=1 WEIR=%s%s python3 tests/props/nats_props.py" % (
        seed, shlex.quote(os.path.relpath(WEIR, ROOT) if WEIR.startswith(ROOT + "/") else WEIR),
        "" if os.environ.get("NATSTOOL") is None else " NATSTOOL=" + shlex.quote(NATSTOOL))


def one(i, seed, rep, tmp, server, keep):
    c = gen_config(seed, rep)
    d = tempfile.mkdtemp(prefix="nats-props-%d-" % seed, dir=tmp)
    c.args = []
    c.stdout_desc = ""
    # a bug in the runner, or natstool failing, is a failure too
    o, P = props.run_and_check(lambda: run_config(c, d, server), lambda o: check(c, o), d, keep)
    return i, c, o, P, d


def fail_details(c, o, d, url):
    """What props.print_run shows of a failed configuration."""
    yield "replay", replay_line(c.seed)
    yield "setup", describe_setup(c, url)
    yield "command", describe_cmd(c, d)
    yield "input", describe_input(c)
    if o is not None:
        yield "consumer after the run", "%s; want %s" % (
            json.dumps(o.info), o.want_info if hasattr(o, "want_info") else "?")


def setup_error():
    """What is missing, and what to run; None when all is there."""
    if not os.access(WEIR, os.X_OK):
        return "no weir at %s: set WEIR, or build it (`make VARIANT=check build/check/weir`)" % (
            WEIR)
    if shutil.which("nats-server") is None:
        return "nats-server not found in PATH: run `make deps` (Debian package nats-server)"
    v = variant()
    how = "`make VARIANT=%s build/%s/natstool`" % (v, v) if v else \
        "`make VARIANT=check build/check/natstool`"
    if not os.access(NATSTOOL, os.X_OK):
        return "natstool not found at %s: run %s, or set NATSTOOL" % (NATSTOOL, how)
    src = os.path.join(ROOT, "tests", "nats", "natstool.c")
    if os.path.exists(src) and os.path.getmtime(src) > os.path.getmtime(NATSTOOL):
        return "%s is older than tests/nats/natstool.c: run %s" % (NATSTOOL, how)
    return None


def main():
    try:
        seed, n, jobs, repeat, keep, verbose, tmp = props.settings(20)
    except ValueError:
        print("nats_props: PROPS_SEED, PROPS_N, PROPS_J and PROPS_REPEAT are integers",
              file=sys.stderr)
        return 2
    err = setup_error()
    if err:
        print("nats_props: %s" % err, file=sys.stderr)
        return 2
    sd = tempfile.mkdtemp(prefix="nats-props-server-", dir=tmp)
    server = Server(sd)
    failed = []
    try:
        err = server.start()
        if err:
            print("nats_props: %s" % err, file=sys.stderr)
            return 2
        print("nats_props: PROPS_SEED=%d PROPS_N=%d, %d at a time, WEIR=%s, NATSTOOL=%s, "
              "nats-server on %s%s" % (seed, n, jobs, WEIR, NATSTOOL, server.url,
                                       " (sanitized: longer limits)" if props.SANITIZED else ""),
              flush=True)
        t0 = time.monotonic()
        cover = collections.defaultdict(collections.Counter)
        walls = []
        notes = []
        ex = concurrent.futures.ThreadPoolExecutor(jobs)
        try:
            futs = [ex.submit(one, i, seed + i, r, tmp, server, keep) for i in range(n)
                    for r in range(repeat)]
            for f in futs:
                i, c, o, P, d = f.result()
                props.count_config(cover, c)
                cover["stdout"][c.out] += 1
                cover["rejects"][c.rejects if c.rejects != "subject" or c.rej_stream
                                 else "subject, no stream"] += 1
                cover["consumer"]["made by " + c.made_by] += 1
                cover["flags"].update(k for k, v in (
                    ("--max-record", c.max_record is not None), ("slow op", c.slow),
                    ("--retries", c.retries), ("--on-error fail", c.on_error == "fail"),
                    ("-i", c.interval), ("--subject", c.subject_flag),
                    ("newlines in payloads", any(b"\n" in p for p in c.payloads))) if v)
                if o is not None:
                    cover["exit"][str(o.code)] += 1
                    if o.sig_sent:
                        cover["signal sent"][props.SIGNAMES[o.sig_sent]] += 1
                    J = final_summary(o.err) or {}
                    cover["outcomes"].update(k for k in ("records_dropped", "records_timed_out",
                                                         "records_failed", "records_returned")
                                             if J.get(k))
                    notes += ["seed %d: %s" % (c.seed, x) for x in o.notes]
                    walls.append((o.wall, c.seed))
                props.print_run("nats_props", i, n, c, o, P, d, verbose, failed,
                                fail_details(c, o, d, server.url))
        except KeyboardInterrupt:
            ex.shutdown(wait=False, cancel_futures=True)
            raise
        ex.shutdown()
        el = time.monotonic() - t0
        if verbose:
            for x in notes:
                print("nats_props: note: %s" % x)
        for k in ("policy", "stage", "shape", "stdout", "delimiter", "order", "rejects",
                  "consumer", "flags", "signal sent", "outcomes", "exit"):
            items = sorted(cover[k].items(), key=lambda kv: (-kv[1], kv[0]))
            print("nats_props: %-11s %s" % (k, ", ".join("%s %d" % kv for kv in items)))
        walls.sort(reverse=True)
        if walls:
            print("nats_props: slowest runs: %s" % ", ".join(
                "seed %d %.2f s" % (s, w) for w, s in walls[:3]))
        print("nats_props: %d configurations%s, %d failed, %.1f s (PROPS_SEED=%d)" % (
            n, " x %d" % repeat if repeat > 1 else "", len(failed), el, seed))
        if failed:
            print("nats_props: failed seeds: %s" % " ".join(map(str, failed)))
    except KeyboardInterrupt:
        print("nats_props: interrupted", file=sys.stderr)
        return 130
    finally:
        server.stop()
        if not failed:
            shutil.rmtree(sd, ignore_errors=True)
        else:
            print("nats_props: the server's log: %s" % server.log)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
