#!/usr/bin/env bats
# Memory is bounded by the flags (weir(1), DESCRIPTION): with stdout stalled weir stops
# reading, and in ordered mode a slow record at the head does not let
# finished records pile up. Measured on the input side (bytes weir read,
# from /proc/PID/io), which means the same under sanitizers.

load helper

MB=$((1024 * 1024))

# stalled_consumer ARGS...: `yes`-like endless input, stdout never read;
# weir must stop reading after a bounded amount (< 64 MB).
stalled_consumer() {
    mkfifo "$(T in)" "$(T out)"
    # a reader that never reads keeps stdout open (no EPIPE)
    exec {R}<>"$(T out)"
    yes "$LINE" >"$(T in)" 3>&- 2>/dev/null &
    BG_PIDS+=("$!")
    "$WEIR" -q "$@" <"$(T in)" >"$(T out)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    wait_until 10 weir_ready "$PID" || fail "weir did not start"
    stops_reading "$PID" $((64 * MB)) "with stdout stalled"
    # and it is blocked, not dead
    kill -0 "$PID"
    kill_bg
    exec {R}<&-
}

@test "stalled consumer: weir stops reading (-c 16 --capacity-bytes 64K)" {
    LINE=y
    stalled_consumer -c 16 --capacity-bytes 64K
}

@test "stalled consumer, ordered, 4 workers and a fast stage" {
    LINE="a line of some length, repeated over and over"
    stalled_consumer -c 64 -j 4 --op upper
}

@test "stalled consumer, --unordered, slow-ish stage" {
    LINE="x"
    stalled_consumer -u -c 32 -j 3 --op spin:10us
}

@test "stalled consumer with default settings and 1 KB records" {
    LINE=$(printf '%01000d' 0)
    stalled_consumer
}

@test "stalled consumer: the byte bound holds with huge records" {
    # 100 KB records: 1000 of them would be 100 MB, but only 1 MB may queue
    LINE=$(head -c 102400 /dev/zero | tr '\0' r)
    stalled_consumer -c 1000 --capacity-bytes 1M -j 2
}

@test "ordered output behind one slow record stays bounded while feeding 100 MB" {
    local size=100
    ((SANITIZED)) && size=20
    # whole 18-byte lines, so that the last one has its newline (grep adds one)
    # record 1 is slow: this regex costs quadratic time on a long run of
    # 'a' (a fraction of a second here); the others are quick and match
    head -c 20000 /dev/zero | tr '\0' a >"$(T head)"
    echo >>"$(T head)"
    mkfifo "$(T in)" "$(T out)"
    { cat "$(T head)"; yes 'line b 0123456789' | head -n "$((size * 1048576 / 18))"; } >"$(T in)" 3>&- &
    BG_PIDS+=("$!")
    "$WEIR" -j 4 -c 1000000 --capacity-bytes 4M --op 'grep:(a|aa)*b' --stats json \
        <"$(T in)" >"$(T out)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    cksum <"$(T out)" >"$(T sum)" 3>&- &
    local ck=$!
    BG_PIDS+=("$ck")
    # sample bytes read minus bytes written (in flight) and RSS while running
    local max_flight=0 max_rss=0 r w k
    while kill -0 "$PID" 2>/dev/null; do
        r=$(io rchar "$PID") w=$(io wchar "$PID") k=$(rss_kb "$PID")
        if [ -n "$r" ] && [ -n "$w" ]; then
            ((r - w > max_flight)) && max_flight=$((r - w))
        fi
        [ -n "$k" ] && ((k > max_rss)) && max_rss=$k
        sleep 0.02
    done
    local rc=0
    wait "$PID" || rc=$?
    wait "$ck"
    [ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$(T err)")"
    echo "# in flight at most $max_flight bytes, RSS at most $max_rss KB" >&3
    # every small record and nothing else came out, in order
    yes 'line b 0123456789' | head -n "$((size * 1048576 / 18))" | grep b | cksum >"$(T exp_sum)"
    same_file "$(T exp_sum)" "$(T sum)"
    jq -e '.queue_max <= .queue_capacity and .records_failed == 0' "$(T err)" >/dev/null
    # the head record was slow, later ones were not held back unboundedly
    ((max_flight < 64 * MB)) || fail "$max_flight bytes read but not written"
    if ((!SANITIZED)); then
        ((max_rss < 200 * 1024)) || fail "RSS reached $max_rss KB"
    fi
}
