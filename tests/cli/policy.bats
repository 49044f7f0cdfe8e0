#!/usr/bin/env bats
# Overflow policies (weir(1), POLICIES) with a tiny queue and a slow stage. Drop
# counts race with the machine's speed, so the tests check invariants:
# every input record ends up exactly once in stdout or the rejects file,
# and records_in == done + dropped + timed_out + failed.

load helper

# every_record_once N: stdout + rejects hold 1..N each exactly once.
every_record_once() {
    local n=$1
    seq 1 "$n" >"$(T expect_all)"
    cat "$OUT" "$(T rej)" | sort -n >"$(T all)"
    same_file "$(T expect_all)" "$(T all)" || fail "records lost or duplicated"
}

# in_order FILE: the numbers in FILE are strictly increasing.
in_order() {
    sort -n -c "$1" && [ "$(sort -n -u "$1" | wc -l)" -eq "$(wc -l <"$1")" ]
}

@test "block loses nothing behind a slow stage" {
    seq 1 200 >"$(T in)"
    wrun -c 2 -j 1 --op sleep:1ms --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    [ "$(jget "$ERR" .policy)" = block ]
    [ "$(jget "$ERR" .records_done)" -eq 200 ]
    [ "$(jget "$ERR" '.records_dropped + .records_timed_out + .records_failed')" -eq 0 ]
    check_invariant "$ERR"
}

@test "-p block is the default and explicit block is the same" {
    seq 1 100 >"$(T in)"
    wrun -p block -c 1 -j 2 --op sleep:1ms --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    check_invariant "$ERR"
}

@test "drop: output + rejects hold every record exactly once" {
    seq 1 200 >"$(T in)"
    wrun -p drop -c 2 -j 1 --op sleep:20ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    every_record_once 200
    [ "$(jget "$ERR" .policy)" = drop ]
    [ "$(jget "$ERR" .records_dropped)" -gt 0 ]
    [ "$(jget "$ERR" .records_dropped)" -eq "$(wc -l <"$(T rej)")" ]
    [ "$(jget "$ERR" .records_done)" -eq "$(wc -l <"$OUT")" ]
    [ "$(jget "$ERR" .records_timed_out)" -eq 0 ]
    check_invariant "$ERR"
    # drop newest: the first record always gets in; output keeps input order
    [ "$(head -n 1 "$OUT")" = 1 ]
    in_order "$OUT"
}

@test "drop with several workers keeps the invariant" {
    seq 1 500 >"$(T in)"
    wrun -p drop -c 4 -j 3 --op sleep:5ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    every_record_once 500
    [ "$(jget "$ERR" .records_dropped)" -gt 0 ]
    check_invariant "$ERR"
    in_order "$OUT"
}

@test "drop-oldest: every record exactly once and the freshest wins" {
    seq 1 200 >"$(T in)"
    wrun -p drop-oldest -c 2 -j 1 --op sleep:20ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    every_record_once 200
    [ "$(jget "$ERR" .policy)" = drop-oldest ]
    [ "$(jget "$ERR" .records_dropped)" -gt 0 ]
    [ "$(jget "$ERR" .records_dropped)" -eq "$(wc -l <"$(T rej)")" ]
    check_invariant "$ERR"
    # the last record of the input is never evicted: nothing comes after it
    [ "$(tail -n 1 "$OUT")" = 200 ]
    in_order "$OUT"
}

@test "timeout -t 1ms: every record exactly once, timed out counted, exit 0" {
    seq 1 200 >"$(T in)"
    wrun -p timeout -t 1ms -c 2 -j 1 --op sleep:20ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    every_record_once 200
    [ "$(jget "$ERR" .policy)" = timeout ]
    [ "$(jget "$ERR" .records_timed_out)" -gt 0 ]
    [ "$(jget "$ERR" .records_timed_out)" -eq "$(wc -l <"$(T rej)")" ]
    [ "$(jget "$ERR" .records_dropped)" -eq 0 ]
    check_invariant "$ERR"
    in_order "$OUT"
}

@test "-t alone implies the timeout policy" {
    seq 1 100 >"$(T in)"
    wrun -t 1ms -c 1 -j 1 --op sleep:20ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(jget "$ERR" .policy)" = timeout ]
    [ "$(jget "$ERR" .records_timed_out)" -gt 0 ]
    every_record_once 100
    check_invariant "$ERR"
}

@test "timeout long enough: nothing is shed" {
    seq 1 50 >"$(T in)"
    wrun -t 10s -c 2 -j 2 --op sleep:1ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    [ ! -s "$(T rej)" ]
    [ "$(jget "$ERR" .records_timed_out)" -eq 0 ]
}

@test "fail: overload stops the run with exit 75 and drains" {
    seq 1 200 >"$(T in)"
    wrun -p fail -c 1 -j 1 --op sleep:50ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 75 ] || fail "exit $status, expected 75: $stderr"
    [ "$(jget "$ERR" .policy)" = fail ]
    [ "$(jget "$ERR" .exit)" -eq 75 ]
    [ "$(jget "$ERR" .records_failed)" -gt 0 ]
    [ "$(jget "$ERR" .records_done)" -gt 0 ]
    check_invariant "$ERR"
    # what was read is in stdout or rejects, exactly once, in input order
    local n
    n=$(jget "$ERR" .records_in)
    every_record_once "$n"
    [ "$(jget "$ERR" .records_failed)" -eq "$(wc -l <"$(T rej)")" ]
    in_order "$OUT"
}

@test "fail with -t waits before giving up, still exit 75" {
    seq 1 100 >"$(T in)"
    wrun -p fail -t 5ms -c 1 -j 1 --op sleep:50ms --stats json <"$(T in)"
    [ "$status" -eq 75 ]
    [ "$(jget "$ERR" .records_failed)" -gt 0 ]
    check_invariant "$ERR"
}

@test "fail without overload exits 0" {
    seq 1 50 >"$(T in)"
    wrun -p fail -t 10s -c 100 <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
}

@test "the JSON invariant holds for every policy" {
    seq 1 300 >"$(T in)"
    local args
    for args in "-p block" "-p drop" "-p drop-oldest" "-p timeout -t 2ms" "-p fail" "-p fail -t 2ms"; do
        # shellcheck disable=SC2086
        wrun $args -c 2 -j 2 --op sleep:2ms --stats json <"$(T in)"
        [ "$status" -eq 0 ] || [ "$status" -eq 75 ] || fail "$args: exit $status: $stderr"
        check_invariant "$ERR" || fail "$args: invariant"
        [ "$(jget "$ERR" .exit)" -eq "$status" ] || fail "$args: json exit differs"
        [ "$(jget "$ERR" .records_out)" -eq "$(wc -l <"$OUT")" ] || fail "$args: records_out"
        [ "$(jget "$ERR" .bytes_out)" -eq "$(wc -c <"$OUT")" ] || fail "$args: bytes_out"
    done
}

@test "the rejects file is appended to, not truncated" {
    printf 'kept 1\nkept 2\n' >"$(T rej)"
    seq 1 200 >"$(T in)"
    wrun -p drop -c 1 -j 1 --op sleep:20ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(head -n 2 "$(T rej)")" = "$(printf 'kept 1\nkept 2')" ]
    local dropped
    dropped=$(jget "$ERR" .records_dropped)
    [ "$dropped" -gt 0 ]
    [ "$(wc -l <"$(T rej)")" -eq $((dropped + 2)) ]
    tail -n +3 "$(T rej)" >"$(T rej_new)"
    cat "$OUT" "$(T rej_new)" | sort -n >"$(T all)"
    same_file "$(T in)" "$(T all)"
}

@test "shed records are written whole with their delimiter (-0)" {
    seq 1 200 | tr '\n' '\0' >"$(T in)"
    wrun -0 -p drop -c 1 -j 1 --op sleep:20ms --rejects "$(T rej)" --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(jget "$ERR" .records_dropped)" -gt 0 ]
    # both files are NUL-terminated records only
    [ "$(tail -c 1 "$(T rej)" | od -An -tx1 | tr -d ' ')" = 00 ]
    [ "$(tr -cd '\0' <"$(T rej)" | wc -c)" -eq "$(jget "$ERR" .records_dropped)" ]
    cat "$OUT" "$(T rej)" | tr '\0' '\n' | sort -n >"$(T all)"
    seq 1 200 >"$(T exp)"
    same_file "$(T exp)" "$(T all)"
}

@test "an open last record that is shed gets its delimiter in the rejects file" {
    # 200 records, the last without newline; drop-newest sheds it for sure
    # only when the queue is full then, so check the format whatever happens
    { seq 1 199; printf 200; } >"$(T in)"
    wrun -p drop -c 1 -j 1 --op sleep:20ms --rejects "$(T rej)" <"$(T in)"
    [ "$status" -eq 0 ]
    if [ -s "$(T rej)" ]; then
        [ "$(tail -c 1 "$(T rej)")" = "" ] # command substitution eats the newline
        [ "$(tail -c 1 "$(T rej)" | od -An -tx1 | tr -d ' ')" = 0a ]
    fi
    cat "$OUT" - <<<"" "$(T rej)" | grep -v '^$' | sort -n >"$(T all)"
    seq 1 200 >"$(T exp)"
    same_file "$(T exp)" "$(T all)"
}

@test "--rejects to an unwritable path is a clear error before reading" {
    seq 1 10 >"$(T in)"
    { wrun --rejects /nonexistent/dir/rej; cat >"$(T rest)"; } <"$(T in)"
    [ "$status" -ne 0 ]
    [[ $stderr == weir:*--rejects*/nonexistent/dir/rej* ]]
    [ ! -s "$OUT" ]
    same_file "$(T in)" "$(T rest)"
}

@test "fail: records read in the same read as the overload are rejected, not lost" {
    # 20000 short lines fit one read: weir reads them all before it trips
    seq 1 20000 >"$(T in)"
    wrun -p fail -c 16 -j 1 --op sleep:1ms --stats json --rejects "$(T rej)" <"$(T in)"
    [ "$status" -eq 75 ]
    check_invariant "$ERR"
    [ "$(jget "$ERR" .records_in)" -eq 20000 ]
    cat "$OUT" "$(T rej)" | sort -n >"$(T all)"
    same_file "$(T in)" "$(T all)"
}

@test "drop: bursts that idle workers can absorb lose nothing" {
    # ten bursts of 500 lines (one write each), 50 ms apart, into a queue of 256
    for i in $(seq 10); do
        seq -f "burst $i line %g ERROR ................................" 500 >"$(T burst$i)"
    done
    { for i in $(seq 10); do
        cat "$(T burst$i)"
        sleep 0.05
    done; } | "$WEIR" -p drop -c 256 -e 'grep:ERROR|WARN' --stats json >"$(T out)" 2>"$(T err)"
    [ "$(jget "$(T err)" .records_dropped)" -eq 0 ] || fail "$(json_line "$(T err)")"
    [ "$(wc -l <"$(T out)")" -eq 5000 ]
    check_invariant "$(T err)"
}

@test "drop: a sustained 2x overload sheds about half" {
    # 1000 records at 1000/s into a stage that takes 500/s
    seq 1000 | "$WEIR" -q -r 1000/s --burst 1 |
        "$WEIR" -p drop -c 10 -j 1 -e sleep:2ms --stats json >"$(T out)" 2>"$(T err)"
    local dropped
    dropped=$(jget "$(T err)" .records_dropped)
    [ "$dropped" -ge 250 ] && [ "$dropped" -le 750 ] || fail "dropped $dropped of 1000"
    check_invariant "$(T err)"
}
