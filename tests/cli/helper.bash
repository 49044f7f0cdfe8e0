# helper.bash - shared setup for weir's CLI tests (load it with `load helper`).
#
# WEIR names the binary under test; it defaults to the repository's ./weir.
# Every helper works on files under $BATS_TEST_TMPDIR so outputs are compared
# byte for byte (bats `run` strips trailing newlines).

bats_require_minimum_version 1.5.0

: "${WEIR:=$BATS_TEST_DIRNAME/../../weir}"
case $WEIR in /*) ;; *) WEIR=$PWD/$WEIR ;; esac
export WEIR

if [[ ! -x $WEIR ]]; then
    echo "weir binary not found at $WEIR (build it with make, or set WEIR)" >&2
    exit 1
fi

# SANITIZED=1 for ASan/TSan builds: they are several times slower and their
# RSS says little about weir's own memory (shadow memory, ASan quarantine),
# so a few tests feed less data or skip RSS checks. Never stricter.
SANITIZED=0
if grep -aqE '__(asan|tsan)_init' "$WEIR" 2>/dev/null; then
    SANITIZED=1
fi

T() { printf '%s/%s' "$BATS_TEST_TMPDIR" "$1"; }

# fail MESSAGE...: prints to the test's output and fails.
fail() {
    printf '%s\n' "$*" >&2
    return 1
}

# same_file EXPECTED ACTUAL: byte-exact comparison with a readable diff.
same_file() {
    if ! cmp -s "$1" "$2"; then
        echo "files differ: $1 (expected) vs $2 (actual)" >&2
        cmp "$1" "$2" >&2 || true
        diff <(od -An -c "$1" | head -20) <(od -An -c "$2" | head -20) >&2 || true
        return 1
    fi
}

# wrun ARGS...: runs weir with the caller's stdin, stdout to $OUT and stderr
# to $ERR (files, so bytes are exact); sets $status and $stderr. Never fails
# by itself: the test checks $status. A run that hangs is stopped after
# $WEIR_TEST_TIMEOUT seconds (status 124, or 143 from weir's SIGTERM).
: "${WEIR_TEST_TIMEOUT:=60}"
wrun() {
    OUT=$(T out) ERR=$(T err)
    status=0
    timeout -k 5 "$WEIR_TEST_TIMEOUT" "$WEIR" "$@" >"$OUT" 2>"$ERR" || status=$?
    stderr=$(cat "$ERR")
}

# json_line FILE: the last stderr line that is a JSON object.
json_line() {
    grep '^{' "$1" | tail -n 1
}

# jget FILE FILTER: a value from the JSON summary in stderr file FILE.
jget() {
    json_line "$1" | jq -r "$2"
}

# check_invariant FILE: records_in == done + dropped + timed_out + failed.
check_invariant() {
    local j
    j=$(json_line "$1")
    [[ -n $j ]] || fail "no JSON summary in $1: $(cat "$1")" || return 1
    echo "$j" | jq -e '.records_in == .records_done + .records_dropped +
                       .records_timed_out + .records_failed' >/dev/null ||
        fail "invariant broken: $j"
}

# now_ms: wall clock in milliseconds (no fork).
now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    echo $((t / 1000))
}

# wait_until SECONDS COMMAND...: polls COMMAND every 10 ms until it succeeds;
# fails after SECONDS (may be fractional).
# size_is FILE N: FILE holds exactly N bytes (for wait_until, which must
# get a command to run again, not a size taken once).
size_is() {
    [ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]
}

wait_until() {
    local limit_ms start
    limit_ms=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')
    start=$(now_ms)
    shift
    while ! "$@"; do
        (($(now_ms) - start < limit_ms)) || return 1
        sleep 0.01
    done
}

# weir_ready PID: weir has started its threads, so its signal mask is set
# (a signal sent earlier would kill it with the default action).
weir_ready() {
    local n
    n=$(ls "/proc/$1/task" 2>/dev/null | wc -l)
    [ "$n" -ge 3 ]
}

# lines_at_least N FILE
lines_at_least() {
    local n
    n=$(wc -l <"$2" 2>/dev/null) || return 1
    [ "$n" -ge "$1" ]
}

# file_nonempty FILE
file_nonempty() { [[ -s $1 ]]; }

# Background processes started by a test are killed in teardown (only those,
# by their pid).
BG_PIDS=()
kill_bg() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        # wait reaps the job here, so bash reports no "Killed" line later
        { kill -KILL "$pid" && wait "$pid"; } 2>/dev/null || true
    done
    BG_PIDS=()
}

teardown() {
    kill_bg
}

# start_weir ARGS...: runs weir in the background reading the fifo $(T fifo),
# writing $(T out) and $(T err); opens the fifo for writing on fd $W.
start_weir() {
    mkfifo "$(T fifo)"
    "$WEIR" "$@" <"$(T fifo)" >"$(T out)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    exec {W}>"$(T fifo)"
    wait_until 10 weir_ready "$PID" || fail "weir did not start"
}

# io FIELD PID: rchar or wchar of a process.
io() {
    awk -v f="$1:" '$1 == f { print $2 }' "/proc/$2/io" 2>/dev/null || true
}

# rss_kb PID: resident set size.
rss_kb() {
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

# read_stable PID: rchar did not move over 300 ms (and weir is alive).
read_stable() {
    local a b
    a=$(io rchar "$1")
    sleep 0.3
    b=$(io rchar "$1")
    [ -n "$a" ] && [ "$a" = "$b" ]
}

# stops_reading PID LIMIT WHY: weir (PID) stops reading within 60 s, having
# read fewer than LIMIT bytes (WHY ends the failure message).
stops_reading() {
    wait_until 60 read_stable "$1" || fail "weir keeps reading: $(io rchar "$1") bytes"
    local r
    r=$(io rchar "$1")
    echo "# weir read $r bytes before stopping" >&3
    ((r < $2)) || fail "weir read $r bytes $3"
}
