#!/usr/bin/env bats
# Rate limiting (weir(1), RATE LIMITING): token buckets on records (-r/--burst) and bytes
# (--byte-rate/--byte-burst), classic semantics: the bucket starts full,
# at most burst + rate*T admitted over any T, idle time banks no more than
# the burst, waiting obeys the policy. Lower time bounds are mathematical
# (never faster than the rate); upper bounds are generous.

load helper

# timed ARGS...: wrun with the elapsed wall time in $MS.
timed() {
    local t0
    t0=$(now_ms)
    wrun "$@"
    MS=$(($(now_ms) - t0))
}

# between LO HI: $MS within [LO, HI] ms.
between() {
    ((MS >= $1 && MS <= $2)) || fail "took $MS ms, expected $1..$2 ms"
}

@test "-r 100 --burst 1: 201 records take about 2 s and nothing is lost" {
    seq 1 201 >"$(T in)"
    timed -r 100 --burst 1 --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    # 200 tokens must accrue at 100/s: at least 2 s, whatever the machine
    between 1980 3500
    jq -e '.limiter_wait_s > 1 and .limiter_wait_s <= .elapsed_s + 0.01' "$ERR" >/dev/null ||
        fail "limiter wait: $(cat "$ERR")"
    check_invariant "$ERR"
}

@test "rate forms: 300/3s, 6000/m and 10/100ms all mean 100/s" {
    seq 1 51 >"$(T in)"
    local r
    for r in 300/3s 6000/m 10/100ms; do
        timed -q --rate "$r" --burst 1 <"$(T in)"
        [ "$status" -eq 0 ] || fail "-r $r: exit $status: $stderr"
        same_file "$(T in)" "$OUT"
        between 490 1500 || fail "-r $r"
    done
}

@test "the bucket starts full: a burst goes through at once" {
    # 50 records, burst 50, rate 10/s: no waiting (4.9 s without the burst)
    seq 1 50 >"$(T in)"
    timed -r 10 --burst 50 --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    between 0 2000
    # one more record than the burst must wait for one token (100 ms)
    seq 1 51 >"$(T in2)"
    timed -q -r 10 --burst 50 <"$(T in2)"
    same_file "$(T in2)" "$OUT"
    between 95 2500
}

@test "the default burst is max(1, rate/10)" {
    # -r 40: burst 4; 24 records need 20 tokens at 40/s: at least 0.5 s
    seq 1 24 >"$(T in)"
    timed -q -r 40 <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    between 490 2000
    # -r 5: burst 1; 4 records need 3 tokens at 5/s: at least 0.6 s
    seq 1 4 >"$(T in)"
    timed -q -r 5 <"$(T in)"
    between 590 2000
}

@test "idle time never banks more than the burst" {
    mkfifo "$(T fifo)"
    "$WEIR" -q -r 20 --burst 5 <"$(T fifo)" >"$(T out)" 2>"$(T err)" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    exec {w}>"$(T fifo)"
    printf 'first\n' >&$w
    wait_until 5 file_nonempty "$(T out)" || fail "no output"
    sleep 1 # would bank 20 tokens if idle time were not capped at 5
    local t0 t1
    t0=$(now_ms)
    seq 1 25 >&$w
    exec {w}>&-
    wait "$pid"
    t1=$(now_ms)
    # 25 records, 5 from the full bucket, 20 at 20/s: at least 1 s
    ((t1 - t0 >= 980)) || fail "took $((t1 - t0)) ms: idle time banked tokens"
    ((t1 - t0 <= 3000)) || fail "took $((t1 - t0)) ms"
    { echo first; seq 1 25; } >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "-r with -p drop sheds what has no token, at once" {
    seq 1 100 >"$(T in)"
    timed -r 10 --burst 5 -p drop --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    # reading 100 short lines takes far less than a second, so only the
    # burst and a few tokens get through; nobody waits
    between 0 2000
    local ndone
    ndone=$(jget "$ERR" .records_done)
    ((ndone >= 5 && ndone <= 25)) || fail "records_done $ndone"
    [ "$(jget "$ERR" .records_dropped)" -eq $((100 - ndone)) ]
    cat "$OUT" "$(T rej)" | sort -n >"$(T all)"
    same_file "$(T in)" "$(T all)"
    head -n 5 "$(T in)" >"$(T exp)"
    head -n 5 "$OUT" >"$(T head)"
    same_file "$(T exp)" "$(T head)"
    check_invariant "$ERR"
}

@test "-r with -p drop-oldest sheds the incoming record when there is no token" {
    seq 1 100 >"$(T in)"
    wrun -r 10 --burst 5 -p drop-oldest --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(jget "$ERR" .records_dropped)" -gt 0 ]
    cat "$OUT" "$(T rej)" | sort -n >"$(T all)"
    same_file "$(T in)" "$(T all)"
    # the burst went to the first records: they were admitted, not evicted
    head -n 5 "$(T in)" >"$(T exp)"
    head -n 5 "$OUT" >"$(T head)"
    same_file "$(T exp)" "$(T head)"
    check_invariant "$ERR"
}

@test "-r with -t: a token later than the timeout is shed at once" {
    # one token per 200 ms but a 20 ms timeout: every record after the
    # burst is timed out at once instead of after a pointless wait
    seq 1 50 >"$(T in)"
    timed -r 5 --burst 2 -t 20ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(jget "$ERR" .policy)" = timeout ]
    between 0 1500
    local to
    to=$(jget "$ERR" .records_timed_out)
    ((to >= 40)) || fail "records_timed_out $to"
    cat "$OUT" "$(T rej)" | sort -n >"$(T all)"
    same_file "$(T in)" "$(T all)"
    check_invariant "$ERR"
}

@test "-r with -t longer than the token gap: records wait and pass" {
    seq 1 11 >"$(T in)"
    timed -r 20 --burst 1 -t 1s --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    [ "$(jget "$ERR" .records_timed_out)" -eq 0 ]
    between 490 2500
}

@test "-r with -p fail: no token means overload, exit 75" {
    seq 1 50 >"$(T in)"
    timed -r 5 --burst 3 -p fail --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 75 ] || fail "exit $status"
    between 0 2000
    [ "$(jget "$ERR" .records_failed)" -gt 0 ]
    local n
    n=$(jget "$ERR" .records_in)
    seq 1 "$n" >"$(T exp)"
    cat "$OUT" "$(T rej)" | sort -n >"$(T all)"
    same_file "$(T exp)" "$(T all)"
    check_invariant "$ERR"
}

@test "--byte-rate 10K/s --byte-burst 1K: 20 KB take about 2 s" {
    # 200 records of 100 bytes (99 + newline)
    for i in $(seq 1 200); do printf '%099d\n' "$i"; done >"$(T in)"
    [ "$(wc -c <"$(T in)")" -eq 20000 ]
    timed --byte-rate 10K/s --byte-burst 1K --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    # (20000 - 1024) bytes at 10240/s: at least 1.85 s
    between 1830 4500
    jq -e '.limiter_wait_s > 1' "$ERR" >/dev/null
}

@test "--byte-rate with a record larger than the byte burst does not deadlock" {
    head -c 5000 /dev/zero | tr '\0' b >"$(T in)"
    printf '\nsmall\n' >>"$(T in)"
    timed -q --byte-rate 10K/s --byte-burst 1K <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    between 0 4000
}

@test "-r and --byte-rate together: the stricter bucket rules" {
    seq 1 21 >"$(T in)"
    # records: 20 tokens at 1000/s = 20 ms; bytes: ~50 bytes at 50/s = 1 s
    timed -q -r 1000 --burst 1 --byte-rate 50 --byte-burst 3 <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    between 900 3500
}

@test "--byte-burst without --byte-rate and --burst without -r are usage errors" {
    run --separate-stderr "$WEIR" --byte-burst 1K </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == weir:*--byte-burst*--help* ]]
    run --separate-stderr "$WEIR" --burst 5 </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == weir:*--burst*--help* ]]
}

@test "SIGINT while waiting for a token stops at once" {
    mkfifo "$(T fifo)"
    "$WEIR" --stats json -r 1/h --burst 1 <"$(T fifo)" >"$(T out)" 2>"$(T err)" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    exec {w}>"$(T fifo)"
    printf 'a\nb\nc\n' >&$w
    wait_until 5 file_nonempty "$(T out)" || fail "first record not written"
    sleep 0.1
    local t0 rc=0
    t0=$(now_ms)
    kill -INT "$pid"
    wait "$pid" || rc=$?
    exec {w}>&-
    [ "$rc" -eq 130 ]
    (($(now_ms) - t0 < 3000))
    [ "$(cat "$(T out)")" = a ]
    check_invariant "$(T err)"
    jq -e '.limiter_wait_s > 0' "$(T err)" >/dev/null
}

@test "--byte-rate: a small record then one above the burst pass at once (full bucket)" {
    printf 'a\n' >"$(T in)"
    head -c 104900 /dev/zero | tr '\0' x >>"$(T in)"
    echo >>"$(T in)"
    local t0 t1
    t0=$(now_ms)
    wrun --byte-rate 1M/s --stats json <"$(T in)"
    t1=$(now_ms)
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    ((t1 - t0 < 3000)) || fail "took $((t1 - t0)) ms"
}
