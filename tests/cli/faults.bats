#!/usr/bin/env bats
# Fault injection (weir(1): EXIT STATUS, SIGNALS "Standard output failing",
# "Closed descriptors", --rejects, --metrics, "Failed jobs", DESCRIPTION
# "Memory"): the outside world fails under weir, and weir says so in one
# line, exits with the documented status, and loses nothing it accepted:
# records_in == done + dropped + timed_out + failed.
#
# Write, read, rename and allocation failures come from an LD_PRELOAD shim,
# tests/fault/failshim.c (its header lists the FAILSHIM_* variables),
# built by `make check-cli` into build/<variant>/failshim.so, or here.
# Cases already in integrity.bats and signals.bats are not repeated:
# stdout on /dev/full, head -1, closed stdin/stdout, closed stderr with
# warnings.

load helper

SHIM_SRC=$BATS_TEST_DIRNAME/../fault/failshim.c

# The shim next to the binary under test (or FAILSHIM), if it is not older
# than its source; otherwise one compiled for this file.
setup_file() {
    ((SANITIZED)) && return 0
    local c
    for c in "${FAILSHIM:-}" "$(dirname "$WEIR")/failshim.so" \
        "$BATS_TEST_DIRNAME/../../build/release/failshim.so"; do
        if [[ -n $c && -f $c && ! $SHIM_SRC -nt $c ]]; then
            export SHIM=$c
            return 0
        fi
    done
    SHIM=$BATS_FILE_TMPDIR/failshim.so
    ${CC:-cc} -std=c11 -O2 -shared -fPIC -o "$SHIM" "$SHIM_SRC" -ldl -pthread || SHIM=
    export SHIM
}

# need_shim: skips the test where the shim cannot be used.
need_shim() {
    if ((SANITIZED)); then
        skip "LD_PRELOAD shim not used under ASan/TSan: their runtime, linked into weir, takes over malloc, read, write and rename before any preloaded library, so injected faults would not reach weir as intended"
    fi
    [[ -n ${SHIM:-} && -f $SHIM ]] || skip "failshim.so could not be built (cc -shared -fPIC)"
}

# srun VAR=VALUE... -- ARGS...: wrun with the shim preloaded into weir only
# (FAILSHIM_PROG), logging what it did to $(T shimlog).
srun() {
    local envs=()
    while [[ $1 != -- ]]; do
        envs+=("$1")
        shift
    done
    shift
    OUT=$(T out) ERR=$(T err)
    status=0
    env LD_PRELOAD="$SHIM" FAILSHIM_PROG=weir FAILSHIM_LOG="$(T shimlog)" "${envs[@]}" \
        timeout -k 5 "$WEIR_TEST_TIMEOUT" "$WEIR" "$@" >"$OUT" 2>"$ERR" || status=$?
    stderr=$(cat "$ERR")
}

# injected RULE: the shim made at least one RULE call fail.
injected() {
    grep -Eq "^weir $1 calls=[0-9]+ failed=[1-9]" "$(T shimlog)" ||
        fail "no $1 failure injected: $(cat "$(T shimlog)" 2>/dev/null)"
}

# jtrue FILE [JQ-ARGS...] EXPR: EXPR holds on the JSON summary in FILE.
jtrue() {
    local f=$1
    shift
    json_line "$f" | jq -e "$@" >/dev/null
}

# errors FILE: the weir: lines of a stderr file (no JSON).
errors() { grep '^weir:' "$1" || true; }

# prefix_of FULL PART: PART is the first bytes of FULL.
prefix_of() {
    cmp -s "$2" <(head -c "$(stat -c %s "$2")" "$1") ||
        fail "$2 is not a prefix of $1: $(cmp "$2" "$1" 2>&1)"
}

# delivered_and_rejected OUT REJ: whole records that are both in OUT and REJ.
# uncut FILE N: FILE with the record that the stop cut short (a proper
# prefix of N, the last record read of a `seq` input) made whole again.
uncut() {
    awk -v n="$2" '{ l[NR] = $0; if ($0 == n) whole = 1
        else if (length($0) < length(n) && substr(n, 1, length($0)) == $0) cut = NR }
        END { if (!whole && cut) l[cut] = n; for (i = 1; i <= NR; i++) print l[i] }' "$1"
}

delivered_and_rejected() {
    comm -12 <(head -n "$(wc -l <"$1")" "$1" | sort) <(sort "$2") | wc -l
}

# A fifo opened read-write on $S: `read -t DUR -u $S` sleeps without a fork.
open_sleeper() {
    mkfifo "$(T sleeper)"
    exec {S}<>"$(T sleeper)"
}
nap() { read -r -t "$1" -u "$S" _ || :; }

@test "the shim is inert: preloaded with no rule, or for another program, weir runs as without it" {
    need_shim
    seq 1 50000 >"$(T in)"
    srun -- -j 2 -e upper --rejects "$(T rej)" --metrics "$(T m)" --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    [ ! -s "$(T shimlog)" ] || fail "a rule was on: $(cat "$(T shimlog)")"
    # every rule set, but for another program name: nothing fails
    srun FAILSHIM_PROG=notweir FAILSHIM_WRITE_FD=1 FAILSHIM_READ_FD=0 FAILSHIM_RENAME_AFTER=1 \
        FAILSHIM_MALLOC_AFTER=1 -- -j 2 --metrics "$(T m)" --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    check_invariant "$ERR"
}

# ---- standard output closed at a random time ---------------------------------

@test "stdout: head -c N closes the pipe after N bytes (several N): exit 141 quietly, a prefix, counts add up" {
    seq 1 400000 >"$(T in)"
    local n st
    for n in 1 65536 1000000; do
        "$WEIR" --stats json -j 2 -e upper --rejects "$(T rej$n)" <"$(T in)" 2>"$(T err)" |
            head -c "$n" >"$(T out)"
        st=("${PIPESTATUS[@]}")
        [ "${st[0]}" -eq 141 ] || fail "N=$n: exit ${st[0]}: $(cat "$(T err)")"
        [ -z "$(errors "$(T err)")" ] || fail "N=$n: EPIPE is quiet: $(cat "$(T err)")"
        [ "$(wc -l <"$(T err)")" -eq 1 ] || fail "N=$n: stderr: $(cat "$(T err)")"
        check_invariant "$(T err)"
        [ "$(stat -c %s "$(T out)")" -eq "$n" ]
        prefix_of "$(T in)" "$(T out)"
        jtrue "$(T err)" '.exit == 141 and .records_dropped >= 1 and .records_failed == 0' ||
            fail "N=$n: $(cat "$(T err)")"
        # the records read and not written are in the rejects file
        [ "$(wc -l <"$(T rej$n)")" -eq "$(jget "$(T err)" .records_dropped)" ]
        # a write cut short by EPIPE: the records it got out whole count
        # as written, not as dropped, and are not in the rejects file
        local both
        uncut "$(T rej$n)" "$(jget "$(T err)" .records_in)" >"$(T whole$n)"
        both=$(delivered_and_rejected "$(T out)" "$(T whole$n)")
        if ((both > 0)) || ! jtrue "$(T err)" --argjson n "$n" '.bytes_out + 16 >= $n'; then
            fail "N=$n: $both records the reader got are also in the rejects file," \
                "bytes_out $(jget "$(T err)" .bytes_out) < $n bytes the reader got"
        fi
    done
}

@test "stdout: the reader is SIGKILLed mid-run: exit 141 quietly, what it got is a prefix, counts add up" {
    seq 1 300000 >"$(T all)"
    mkfifo "$(T in)" "$(T outp)"
    # the first 5000 lines, then the rest once the reader is dead
    { head -n 5000 "$(T all)"; while [ ! -e "$(T go)" ]; do sleep 0.01; done; tail -n +5001 "$(T all)"; } \
        >"$(T in)" 2>/dev/null 3>&- &
    BG_PIDS+=("$!")
    "$WEIR" --stats json -j 2 --rejects "$(T rej)" <"$(T in)" >"$(T outp)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    cat <"$(T outp)" >"$(T out)" 3>&- &
    local reader=$!
    wait_until 10 lines_at_least 5000 "$(T out)" || fail "reader got $(wc -l <"$(T out)") lines"
    kill -KILL "$reader"
    wait "$reader" || true
    touch "$(T go)"
    local rc=0
    wait "$PID" || rc=$?
    [ "$rc" -eq 141 ] || fail "exit $rc: $(cat "$(T err)")"
    [ -z "$(errors "$(T err)")" ] || fail "EPIPE is quiet: $(cat "$(T err)")"
    check_invariant "$(T err)"
    prefix_of "$(T all)" "$(T out)"
    jtrue "$(T err)" '.records_in <= 300000 and .records_in >= 5000 and .records_dropped >= 1'
    # what weir wrote (bytes_out) covers at least what the reader got
    (($(jget "$(T err)" .bytes_out) >= $(stat -c %s "$(T out)")))
    [ "$(wc -l <"$(T rej)")" -eq "$(jget "$(T err)" .records_dropped)" ]
}

@test "stdout: EIO from the 3rd write on: one line, exit 1, a prefix written, the rest failed into the rejects" {
    need_shim
    seq 1 200000 >"$(T in)"
    srun FAILSHIM_WRITE_FD=1 FAILSHIM_WRITE_AFTER=3 FAILSHIM_WRITE_ERRNO=EIO -- \
        -j 2 -e upper --rejects "$(T rej)" --stats json <"$(T in)"
    injected write
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(errors "$ERR")" = "weir: write stdout: Input/output error" ] || fail "$stderr"
    check_invariant "$ERR"
    prefix_of "$(T in)" "$OUT"
    jtrue "$ERR" '.records_failed >= 1 and .records_dropped == 0 and .exit == 1' || fail "$stderr"
    # only what reached stdout counts as out; it is what the two writes took
    [ "$(jget "$ERR" .bytes_out)" -eq "$(stat -c %s "$OUT")" ]
    [ "$(jget "$ERR" .records_out)" -eq "$(wc -l <"$OUT")" ]
    # every record read is in the output or the rejects file, once
    sort -n "$OUT" <(uncut "$(T rej)" "$(jget "$ERR" .records_in)") |
        cmp -s - <(seq 1 "$(jget "$ERR" .records_in)") ||
        fail "output + rejects are not the records read"
}

@test "stdout: a short write, then ENOSPC (a disk filling up): what reached stdout counts as out, and only the rest is rejected" {
    need_shim
    seq 1 200000 >"$(T in)"
    # the 2nd write puts 1000 of its bytes on the disk, the 3rd fails
    srun FAILSHIM_WRITE_FD=1 FAILSHIM_WRITE_AFTER=2 FAILSHIM_WRITE_PARTIAL=1000 -- \
        -j 2 --rejects "$(T rej)" --stats json <"$(T in)"
    injected write
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(errors "$ERR")" = "weir: write stdout: No space left on device" ] || fail "$stderr"
    check_invariant "$ERR"
    prefix_of "$(T in)" "$OUT"
    # every record read is in the output or the rejects file
    sort -nu "$OUT" <(uncut "$(T rej)" "$(jget "$ERR" .records_in)") |
        cmp -s - <(seq 1 "$(jget "$ERR" .records_in)") ||
        fail "output + rejects are not the records read"
    # the whole records of the short write count as written, once
    local both
    both=$(delivered_and_rejected "$OUT" "$(T rej)")
    if ((both > 0)) || [ "$(jget "$ERR" .bytes_out)" -ne "$(stat -c %s "$OUT")" ]; then
        fail "$both records on stdout are also in the rejects file; bytes_out" \
            "$(jget "$ERR" .bytes_out), on stdout $(stat -c %s "$OUT") bytes"
    fi
    [ "$(jget "$ERR" .records_out)" -eq "$(wc -l <"$OUT")" ]
}

@test "short reads and writes on every call (stdin, stdout, rejects, child pipes, -z): every record once" {
    need_shim
    seq 1 10000 >"$(T in)"
    srun FAILSHIM_WRITE_FD=1 FAILSHIM_WRITE_EVERY=1 FAILSHIM_WRITE_PARTIAL=7 \
        FAILSHIM_READ_FD=0 FAILSHIM_READ_EVERY=1 FAILSHIM_READ_PARTIAL=5 -- \
        -j 2 -e upper --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    injected write
    injected read
    same_file "$(T in)" "$OUT"
    check_invariant "$ERR"
    # shedding into a compressed rejects file, compressed output (reads
    # whole, so that one read brings more than the stage can take)
    seq 1 20000 >"$(T in)"
    srun FAILSHIM_WRITE_PATH='*' FAILSHIM_WRITE_EVERY=1 FAILSHIM_WRITE_PARTIAL=7 -- \
        -z -p drop -c 1 -e sleep:1ms --rejects "$(T rej.zst)" --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    check_invariant "$ERR"
    jtrue "$ERR" '.records_dropped > 0' || fail "nothing shed: $stderr"
    { zstd -dc "$OUT" && zstd -dc "$(T rej.zst)"; } | sort -n | cmp -s - "$(T in)" ||
        fail "output + rejects are not every record once"
    # the pipes to and from children, in the three shapes
    seq 1 100 >"$(T in)"
    sed 's/^/x/' "$(T in)" >"$(T exp)"
    local shape
    for shape in -x --coproc --pipe; do
        srun FAILSHIM_WRITE_PATH='pipe:*' FAILSHIM_WRITE_EVERY=1 FAILSHIM_WRITE_PARTIAL=3 \
            FAILSHIM_READ_PATH='pipe:*' FAILSHIM_READ_EVERY=1 FAILSHIM_READ_PARTIAL=2 -- \
            -j 2 --stats json "$shape" sed -u 's/^/x/' <"$(T in)"
        [ "$status" -eq 0 ] || fail "$shape: exit $status: $stderr"
        [ -z "$(errors "$ERR")" ] || fail "$shape: $stderr"
        same_file "$(T exp)" "$OUT"
        check_invariant "$ERR"
    done
}

@test "stdin: EIO on the 3rd read: what was read is processed and written, one line, exit 1" {
    need_shim
    seq 1 200000 >"$(T in)"
    # from a pipe, so that each read takes at most a pipe's worth
    srun FAILSHIM_READ_FD=0 FAILSHIM_READ_AFTER=3 FAILSHIM_READ_ERRNO=EIO -- \
        -j 2 --stats json < <(cat "$(T in)")
    injected read
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(errors "$ERR")" = "weir: read stdin: Input/output error" ] || fail "$stderr"
    check_invariant "$ERR"
    jtrue "$ERR" '.records_in >= 2 and .records_done == .records_in and .bytes_out == .bytes_in' ||
        fail "$stderr"
    # the bytes read come out as they were, a record cut short last
    prefix_of "$(T in)" "$OUT"
    [ "$(jget "$ERR" .bytes_in)" -eq "$(stat -c %s "$OUT")" ]
}

# ---- the rejects file on a full disk -----------------------------------------

@test "--rejects: ENOSPC from the 3rd write on: reported once, the run goes on, exit 1, counts add up" {
    need_shim
    # 'x' passes --max-record 1; each 'yyN' is failed and goes to the rejects file
    for i in $(seq 1 200); do printf 'x\nyy%d\n' "$i"; done >"$(T in)"
    srun FAILSHIM_WRITE_PATH="$(T rej)" FAILSHIM_WRITE_AFTER=3 FAILSHIM_WRITE_ERRNO=ENOSPC -- \
        --max-record 1 --rejects "$(T rej)" --stats json <"$(T in)"
    injected write
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(grep -c -- '--rejects' "$ERR")" -eq 1 ] || fail "$stderr"
    grep -qxF "weir: --rejects $(T rej): write: No space left on device" "$ERR" || fail "$stderr"
    # the run went on: every record that fits was processed and written
    [ "$(grep -c '^x$' "$OUT")" -eq 200 ] && [ "$(wc -l <"$OUT")" -eq 200 ] || fail "out: $(wc -l <"$OUT")"
    jtrue "$ERR" '.records_in == 400 and .records_done == 200 and .records_failed == 200 and .exit == 1' || fail "$stderr"
    check_invariant "$ERR"
    # the rejects file holds what was written before the disk filled, whole
    printf 'yy1\nyy2\n' >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
}

@test "--rejects: EIO on every write, with -p drop, plain and .zst: reported once, exit 1, counts add up" {
    need_shim
    seq 1 2000 >"$(T in)"
    local rej
    for rej in "$(T rej)" "$(T rej.zst)"; do
        # one slow worker, a queue of 1: most of one read of 2000 records is shed
        srun FAILSHIM_WRITE_PATH="$rej" FAILSHIM_WRITE_ERRNO=EIO -- \
            -p drop -c 1 -j 1 -e sleep:1ms --rejects "$rej" --stats json <"$(T in)"
        injected write
        [ "$status" -eq 1 ] || fail "$rej: exit $status: $stderr"
        [ "$(errors "$ERR")" = "weir: --rejects $rej: write: Input/output error" ] || fail "$stderr"
        check_invariant "$ERR"
        jtrue "$ERR" '.records_in == 2000 and .records_dropped >= 1 and .records_failed == 0
            and .records_out == .records_done' || fail "$stderr"
        # what was admitted was processed and written, in order, once each
        sort -nc "$OUT" && [ "$(sort -u "$OUT" | wc -l)" -eq "$(jget "$ERR" .records_done)" ]
        [ ! -s "$rej" ]
        rm -f "$(T shimlog)"
    done
}

# ---- the metrics file --------------------------------------------------------

@test "--metrics: rename fails from the 2nd on: one warning, the run goes on, exit 0, no temporary left" {
    need_shim
    mkdir "$(T mdir)"
    open_sleeper
    # a slow producer, so that several interval updates fail
    seq 1 15 >"$(T in)"
    srun FAILSHIM_RENAME_AFTER=2 FAILSHIM_RENAME_ERRNO=EIO -- \
        --metrics "$(T mdir)/weir.prom" -i 100ms --stats json < <(
        for i in 1 2 3; do
            seq $((i * 5 - 4)) $((i * 5))
            nap 0.4
        done
    )
    injected rename
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(errors "$ERR")" = "weir: --metrics $(T mdir)/weir.prom: Input/output error (the run goes on)" ] ||
        fail "$stderr"
    same_file "$(T in)" "$OUT"
    check_invariant "$ERR"
    [ "$(jget "$ERR" .exit)" -eq 0 ]
    # the version written at start is still there, whole; no temporary file
    grep -qx 'weir_records_in_total 0' "$(T mdir)/weir.prom"
    grep -q '^weir_latency_seconds_count 0$' "$(T mdir)/weir.prom"
    [ "$(ls -A "$(T mdir)")" = weir.prom ] || fail "left: $(ls -A "$(T mdir)")"
    # several updates failed, one warning
    grep -Eq '^weir rename calls=[0-9]+ failed=([3-9]|[1-9][0-9]+)$' "$(T shimlog)" ||
        fail "$(cat "$(T shimlog)")"
}

@test "--metrics: rename fails at start: one line, exit 1, nothing read" {
    need_shim
    mkdir "$(T mdir)"
    srun FAILSHIM_RENAME_AFTER=1 -- --metrics "$(T mdir)/weir.prom" --stats json < <(seq 1 10)
    injected rename
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$stderr" = "weir: --metrics $(T mdir)/weir.prom: Input/output error" ] || fail "$stderr"
    [ ! -s "$OUT" ]
    [ -z "$(ls -A "$(T mdir)")" ] || fail "left: $(ls -A "$(T mdir)")"
}

# ---- children that crash, hang or are killed ---------------------------------

@test "COMMAND: a child that segfaults and one that hangs past --job-timeout fail their records; the rest goes on" {
    printf '%s\n' a b segv c hang d e >"$(T in)"
    local tag="30.$$$RANDOM"
    wrun -j 3 --job-timeout 2s --rejects "$(T rej)" --stats json \
        sh -c 'case $1 in segv) kill -SEGV $$ ;; hang) exec sleep "$2" ;; esac; echo "$1"' sh {} "$tag" \
        <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    printf '%s\n' a b c d e >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    grep -qx 'weir: record 3: sh killed by signal 11 (Segmentation fault): failed' "$ERR" || fail "$stderr"
    grep -qx 'weir: record 5: sh timed out (--job-timeout): failed' "$ERR" || fail "$stderr"
    [ "$(errors "$ERR" | wc -l)" -eq 2 ] || fail "$stderr"
    [ "$(sort "$(T rej)" | tr '\n' ' ')" = "hang segv " ] || fail "rejects: $(cat "$(T rej)")"
    jtrue "$ERR" '.records_failed == 2 and .records_done == 5 and .exit == 0' || fail "$stderr"
    check_invariant "$ERR"
    ! pgrep -f "sleep $tag" >/dev/null || fail "left running: $(pgrep -af "sleep $tag")"
}

@test "COMMAND: a child SIGKILLed by someone else mid-record fails that record; weir goes on" {
    local tag="31.$$$RANDOM"
    start_weir -j 2 --rejects "$(T rej)" --stats json \
        sh -c '[ "$1" = stuck ] && exec sleep "$2"; echo "$1"' sh {} "$tag"
    printf '%s\n' a b stuck c >&"$W"
    local child=
    find_child() { child=$(pgrep -f "^sleep $tag\$"); }
    wait_until 10 find_child || fail "no child 'sleep $tag'"
    wait_until 10 lines_at_least 2 "$(T out)" || fail "out: $(cat "$(T out)")"
    kill -KILL "$child"
    printf '%s\n' d e >&"$W"
    exec {W}>&-
    local rc=0
    wait "$PID" || rc=$?
    [ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$(T err)")"
    printf '%s\n' a b c d e >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    [ "$(errors "$(T err)")" = "weir: record 3: sh killed by signal 9 (Killed): failed" ] ||
        fail "$(cat "$(T err)")"
    [ "$(cat "$(T rej)")" = stuck ]
    jtrue "$(T err)" '.records_failed == 1 and .records_done == 5' || fail "$(cat "$(T err)")"
    check_invariant "$(T err)"
}

# ---- interrupted system calls ------------------------------------------------

# storm NLINES ARGS...: weir ARGS reads seq 1 NLINES from a slow producer and
# writes to a slow reader while SIGUSR1 comes every ~2 ms; all must come out.
storm() {
    local nlines=$1
    shift
    open_sleeper
    mkfifo "$(T in)" "$(T outp)"
    { for ((i = 1; i <= nlines; i++)); do
        echo "$i"
        ((i % (nlines / 20))) || nap 0.03
    done; } >"$(T in)" 3>&- &
    BG_PIDS+=("$!")
    { n=0; while IFS= read -r l; do
        printf '%s\n' "$l"
        ((++n % (nlines / 20))) || nap 0.03
    done; } <"$(T outp)" >"$(T out)" 3>&- &
    local reader=$!
    BG_PIDS+=("$reader")
    "$WEIR" --stats json "$@" <"$(T in)" >"$(T outp)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    wait_until 10 weir_ready "$PID" || fail "weir did not start"
    { while kill -USR1 "$PID" 2>/dev/null; do nap 0.002; done; } 3>&- &
    BG_PIDS+=("$!")
    local rc=0
    wait "$PID" || rc=$?
    wait "$reader"
    [ "$rc" -eq 0 ] || fail "exit $rc: $(errors "$(T err)")"
    [ -z "$(errors "$(T err)")" ] || fail "$(errors "$(T err)")"
    seq 1 "$nlines" >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    check_invariant "$(T err)"
    [ "$(jget "$(T err)" .final)" = true ]
    local snaps
    snaps=$(grep -c '"final":false' "$(T err)")
    echo "# $snaps snapshots" >&3
    ((snaps >= 10)) || fail "only $snaps snapshots: the storm did not happen"
}

@test "SIGUSR1 storm on a slow fifo and a slow pipe (built-in ops): no error, every record out" {
    storm 2000 -j 2 -e upper
}

@test "SIGUSR1 storm with a COMMAND per record: no error, every record out" {
    storm 100 -j 2 sh -c 'cat'
}

@test "EINTR on every other read and write (stdin, stdout, child pipes): retried, every record out" {
    need_shim
    seq 1 50000 >"$(T in)"
    srun FAILSHIM_READ_FD=0 FAILSHIM_READ_EVERY=2 FAILSHIM_READ_ERRNO=EINTR \
        FAILSHIM_WRITE_FD=1 FAILSHIM_WRITE_EVERY=2 FAILSHIM_WRITE_ERRNO=EINTR -- \
        -j 2 -e upper --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    injected read
    injected write
    [ -z "$(errors "$ERR")" ] || fail "$stderr"
    same_file "$(T in)" "$OUT"
    check_invariant "$ERR"
    # the pipes to and from children (per record and co-process)
    seq 1 300 >"$(T in)"
    local shape
    for shape in -x --coproc; do
        rm -f "$(T shimlog)"
        srun FAILSHIM_READ_PATH='pipe:*' FAILSHIM_READ_EVERY=2 FAILSHIM_READ_ERRNO=EINTR \
            FAILSHIM_WRITE_PATH='pipe:*' FAILSHIM_WRITE_EVERY=2 FAILSHIM_WRITE_ERRNO=EINTR -- \
            -j 2 --stats json "$shape" sed -u 's/^/x/' <"$(T in)"
        [ "$status" -eq 0 ] || fail "$shape: exit $status: $stderr"
        injected read
        injected write
        [ -z "$(errors "$ERR")" ] || fail "$shape: $stderr"
        sed 's/^/x/' "$(T in)" >"$(T exp)"
        same_file "$(T exp)" "$OUT"
        check_invariant "$ERR"
    done
}

# ---- closed standard descriptors ---------------------------------------------

@test "stdin, stdout and stderr all closed: no crash, exit 1" {
    local rc=0
    timeout 10 "$WEIR" --stats json <&- >&- 2>&- || rc=$?
    [ "$rc" -eq 1 ] || fail "exit $rc"
}

@test "stderr closed: statuses stay as documented, and no message lands in a file weir opened" {
    seq 1 20 >"$(T in)"
    local rc=0
    # a runtime error
    timeout 10 "$WEIR" --stats json <"$(T in)" >/dev/full 2>&- || rc=$?
    [ "$rc" -eq 1 ] || fail "/dev/full: exit $rc"
    # a closed pipe
    seq 1 1000000 | timeout 10 "$WEIR" --stats json 2>&- | head -c 10 >/dev/null
    [ "${PIPESTATUS[1]}" -eq 141 ] || fail "EPIPE: exit ${PIPESTATUS[1]}"
    # warnings (--max-record), snapshots (-i) and the metrics file
    rc=0
    timeout 10 "$WEIR" --max-record 1 -i 1ms --metrics "$(T m)" --rejects "$(T rej)" --stats json \
        <"$(T in)" >"$(T out)" 2>&- || rc=$?
    [ "$rc" -eq 0 ] || fail "exit $rc"
    seq 1 9 >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    seq 10 20 >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
    ! grep -q 'weir:\|"final"' "$(T m)" || fail "metrics: $(grep 'weir:\|final' "$(T m)")"
    grep -qx 'weir_records_in_total 20' "$(T m)"
}

# ---- allocation failures from the outside --------------------------------------

@test "malloc fails from the N-th call on, for N across a run: no crash, a message, nothing accepted lost" {
    need_shim
    seq 1 20000 >"$(T in)"
    # how many allocations a whole run makes
    srun FAILSHIM_MALLOC_AFTER=1000000000 -- -j 2 -e upper --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    local total n step off summary
    total=$(sed -n 's/^weir malloc calls=\([0-9]*\) .*/\1/p' "$(T shimlog)")
    ((total > 0))
    # about 12 points over the run (setup, then batch by batch), from a
    # random offset so that repeated runs cover every N
    step=$(((total + 11) / 12)) off=$((RANDOM % step + 1))
    echo "# $total allocations; N = $off, $((off + step)), ... (every $step)" >&3
    for ((n = off; n <= total + 5; n += step)); do
        rm -f "$(T rej)"
        touch "$(T rej)"
        srun FAILSHIM_MALLOC_AFTER=$n -- -j 2 -e upper --rejects "$(T rej)" --stats json <"$(T in)"
        ((status < 124)) || fail "N=$n: exit $status (crash or hang): $stderr"
        if ((status != 0 && status != 1)); then
            # out of memory is exit 1, also while parsing the command line
            fail "N=$n: exit $status: ${stderr%%$'\n'*}"
        fi
        if ((status == 1)) && [[ $stderr != *"weir: "* ]]; then
            # every failure says what failed
            fail "N=$n: exit 1 without a message"
        fi
        # records_in, and whether the outcomes add up, from the summary if any
        summary=$(jq -nrR '[inputs | fromjson? | objects] | last // empty |
            "\(.records_in) \(.records_in == .records_done + .records_dropped +
                                .records_timed_out + .records_failed)"' "$ERR")
        [ -n "$summary" ] || continue # failed before the run began
        [ "${summary#* }" = true ] || fail "N=$n: invariant broken: $stderr"
        # every record read is in the output or the rejects file, once
        sort -n "$OUT" "$(T rej)" | cmp -s - <(seq 1 "${summary% *}") ||
            fail "N=$n: output + rejects are not the records read: $stderr"
        sort -nc "$OUT" || fail "N=$n: output out of order"
    done
}

# ---- memory stays bounded while a consumer stalls --------------------------------

@test "1 GB through a consumer that stalls 3 s: RSS stays below 2 x --capacity-bytes + 32M, output complete" {
    local size=1G
    ((SANITIZED)) && size=64M
    local line
    line=$(printf '%099d' 0) # 100-byte records: the byte bound, not -c, is what binds
    open_sleeper
    mkfifo "$(T in)" "$(T outp)"
    { yes "$line" | head -c "$size" | tee >(cksum >"$(T exp_sum)") >"$(T in)"; } 3>&- &
    BG_PIDS+=("$!")
    "$WEIR" -c 1000000 --capacity-bytes 16M --stats json <"$(T in)" >"$(T outp)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    { sleep 3; cksum; } <"$(T outp)" >"$(T sum)" 3>&- &
    local consumer=$!
    BG_PIDS+=("$consumer")
    local max=0 samples=0 k
    while kill -0 "$PID" 2>/dev/null; do
        k=$(rss_kb "$PID")
        if [ -n "$k" ]; then
            ((k > max)) && max=$k
            samples=$((samples + 1))
        fi
        nap 0.05
    done
    local rc=0
    wait "$PID" || rc=$?
    wait "$consumer"
    [ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$(T err)")"
    echo "# RSS at most $max KB over $samples samples" >&3
    ((samples >= 20)) || fail "only $samples samples"
    wait_until 10 file_nonempty "$(T exp_sum)"
    same_file "$(T exp_sum)" "$(T sum)"
    check_invariant "$(T err)"
    # the consumer did stall: the queue filled up to its byte bound
    jtrue "$(T err)" '.queue_max * 100 > 15 * 1048576 and .records_failed == 0' ||
        fail "$(cat "$(T err)")"
    if ((!SANITIZED)); then
        ((max < (16 * 2 + 32) * 1024)) || fail "RSS reached $max KB"
    fi
}
