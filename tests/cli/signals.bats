#!/usr/bin/env bats
# Signals and a closed stdout (weir(1), SIGNALS): SIGINT/SIGTERM drain and exit
# 130/143, a second signal aborts at once, EPIPE exits 141 quietly.

load helper

# finish_weir: waits for weir, sets RC, closes the fifo.
finish_weir() {
    RC=0
    wait "$PID" || RC=$?
    if [ -n "${W:-}" ]; then exec {W}>&-; fi
}

# snapshot_shows N: asks for a SIGUSR1 snapshot and checks it counts N
# records read.
snapshot_shows() {
    kill -USR1 "$PID"
    sleep 0.05
    grep -q "\"records_in\":$1," "$(T err)"
}

@test "SIGINT while reading from a slow producer: exit 130, records written, stats" {
    start_weir --stats json
    printf '1\n2\n3\n4\n5\n' >&$W
    wait_until 5 lines_at_least 5 "$(T out)" || fail "no output before the signal"
    kill -INT "$PID"
    finish_weir
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T err)")"
    seq 1 5 >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    [ "$(jget "$(T err)" .exit)" -eq 130 ]
    [ "$(jget "$(T err)" .records_in)" -eq 5 ]
    [ "$(jget "$(T err)" .records_done)" -eq 5 ]
    check_invariant "$(T err)"
}

@test "SIGINT with the default text summary: exit 130, summary printed" {
    start_weir
    printf 'a\nb\n' >&$W
    wait_until 5 lines_at_least 2 "$(T out)"
    kill -INT "$PID"
    finish_weir
    [ "$RC" -eq 130 ]
    [ -s "$(T err)" ]
    [ "$(grep -vc '^weir: ' "$(T err)")" -eq 0 ]
}

@test "SIGINT in the middle of a record: its bytes are counted, dropped and rejected" {
    start_weir --stats json --rejects "$(T rej)"
    printf 'a\nbb' >&$W
    wait_until 5 lines_at_least 1 "$(T out)" || fail "no output before the signal"
    sleep 0.2 # the partial record is read too
    kill -INT "$PID"
    finish_weir
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T err)")"
    printf 'a\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    printf 'bb\n' >"$(T exp_rej)"
    same_file "$(T exp_rej)" "$(T rej)"
    [ "$(jget "$(T err)" .records_in)" -eq 2 ]
    [ "$(jget "$(T err)" .records_dropped)" -eq 1 ]
    [ "$(jget "$(T err)" .bytes_in)" -eq 4 ]
    [ "$(grep -c 'record 2 was read only in part (2 bytes)' "$(T err)")" -eq 1 ]
    check_invariant "$(T err)"
}

@test "SIGTERM: exit 143, records written, stats" {
    start_weir --stats json -j 2
    seq 1 100 >&$W
    wait_until 5 lines_at_least 100 "$(T out)" || fail "no output before the signal"
    kill -TERM "$PID"
    finish_weir
    [ "$RC" -eq 143 ] || fail "exit $RC: $(cat "$(T err)")"
    seq 1 100 >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    [ "$(jget "$(T err)" .exit)" -eq 143 ]
    check_invariant "$(T err)"
}

@test "SIGINT before any input: exit 130, nothing written" {
    start_weir --stats json
    kill -INT "$PID"
    finish_weir
    [ "$RC" -eq 130 ]
    [ ! -s "$(T out)" ]
    [ "$(jget "$(T err)" .records_in)" -eq 0 ]
}

@test "SIGINT while blocked behind a slow stage: what was read is written or rejected" {
    seq 1 20000 >"$(T in)"
    "$WEIR" -c 4 -j 1 --op sleep:5ms --stats json --rejects "$(T rej)" \
        <"$(T in)" >"$(T out)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    W=
    wait_until 5 lines_at_least 3 "$(T out)" || fail "no output"
    local t0 t1
    t0=$(now_ms)
    kill -INT "$PID"
    finish_weir
    t1=$(now_ms)
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T err)")"
    # the drain is capacity + workers records of 5 ms: well under 5 s
    ((t1 - t0 < 5000)) || fail "drain took $((t1 - t0)) ms"
    check_invariant "$(T err)"
    local n
    n=$(jget "$(T err)" .records_in)
    # (one read may take in the whole file: the rest of it is then rejected)
    [ "$n" -le 20000 ]
    # stdout is a prefix of the input; stdout + rejects are exactly the
    # records read, each once
    [ "$(jget "$(T err)" .records_done)" -eq "$(wc -l <"$(T out)")" ]
    head -n "$(wc -l <"$(T out)")" "$(T in)" >"$(T prefix)"
    same_file "$(T prefix)" "$(T out)"
    touch "$(T rej)"
    seq 1 "$n" >"$(T exp)"
    cat "$(T out)" "$(T rej)" | sort -n >"$(T all)"
    same_file "$(T exp)" "$(T all)"
}

@test "a second SIGINT aborts at once even with a stalled stage" {
    start_weir --stats json -j 1 --op sleep:10s
    printf '1\n2\n3\n' >&$W
    # let weir read the records (one is now stuck in a 10 s sleep)
    wait_until 5 snapshot_shows 3 || fail "records not read: $(cat "$(T err)")"
    local t0 t1
    t0=$(now_ms)
    kill -INT "$PID"
    sleep 0.2
    kill -0 "$PID" || fail "exited on the first SIGINT despite a stalled stage"
    kill -INT "$PID"
    finish_weir
    t1=$(now_ms)
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T err)")"
    ((t1 - t0 < 5000)) || fail "took $((t1 - t0)) ms to abort"
    # stats are still printed (after the snapshots)
    [ "$(jget "$(T err)" .exit)" -eq 130 ] || fail "no final stats: $(cat "$(T err)")"
}

@test "SIGTERM then SIGINT also aborts at once" {
    start_weir --stats json -j 1 --op sleep:10s
    printf 'x\n' >&$W
    wait_until 5 snapshot_shows 1 || fail "record not read: $(cat "$(T err)")"
    local t0 t1
    t0=$(now_ms)
    kill -TERM "$PID"
    sleep 0.1
    kill -INT "$PID"
    finish_weir
    t1=$(now_ms)
    [ "$RC" -eq 130 ] || [ "$RC" -eq 143 ] || fail "exit $RC"
    ((t1 - t0 < 5000)) || fail "took $((t1 - t0)) ms"
}

@test "stdout closed early: exit 141, no error message" {
    seq 1 1000000 >"$(T in)"
    local st
    "$WEIR" -q <"$(T in)" 2>"$(T err)" | head -n 1 >"$(T out)"
    st=("${PIPESTATUS[@]}")
    [ "${st[0]}" -eq 141 ] || fail "weir exit ${st[0]}: $(cat "$(T err)")"
    [ "$(cat "$(T out)")" = 1 ]
    [ ! -s "$(T err)" ] || fail "stderr: $(cat "$(T err)")"
}

@test "stdout closed early through a pipeline: seq | weir | head -1" {
    local st
    seq 1 1000000 | "$WEIR" -q -j 2 2>"$(T err)" | head -1 >"$(T out)"
    st=("${PIPESTATUS[@]}")
    [ "${st[1]}" -eq 141 ] || fail "weir exit ${st[1]}: $(cat "$(T err)")"
    [ "$(cat "$(T out)")" = 1 ]
    [ ! -s "$(T err)" ] || fail "stderr: $(cat "$(T err)")"
}

@test "stdout closed early with stats: only the summary on stderr" {
    local st
    seq 1 1000000 | "$WEIR" --stats json 2>"$(T err)" | head -1 >/dev/null
    st=("${PIPESTATUS[@]}")
    [ "${st[1]}" -eq 141 ]
    [ "$(wc -l <"$(T err)")" -eq 1 ] || fail "stderr: $(cat "$(T err)")"
    jq -e '.exit == 141' "$(T err)" >/dev/null
}

@test "stdout closed early while the stage is slow and the policy sheds" {
    local st
    seq 1 100000 | "$WEIR" -q -p drop -c 2 --op sleep:1ms 2>"$(T err)" | head -1 >/dev/null
    st=("${PIPESTATUS[@]}")
    # weir may finish before it notices the closed pipe; either way quietly
    [ "${st[1]}" -eq 141 ] || [ "${st[1]}" -eq 0 ] || fail "weir exit ${st[1]}"
    [ ! -s "$(T err)" ] || fail "stderr: $(cat "$(T err)")"
}
