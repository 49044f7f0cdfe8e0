#!/usr/bin/env bats
# External commands (weir(1), EXTERNAL COMMANDS): COMMAND once per record
# (stdin or {}), as a co-process per worker (--coproc), or once per block
# (--pipe); failures, retries, timeouts, the rejects file, what children get,
# signals forwarded to them, and memory with a slow head.

load helper

# run_in INPUT ARGS...: wrun with stdin from the string INPUT.
run_in() {
    local input=$1
    shift
    printf '%s' "$input" >"$(T in)"
    wrun "$@" <"$(T in)"
}

# no_procs PATTERN: no process whose command line matches PATTERN is left.
no_procs() {
    ! pgrep -f "$1" >/dev/null
}

# ---------------------------------------------------------------- per record

@test "exec: the record on stdin, output in input order with -j4" {
    seq 1 200 >"$(T in)"
    wrun -j4 --stats json sh -c 'printf "<%s>\n" "$(cat)"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    sed 's/.*/<&>/' "$(T in)" >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(jget "$ERR" .records_done)" -eq 200 ]
    [ "$(jget "$ERR" .records_out)" -eq 200 ]
    check_invariant "$ERR"
}

@test "exec: {} is the record without its delimiter, inside an argument too; stdin is /dev/null" {
    run_in $'a b\nc\n' /bin/sh -c 'printf "%s|%s|" "$1" "$2"; readlink /proc/self/fd/0' sh {} 'x{}y'
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    printf 'a b|xa by|/dev/null\nc|xcy|/dev/null\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
}

@test "exec: WEIR_SEQ is the record number, WEIR_WORKER the worker; WEIR_* of weir's own environment is not passed on" {
    seq 1 50 >"$(T in)"
    WEIR_RECORDS=leak wrun -j3 sh -c 'echo "$WEIR_SEQ $WEIR_WORKER $(cat) ${WEIR_RECORDS-unset}"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    awk '$1 != NR || $3 != NR || $4 != "unset" || $2 < 1 || $2 > 3 { bad++ } END { exit bad > 0 || NR != 50 }' \
        "$OUT" || fail "$(head "$OUT")"
}

@test "exec: a delimiter is added to output that lacks one, also with -d" {
    run_in $'a\nb\n' printf x
    [ "$status" -eq 0 ]
    printf 'x\nx\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    run_in 'a,b,' -d , printf y
    printf 'y,y,' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
}

@test "exec: empty output filters the record; several lines count as several records out" {
    seq 1 10 >"$(T in)"
    wrun --stats json awk '$1 % 2 == 0 { print; print "and" }' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    seq 2 2 10 | sed 'a and' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(jget "$ERR" .records_done)" -eq 10 ]
    [ "$(jget "$ERR" .records_out)" -eq 10 ]
    [ "$(jget "$ERR" .records_failed)" -eq 0 ]
}

@test "exec: a record holding NUL cannot go into {}: that record fails, with a message, the rest goes on" {
    printf 'a\0b\nc\n' >"$(T in)"
    wrun --rejects "$(T rej)" --stats json /bin/echo {} <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(cat "$OUT")" = c ]
    printf 'a\0b\n' >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
    grep -q 'record 1: holds a NUL byte' "$ERR" || fail "no message: $stderr"
    [ "$(jget "$ERR" .records_failed)" -eq 1 ]
    check_invariant "$ERR"
}

@test "exec: a non-zero exit fails that record: counted, in the rejects file, named on stderr, exit 0" {
    seq 1 10 >"$(T in)"
    wrun -j2 --rejects "$(T rej)" --stats json sh -c 'read n; [ "$n" != 5 ] && echo "$n"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    seq 1 10 | grep -vx 5 >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(cat "$(T rej)")" = 5 ]
    grep -q 'record 5: sh exited with status 1: failed' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .records_failed)" -eq 1 ]
    [ "$(jget "$ERR" .records_done)" -eq 9 ]
    check_invariant "$ERR"
}

@test "exec: a child killed by a signal fails its record" {
    run_in $'a\nb\n' --stats json sh -c 'read r; [ "$r" = b ] && kill -9 $$; echo "$r"'
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(cat "$OUT")" = a ]
    grep -q 'record 2: sh killed by signal 9' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .records_failed)" -eq 1 ]
}

@test "exec: --on-error fail stops with exit 1 and a message; nothing accepted is lost" {
    seq 1 10 >"$(T in)"
    wrun --on-error fail --rejects "$(T rej)" --stats json sh -c 'read n; [ "$n" != 5 ] && echo "$n"' <"$(T in)"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    grep -q 'stopping (--on-error fail)' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .exit)" -eq 1 ]
    check_invariant "$ERR"
    # every record read is in the output or the rejects file
    sort -n "$OUT" "$(T rej)" | cmp -s - <(seq 1 "$(jget "$ERR" .records_in)") ||
        fail "out: $(cat "$OUT") rejects: $(cat "$(T rej)")"
}

@test "exec: a child that never reads its stdin (a 4 MB record) does not hurt weir" {
    { head -c 4000000 /dev/zero | tr '\0' a; echo; echo small; } >"$(T in)"
    wrun --max-record 8M --stats json sh -c 'echo done' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    printf 'done\ndone\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(jget "$ERR" .records_done)" -eq 2 ]
}

@test "exec: a child writing endless output is stopped at --capacity-bytes and fails its record" {
    run_in $'x\n' --capacity-bytes 1M --stats json yes
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ ! -s "$OUT" ]
    grep -q 'record 1: yes wrote more output than --capacity-bytes' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .records_failed)" -eq 1 ]
}

@test "exec: --job-timeout kills the child's whole process group" {
    local start=$EPOCHSECONDS
    run_in $'x\ny\n' --job-timeout 200ms --stats json sh -c 'sleep 30.4711 & sleep 30.4711; echo late'
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    ((EPOCHSECONDS - start < 20)) || fail "took $((EPOCHSECONDS - start)) s"
    [ ! -s "$OUT" ]
    grep -q 'record 1: sh timed out (--job-timeout): failed' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .records_failed)" -eq 2 ]
    wait_until 5 no_procs 'sleep 30.4711' || fail "left running: $(pgrep -af 'sleep 30.4711')"
}

@test "exec, coproc, pipe: records failed by --job-timeout are counted as such in the summary and the metrics" {
    printf 'x\ny\n' >"$(T in)"
    local m
    m=$(T m.prom)
    wrun --job-timeout 100ms --metrics "$m" sh -c 'sleep 5' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    grep -q '^weir:   done 0 (0.0%), .*, failed 2 (100.0%; 2 job timeouts), retried 0$' "$ERR" ||
        fail "$stderr"
    grep -qx 'weir_records_job_timeouts_total 2' "$m" || fail "$(cat "$m")"
    if command -v promtool >/dev/null; then
        promtool check metrics <"$m" || fail "promtool: $(promtool check metrics <"$m" 2>&1)"
    fi
    for mode in --exec --coproc --pipe; do
        wrun --job-timeout 100ms --stats json "$mode" sh -c 'sleep 5' <"$(T in)"
        [ "$status" -eq 0 ] || fail "$mode: exit $status: $stderr"
        [ "$(jget "$ERR" .records_failed)" -eq 2 ] || fail "$mode: $stderr"
        [ "$(jget "$ERR" .records_job_timeouts)" -eq 2 ] || fail "$mode: $stderr"
        [ "$(jget "$ERR" .records_timed_out)" -eq 0 ] || fail "$mode: $stderr"
    done
    # a failure of another cause is not one
    wrun --stats json false <"$(T in)"
    [ "$(jget "$ERR" .records_failed)" -eq 2 ] || fail "$stderr"
    [ "$(jget "$ERR" .records_job_timeouts)" -eq 0 ] || fail "$stderr"
}

@test "exec: --retries runs a failed record again and counts it" {
    mkdir "$(T marks)"
    seq 1 20 >"$(T in)"
    # each record fails on its first try only
    local cmd='n=$(cat); mkdir "$0/$n" 2>/dev/null && exit 1; echo "$n"'
    wrun -j2 --retries 1 --stats json sh -c "$cmd" "$(T marks)" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    [ "$(jget "$ERR" .records_retried)" -eq 20 ]
    [ "$(jget "$ERR" .records_failed)" -eq 0 ]
    # without retries the same records fail
    rm -r "$(T marks)" && mkdir "$(T marks)"
    wrun -j2 --stats json sh -c "$cmd" "$(T marks)" <"$(T in)"
    [ "$(jget "$ERR" .records_failed)" -eq 20 ]
    [ "$(jget "$ERR" .records_retried)" -eq 0 ]
}

@test "exec: a child gets none of weir's descriptors, no blocked or ignored standard signal" {
    # ls and grep are the children themselves (no shell in between); weir
    # holds a rejects file, pipes and more: the child must see just what
    # the same ls started from this shell sees
    seq 1 3 >"$(T in)"
    ls /proc/self/fd <"$(T in)" >"$(T exp)"
    wrun -j2 --rejects "$(T rej)" ls /proc/self/fd <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(sort -u "$OUT")" = "$(sort -u "$(T exp)")" ] ||
        fail "descriptors: $(sort -u "$OUT" | tr '\n' ' '), expected $(sort -u "$(T exp)" | tr '\n' ' ')"
    wrun grep -E '^Sig(Blk|Ign)' /proc/self/status <"$(T in)"
    grep -qx $'SigBlk:\t0000000000000000' "$OUT" || fail "$(cat "$OUT")"
    # signals 1..31 (glibc keeps its own two internal signals ignored)
    local ign
    ign=$(awk '$1 == "SigIgn:" { print $2; exit }' "$OUT")
    (((16#$ign & 0x7fffffff) == 0)) || fail "ignored in the child: $ign"
}

# ---------------------------------------------------------------- co-process

@test "coproc: 10000 records through two sed -u, answered in order" {
    seq 1 10000 >"$(T in)"
    wrun -j2 --coproc --stats json -- sed -u 's/^/P:/' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    sed 's/^/P:/' "$(T in)" >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(jget "$ERR" .records_out)" -eq 10000 ]
    [ "$(jget "$ERR" .workers)" -eq 2 ]
}

@test "coproc: long records and long replies do not deadlock" {
    # 1000 records of 20 KB, each answered with 80 KB: both pipes fill up
    local rec
    rec=$(head -c 20000 /dev/zero | tr '\0' r)
    for i in $(seq 1 1000); do echo "$i$rec"; done >"$(T in)"
    wrun -j2 --coproc -- sed -u 's/.*/&&&&/' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    sed 's/.*/&&&&/' "$(T in)" | cmp -s - "$OUT" || fail "output differs"
}

@test "coproc: one that dies on a record fails that record only; the rest are answered by its successor" {
    seq 1 20 >"$(T in)"
    wrun -j1 --coproc --rejects "$(T rej)" --stats json -- \
        sh -c 'while read l; do [ "$l" = 7 ] && exit 3; echo "r$l"; done' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    seq 1 20 | grep -vx 7 | sed 's/^/r/' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(cat "$(T rej)")" = 7 ]
    grep -q 'record 7: co-process sh exited with status 3: failed' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .records_failed)" -eq 1 ]
    [ "$(jget "$ERR" .records_done)" -eq 19 ]
}

@test "coproc: one that never answers a record trips --job-timeout and is replaced" {
    seq 1 6 >"$(T in)"
    wrun -j1 --coproc --job-timeout 300ms --stats json -- \
        sh -c 'while read l; do [ "$l" = 3 ] && exec sleep 30.4712; echo "$l"; done' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    printf '1\n2\n4\n5\n6\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    grep -q 'record 3: co-process sh timed out' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .records_failed)" -eq 1 ]
    wait_until 5 no_procs 'sleep 30.4712' || fail "left running"
}

# The hint weir gives about a co-process that answers nothing.
QUIET_HINT='^weir: co-process sed has answered none of [0-9]+ records in 3 s: is it buffering its output\? It must answer each record and flush it \(sed -u, jq --unbuffered, .*; see Co-process in weir\(1\)\)$'

@test "coproc: one that buffers its output (sed without -u) is named after 3 s, once for all workers; nothing is killed" {
    start_weir -q -j2 --coproc sed s/x4714/y/
    local start
    start=$(now_ms)
    seq 1 100 >&$W # both workers get records; stdin stays open
    wait_until 15 grep -Eq "$QUIET_HINT" "$(T err)" || fail "no hint: $(cat "$(T err)")"
    local took=$(($(now_ms) - start))
    ((took >= 2900)) || fail "the hint came after $took ms, before 3 s"
    sleep 0.5 # time for a second hint, if there were one
    [ "$(grep -c 'co-process sed' "$(T err)")" -eq 1 ] || fail "more than one hint: $(cat "$(T err)")"
    kill -0 "$PID" || fail "weir ended"
    [ "$(pgrep -fcx 'sed s/x4714/y/')" -eq 2 ] || fail "co-processes: $(pgrep -afx 'sed s/x4714/y/')"
    kill -TERM "$PID"
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 143 ] || fail "exit $RC: $(cat "$(T err)")"
}

@test "coproc: one that answers slowly, but answers, gets no hint" {
    seq 1 4 >"$(T in)" # 4 s of replies, 1 s apart: quiet for 3 s at no time
    wrun -j1 --coproc sh -c 'while read l; do sleep 1; echo "$l"; done' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    ! grep -q 'answered none' "$ERR" || fail "$stderr"
}

@test "coproc: one that answers nothing at all fails every record and ends" {
    seq 1 5 >"$(T in)"
    wrun --coproc --stats json true <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(jget "$ERR" .records_failed)" -eq 5 ]
    check_invariant "$ERR"
}

@test "coproc: more replies than records is reported" {
    seq 1 10 >"$(T in)"
    # in the middle (seen when replies outnumber records) and at the end
    # (seen when the co-process ends)
    for at in 5 10; do
        wrun -j1 --coproc --stats json -- \
            sh -c 'while read l; do echo "$l"; [ "$l" = "$0" ] && echo extra; done' "$at" <"$(T in)"
        [ "$status" -eq 0 ] || fail "exit $status: $stderr"
        grep -q 'co-process sh .*answered more records than it was sent' "$ERR" || fail "$stderr"
        check_invariant "$ERR"
    done
}

@test "coproc: --retries sends a failed record again to the restarted co-process" {
    mkdir "$(T marks)"
    seq 1 5 >"$(T in)"
    wrun -j1 --coproc --retries 2 --stats json -- \
        sh -c 'while read l; do [ "$l" = 3 ] && mkdir "$0/m" 2>/dev/null && exit 1; echo "$l"; done' "$(T marks)" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    [ "$(jget "$ERR" .records_retried)" -eq 1 ]
    [ "$(jget "$ERR" .records_failed)" -eq 0 ]
}

# ---------------------------------------------------------------- per block

# blocks_log: the "SEQ RECORDS BYTES" lines the children logged.
PIPE_LOG='d=$(cat; echo .); d=${d%.}; printf %s "$d"; echo "$WEIR_SEQ $WEIR_RECORDS ${#d}" >>"$0"'

@test "pipe: blocks of whole records within --block, in order, WEIR_SEQ and WEIR_RECORDS right" {
    seq 1 100000 >"$(T in)"
    wrun --pipe -j2 --block 64K --stats json -- sh -c "$PIPE_LOG" "$(T log)" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    # block numbers 1..N once each, records add up, no block over 64K
    sort -n "$(T log)" | awk '$1 != NR || $3 > 65536 { bad++ } { sum += $2 }
        END { if (bad || sum != 100000) { print bad, sum; exit 1 } }' || fail "$(sort -n "$(T log)" | head)"
    [ "$(jget "$ERR" .records_done)" -eq 100000 ]
    [ "$(jget "$ERR" .records_out)" -eq 100000 ]
}

@test "pipe: --block-records bounds the records in a block; -u keeps every record" {
    seq 1 1000 >"$(T in)"
    wrun --pipe -j2 -u --block-records 7 -- sh -c "$PIPE_LOG" "$(T log)" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    sort -n "$OUT" | cmp -s - "$(T in)" || fail "records lost or changed"
    awk '$2 > 7 || $2 < 1 { bad++ } END { exit bad > 0 }' "$(T log)" || fail "$(cat "$(T log)")"
}

@test "pipe: ordered output with children finishing out of order" {
    seq 1 2000 >"$(T in)"
    wrun --pipe -j2 --block-records 50 -- sh -c 'sleep 0.0$((WEIR_SEQ % 3)); cat' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
}

@test "pipe: a block whose child fails goes whole to the rejects file, counts exact" {
    seq 1 100 >"$(T in)"
    wrun --pipe --block-records 10 --rejects "$(T rej)" --stats json -- \
        sh -c 'd=$(cat); [ "$WEIR_SEQ" = 3 ] && exit 1; printf "%s\n" "$d"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    grep -q 'block 3: sh exited with status 1: failed' "$ERR" || fail "$stderr"
    local nrej
    nrej=$(wc -l <"$(T rej)")
    ((nrej >= 1 && nrej <= 10)) || fail "$nrej records rejected"
    [ "$(jget "$ERR" .records_failed)" -eq "$nrej" ]
    [ "$(jget "$ERR" .records_done)" -eq $((100 - nrej)) ]
    # the rejected block is a run of consecutive records; output and rejects make the input
    awk 'NR > 1 && $1 != prev + 1 { exit 1 } { prev = $1 }' "$(T rej)" || fail "$(cat "$(T rej)")"
    sort -n "$OUT" "$(T rej)" | cmp -s - "$(T in)" || fail "records lost"
    grep -vxFf "$(T rej)" "$(T in)" | cmp -s - "$OUT" || fail "output out of order"
}

@test "pipe: a child that writes elsewhere (exec cat >FILE) still gets all of its block" {
    seq 1 300000 >"$(T in)"
    mkdir "$(T side)"
    wrun --pipe -j2 --block 1M -- sh -c 'exec cat >"$0/$WEIR_SEQ"' "$(T side)" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    cat "$(T side)"/* | sort -n | cmp -s - "$(T in)" ||
        fail "$(cat "$(T side)"/* | wc -l) of 300000 records reached the files"
}

@test "pipe: a block's output is kept as written (gzip per block makes one valid gzip stream)" {
    seq 1 200000 >"$(T in)"
    wrun --pipe -j2 --block 256K -- gzip -c <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    gzip -dc <"$OUT" | cmp -s - "$(T in)" || fail "gzip -dc differs"
}

# ---------------------------------------------------------------- signals

# start_children ARGS...: weir running ARGS on 5 records from the fifo,
# with two children (sleep 30.4713) running.
start_children() {
    start_weir --stats json -j2 "$@"
    seq 1 5 >&$W
    wait_until 10 eval '[ "$(pgrep -fc "sleep 30.4713")" -ge 2 ]' || fail "children did not start"
}

@test "SIGINT is forwarded to running children: exit 130 quickly, none left, counts add up" {
    start_children sleep 30.4713
    local start=$EPOCHSECONDS
    kill -INT "$PID"
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T err)")"
    ((EPOCHSECONDS - start < 20)) || fail "took $((EPOCHSECONDS - start)) s"
    no_procs 'sleep 30.4713' || fail "left running: $(pgrep -af 'sleep 30.4713')"
    check_invariant "$(T err)"
    [ "$(jget "$(T err)" .records_done)" -eq 0 ]
}

@test "SIGTERM reaches co-processes too: exit 143, none left" {
    start_children --coproc -- sh -c 'exec sleep 30.4713'
    kill -TERM "$PID"
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 143 ] || fail "exit $RC: $(cat "$(T err)")"
    no_procs 'sleep 30.4713' || fail "left running: $(pgrep -af 'sleep 30.4713')"
    check_invariant "$(T err)"
}

@test "SIGINT: a record that failed before the signal counts as failed, the rest as dropped" {
    start_weir --stats json -j1 --coproc -- \
        sh -c 'while read l; do [ "$l" = 1 ] && exit 1; [ "$l" = 2 ] && exec sleep 30.4713; echo "$l"; done'
    seq 1 5 >&$W
    wait_until 10 eval '[ "$(pgrep -fc "sleep 30.4713")" -ge 1 ]' || fail "record 2 did not start"
    kill -INT "$PID"
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T err)")"
    [ "$(jget "$(T err)" .records_failed)" -eq 1 ] || fail "$(json_line "$(T err)")"
    [ "$(jget "$(T err)" .records_dropped)" -eq 4 ] || fail "$(json_line "$(T err)")"
    check_invariant "$(T err)"
}

# ---------------------------------------------------------------- memory

# stalled_head ARGS...: endless input, one child stuck at the head of the
# ordered output (the first to take the lock sleeps), stdout drained: weir
# must stop reading after a bounded amount. Ends weir with SIGTERM, which
# also ends the stuck child.
stalled_head() {
    mkfifo "$(T in)"
    yes 'a line of forty bytes, give or take....' >"$(T in)" 3>&- 2>/dev/null &
    BG_PIDS+=("$!")
    "$WEIR" -q -j2 -c 100 --capacity-bytes 256K "$@" <"$(T in)" 2>"$(T err)" 3>&- >/dev/null &
    PID=$!
    BG_PIDS+=("$PID")
    wait_until 10 weir_ready "$PID" || fail "weir did not start"
    stops_reading "$PID" $((16 * 1024 * 1024)) "behind a stuck head"
    kill -TERM "$PID"
    wait "$PID" || true
    wait_until 5 no_procs 'sleep 30.4714' || fail "left running"
}

STUCK='mkdir "$0" 2>/dev/null && exec sleep 30.4714; exec cat'

@test "memory: a stuck record at the head stops intake (per-record exec)" {
    stalled_head -- sh -c "$STUCK" "$(T lock)"
}

@test "memory: a stuck record at the head stops intake (--coproc)" {
    stalled_head --coproc -- sh -c "$STUCK" "$(T lock)"
}

@test "memory: a stuck block at the head stops intake (--pipe)" {
    stalled_head --pipe --block 16K -- sh -c "$STUCK" "$(T lock)"
}
