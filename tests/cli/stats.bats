#!/usr/bin/env bats
# Stats (weir(1), STATISTICS): the JSON summary's keys and figures, the text summary,
# --stats none / -q, and a SIGUSR1 snapshot while running.

load helper

KEYS='records_in records_out records_done records_dropped records_timed_out
records_failed records_retried bytes_in bytes_out elapsed_s queue_capacity
queue_max queue_mean workers policy limiter_wait_s exit'

@test "--stats json is one line of valid JSON with every key" {
    seq 1 10 >"$(T in)"
    wrun --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    [ "$(wc -l <"$ERR")" -eq 1 ]
    jq -e . "$ERR" >/dev/null
    jq -e 'type == "object"' "$ERR" >/dev/null
    local missing
    missing=$(jq -r --arg keys "$KEYS" '. as $o | ($keys | split("\\s+"; null) | map(select(length > 0)))
        | map(. as $k | select($o | has($k) | not)) | join(" ")' "$ERR")
    [ -z "$missing" ] || fail "missing keys: $missing"
    missing=$(jq -r '.latency_ms as $l | ["p50", "p90", "p99", "p999", "max"]
        | map(. as $k | select($l | has($k) and (.[$k] | type == "number") | not)) | join(" ")' "$ERR")
    [ -z "$missing" ] || fail "missing latency_ms keys: $missing"
    # numbers are numbers, the policy is a string
    jq -e '[.records_in, .records_out, .records_done, .records_dropped, .records_timed_out,
            .records_failed, .records_retried, .bytes_in, .bytes_out, .elapsed_s,
            .queue_capacity, .queue_max, .queue_mean, .workers, .limiter_wait_s, .exit]
           | all(type == "number")' "$ERR" >/dev/null
    jq -e '.policy | type == "string"' "$ERR" >/dev/null
}

@test "--stats json counts a known input exactly" {
    seq 1 10 >"$(T in)" # 21 bytes
    wrun --stats json -j 3 -c 50 --op 'grep:7$' <"$(T in)"
    [ "$status" -eq 0 ]
    printf '7\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    jq -e '.records_in == 10 and .records_done == 10 and .records_out == 1' "$ERR" >/dev/null ||
        fail "counts: $(cat "$ERR")"
    jq -e '.records_dropped == 0 and .records_timed_out == 0 and .records_failed == 0
           and .records_retried == 0' "$ERR" >/dev/null
    jq -e '.bytes_in == 21 and .bytes_out == 2' "$ERR" >/dev/null || fail "bytes: $(cat "$ERR")"
    jq -e '.records_out < .records_done' "$ERR" >/dev/null
    jq -e '.workers == 3 and .queue_capacity == 50 and .policy == "block" and .exit == 0' \
        "$ERR" >/dev/null || fail "settings: $(cat "$ERR")"
    jq -e '.queue_max >= 0 and .queue_max <= 50 and .queue_mean >= 0 and .queue_mean <= .queue_max' \
        "$ERR" >/dev/null || fail "queue: $(cat "$ERR")"
    jq -e '.elapsed_s >= 0 and .limiter_wait_s == 0' "$ERR" >/dev/null
    jq -e '.latency_ms | .p50 >= 0 and .p50 <= .p90 and .p90 <= .p99 and .p99 <= .p999
           and .p999 <= .max' "$ERR" >/dev/null || fail "latency: $(cat "$ERR")"
    check_invariant "$ERR"
}

@test "bytes_in and bytes_out count records with and without delimiters" {
    printf 'aa\nbbb\nc' >"$(T in)" # 8 bytes, last record open
    wrun --stats json --op upper <"$(T in)"
    printf 'AA\nBBB\nC' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    jq -e '.records_in == 3 and .records_out == 3 and .bytes_in == 8 and .bytes_out == 8' \
        "$ERR" >/dev/null || fail "$(cat "$ERR")"
}

@test "--stats json on empty input" {
    wrun --stats json </dev/null
    [ "$status" -eq 0 ]
    jq -e '.records_in == 0 and .records_out == 0 and .bytes_in == 0 and .exit == 0' \
        "$ERR" >/dev/null
}

@test "-j 0 and the default mean online CPUs; --jobs sets the workers" {
    # (a stage that does work: an identity stage may run on one thread)
    seq 1 5 | "$WEIR" -j 0 --op upper --stats json 2>"$(T err)" >/dev/null
    [ "$(jget "$(T err)" .workers)" -eq "$(getconf _NPROCESSORS_ONLN)" ]
    seq 1 5 | "$WEIR" --op upper --stats json 2>"$(T err)" >/dev/null
    [ "$(jget "$(T err)" .workers)" -eq "$(getconf _NPROCESSORS_ONLN)" ]
    seq 1 5 | "$WEIR" --jobs 3 --op upper --stats json 2>"$(T err)" >/dev/null
    [ "$(jget "$(T err)" .workers)" -eq 3 ]
}

@test "--stats text (the default): every line starts with 'weir: ' and shows counts" {
    seq 1 10 >"$(T in)"
    wrun --op 'grep:7$' -j 2 <"$(T in)"
    [ "$status" -eq 0 ]
    local default_err=$stderr
    wrun --stats text --op 'grep:7$' -j 2 <"$(T in)"
    [ "$status" -eq 0 ]
    [ -n "$stderr" ]
    local n
    n=$(grep -vc '^weir: ' "$ERR" || true)
    [ "$n" -eq 0 ] || fail "lines without 'weir: ': $(grep -v '^weir: ' "$ERR")"
    [ "$(wc -l <"$ERR")" -ge 2 ]
    # records in (10), done (10), out (1), the policy and the worker count
    grep -Eq '\b10\b.*records? in|records? in[^0-9]*\b10\b' "$ERR" || fail "no records in: $stderr"
    grep -Eq 'done[^0-9]*\b10\b' "$ERR" || fail "no done count: $stderr"
    grep -Eq 'out[^0-9]*\b1\b' "$ERR" || fail "no out count: $stderr"
    grep -q 'block' "$ERR"
    grep -Eiq 'latency' "$ERR"
    # the default summary has the same shape
    [ "$(echo "$default_err" | wc -l)" -eq "$(wc -l <"$ERR")" ]
    [[ $default_err == weir:* ]]
}

@test "--stats text shows shed counts" {
    seq 1 200 >"$(T in)"
    wrun -p drop -c 1 -j 1 --op sleep:20ms <"$(T in)"
    [ "$status" -eq 0 ]
    grep -Eq 'dropped[^0-9]*[1-9]' "$ERR" || fail "$stderr"
    grep -q 'drop' "$ERR"
}

@test "--stats none and -q print nothing on stderr" {
    seq 1 100 >"$(T in)"
    wrun --stats none <"$(T in)"
    [ "$status" -eq 0 ]
    [ ! -s "$ERR" ]
    same_file "$(T in)" "$OUT"
    wrun -q <"$(T in)"
    [ "$status" -eq 0 ]
    [ ! -s "$ERR" ]
    wrun --quiet -p drop -c 1 --op sleep:1ms <"$(T in)"
    [ "$status" -eq 0 ]
    [ ! -s "$ERR" ]
}

@test "-q overrides --stats json" {
    seq 1 3 | "$WEIR" --stats json -q 2>"$(T err)" >/dev/null
    [ ! -s "$(T err)" ]
}

@test "SIGUSR1 prints a snapshot while running" {
    mkfifo "$(T fifo)"
    "$WEIR" --stats json <"$(T fifo)" >"$(T out)" 2>"$(T err)" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    exec {w}>"$(T fifo)"
    printf '1\n2\n3\n' >&$w
    wait_until 5 grep -qx 3 "$(T out)" || fail "no output"
    kill -USR1 "$pid"
    wait_until 5 file_nonempty "$(T err)" || fail "no snapshot on SIGUSR1"
    # still running: the snapshot is there before input ends
    kill -0 "$pid"
    json_line "$(T err)" | jq -e '.records_in == 3' >/dev/null ||
        fail "snapshot: $(cat "$(T err)")"
    printf '4\n' >&$w
    exec {w}>&-
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ]
    seq 1 4 >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    # snapshot + final summary
    [ "$(grep -c '^{' "$(T err)")" -eq 2 ]
    json_line "$(T err)" | jq -e '.records_in == 4 and .exit == 0' >/dev/null
}

@test "SIGUSR1 with --stats text prints 'weir: ' lines; with -q nothing" {
    mkfifo "$(T fifo)"
    "$WEIR" <"$(T fifo)" >"$(T out)" 2>"$(T err)" 3>&- &
    local pid=$!
    BG_PIDS+=("$pid")
    exec {w}>"$(T fifo)"
    printf 'a\n' >&$w
    wait_until 5 file_nonempty "$(T out)"
    kill -USR1 "$pid"
    wait_until 5 file_nonempty "$(T err)" || fail "no snapshot"
    exec {w}>&-
    wait "$pid"
    [ "$(grep -vc '^weir: ' "$(T err)")" -eq 0 ]

    mkfifo "$(T fifo2)"
    "$WEIR" -q <"$(T fifo2)" >"$(T out2)" 2>"$(T err2)" 3>&- &
    pid=$!
    BG_PIDS+=("$pid")
    exec {w}>"$(T fifo2)"
    printf 'a\n' >&$w
    wait_until 5 file_nonempty "$(T out2)"
    kill -USR1 "$pid"
    sleep 0.2
    exec {w}>&-
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ]
    [ ! -s "$(T err2)" ]
}
