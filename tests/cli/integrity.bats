#!/usr/bin/env bats
# Data integrity at the edges: the open last record under -u, oversize
# records cut short, closed standard descriptors, counts after stdout
# fails, and signals in the first milliseconds. Each test here failed on
# an earlier weir; see the man page (RECORDS, EXIT STATUS, SIGNALS).

load helper

@test "-u: an unterminated last record is written last, never glued to another (20 tries)" {
    for i in $(seq 20); do
        printf 'a\nb\nc\nd' | "$WEIR" -q -u -j 4 -e sleep:10ms >"$(T out)"
        [ "$(tail -c 1 "$(T out)")" = d ] || fail "try $i: $(od -c "$(T out)")"
        [ "$(head -c 6 "$(T out)" | sort | tr -d '\n')" = abc ] ||
            fail "try $i: $(od -c "$(T out)")"
        [ "$(wc -c <"$(T out)")" -eq 7 ] || fail "try $i: $(od -c "$(T out)")"
    done
}

@test "-u with fast ops and many records: the open last record still comes last" {
    seq 1 20000 | head -c -1 >"$(T in)"
    for i in $(seq 5); do
        "$WEIR" -q -u -j 3 -c 7 -e sleep:1us <"$(T in)" >"$(T out)"
        [ "$(tail -c 5 "$(T out)")" = 20000 ] || fail "try $i: $(tail -c 20 "$(T out)" | od -c)"
        sort -n "$(T out)" | cmp - <(seq 1 20000) || fail "try $i: records differ"
    done
}

@test "fail policy stops reading inside an oversize record: it is counted, warned and terminated in the rejects" {
    printf 'a\nb\nc\nxxxxxxxxxx' >"$(T in)"
    # one worker: a is taken, b waits in the queue, c finds it full: overload
    wrun -p fail -c 1 -j 1 -e sleep:100ms --max-record 4 --rejects "$(T rej)" --stats json \
        <"$(T in)"
    [ "$status" -eq 75 ] || fail "exit $status: $stderr"
    printf 'c\nxxxxxxxxxx\n' >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
    [[ $stderr == *"record 4 is longer than --max-record 4 bytes"* ]] || fail "$stderr"
    [ "$(jget "$ERR" .records_in)" -eq 4 ]
    [ "$(jget "$ERR" .records_done)" -eq 2 ]
    [ "$(jget "$ERR" .records_failed)" -eq 2 ]
    [ "$(jget "$ERR" .bytes_in)" -eq 16 ]
    check_invariant "$ERR"
}

@test "SIGINT while an oversize record is arriving: counted, and the next append starts a new line" {
    start_weir --max-record 4 --rejects "$(T rej)" --stats json
    printf 'a\nxxxxxxxxxx' >&$W
    wait_until 5 size_is "$(T rej)" 10 || fail "rejects: $(cat "$(T rej)")"
    wait_until 5 lines_at_least 1 "$(T out)"
    kill -INT "$PID"
    RC=0
    wait "$PID" || RC=$?
    exec {W}>&-
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T err)")"
    [ "$(jget "$(T err)" .records_in)" -eq 2 ]
    [ "$(jget "$(T err)" .records_failed)" -eq 1 ]
    [ "$(jget "$(T err)" .bytes_in)" -eq 12 ]
    grep -q 'record 2 is longer' "$(T err)"
    printf 'yyyyyy\nz\n' | "$WEIR" -q --max-record 4 --rejects "$(T rej)" >/dev/null 2>&1
    printf 'xxxxxxxxxx\nyyyyyy\n' >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
}

@test "closed stdin: one clear error, exit 1, no hang" {
    timeout 10 "$WEIR" --stats json <&- 2>"$(T err)" >"$(T out)" && RC=0 || RC=$?
    [ "$RC" -eq 1 ] || fail "exit $RC: $(cat "$(T err)")"
    [ "$(cat "$(T err)")" = "weir: stdin: Bad file descriptor" ]
    [ ! -s "$(T out)" ]
}

@test "closed stdout: one clear error, exit 1, nothing written into the rejects file" {
    seq 3 | timeout 10 "$WEIR" --rejects "$(T rej)" >&- 2>"$(T err)" && RC=0 || RC=$?
    [ "$RC" -eq 1 ] || fail "exit $RC"
    [ "$(cat "$(T err)")" = "weir: stdout: Bad file descriptor" ]
    [ ! -s "$(T rej)" ]
}

@test "closed stderr: warnings do not land in the rejects file" {
    seq 9 11 | timeout 10 "$WEIR" --max-record 1 --rejects "$(T rej)" 2>&- >"$(T out)" && RC=0 || RC=$?
    [ "$RC" -eq 0 ] || fail "exit $RC"
    printf '10\n11\n' >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
    printf '9\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "stdout closed early: every record read is accounted for, and shed ones reach the rejects" {
    for i in 1 2 3; do
        seq 100000 | "$WEIR" --stats json -c 100 -j 2 -e sleep:100us --rejects "$(T rej$i)" \
            2>"$(T err)" | head -1 >/dev/null
        [ "${PIPESTATUS[1]}" -eq 141 ] || fail "exit ${PIPESTATUS[1]}: $(cat "$(T err)")"
        [ "$(grep -c '^weir:' "$(T err)")" -eq 0 ] || fail "EPIPE is quiet: $(cat "$(T err)")"
        check_invariant "$(T err)"
        local dropped in
        dropped=$(jget "$(T err)" .records_dropped)
        in=$(jget "$(T err)" .records_in)
        [ "$(wc -l <"$(T rej$i)")" -eq "$dropped" ] || fail "rejects $(wc -l <"$(T rej$i)") != $dropped"
        # unique, but for the record cut by the stop: a prefix of record $in
        # that may equal a whole record also rejected
        local dup
        dup=$(sort "$(T rej$i)" | uniq -d)
        [ -z "$dup" ] || [[ $in == "$dup"* ]] || fail "duplicate rejects: $dup"
        awk -v n="$in" '$0 < 1 || $0 > n { exit 1 }' "$(T rej$i)"
    done
}

@test "stdout on /dev/full: nothing counted as written, the rest failed, exit 1" {
    seq 10 | timeout 10 "$WEIR" --stats json -u -j 3 -e sleep:100us -c 8 --rejects "$(T rej)" \
        >/dev/full 2>"$(T err)" && RC=0 || RC=$?
    [ "$RC" -eq 1 ] || fail "exit $RC"
    grep -q '^weir: write stdout: No space left on device$' "$(T err)"
    [ "$(jget "$(T err)" .records_out)" -eq 0 ]
    [ "$(jget "$(T err)" .bytes_out)" -eq 0 ]
    [ "$(jget "$(T err)" .records_done)" -eq 0 ]
    [ "$(jget "$(T err)" .records_failed)" -eq 10 ]
    check_invariant "$(T err)"
    seq 10 >"$(T exp)"
    sort -n "$(T rej)" | cmp - "$(T exp)"
}

@test "a signal before the pipeline starts is not lost: summary printed, exit 143" {
    # the rejects file is a fifo, so weir waits in open() with no reader:
    # the signal comes while it is still setting up
    mkfifo "$(T rejfifo)"
    seq 5 >"$(T in)"
    "$WEIR" --stats json --rejects "$(T rejfifo)" <"$(T in)" >"$(T out)" 2>"$(T err)" &
    PID=$!
    BG_PIDS+=("$PID")
    sleep 0.3
    kill -TERM "$PID"
    sleep 0.1
    cat "$(T rejfifo)" >/dev/null &
    BG_PIDS+=($!)
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 143 ] || fail "exit $RC: $(cat "$(T err)")"
    [ "$(jget "$(T err)" .exit)" -eq 143 ]
    check_invariant "$(T err)"
}

@test "a record shed while an over-long one is still arriving does not land inside it in the rejects file" {
    { printf 'bad\n'; printf 'xxxxxxxxxx'; sleep 0.5; printf 'yyyy\n'; } |
        "$WEIR" -q --max-record 4 --rejects "$(T rej)" sh -c 'sleep 0.2; exit 1' 2>/dev/null || true
    sort "$(T rej)" >"$(T got)"
    printf 'bad\nxxxxxxxxxxyyyy\n' >"$(T exp)"
    same_file "$(T exp)" "$(T got)"
}
