#!/usr/bin/env bats
# Latency (weir(1), DESCRIPTION): a record reaches stdout promptly even when no more
# input arrives (tail -f style). The bound checked is a generous 1 s (the
# contract says 10 ms) so the test never depends on machine speed.

load helper

stop_weir() {
    exec {W}>&-
    RC=0
    wait "$PID" || RC=$?
}

out_is() { [ "$(cat "$(T out)")" = "$1" ]; }

# feed_and_see TEXT EXPECTED_OUT: writes TEXT, then EXPECTED_OUT must be all
# of stdout within 1 s, while weir still runs.
feed_and_see() {
    printf "$1" >&$W
    wait_until 1 out_is "$2" || fail "after feeding '$1': stdout is '$(cat "$(T out)")', want '$2'; stderr: $(cat "$(T err)")"
    kill -0 "$PID" || fail "weir exited while its input is open"
}

@test "one line appears on stdout within 1 s while input stays open" {
    start_weir -q
    feed_and_see 'hello\n' hello
    stop_weir
    [ "$RC" -eq 0 ]
}

@test "a trickle: each line appears before the next is written" {
    start_weir -q -j 2
    feed_and_see 'one\n' one
    feed_and_see 'two\n' "$(printf 'one\ntwo')"
    sleep 0.1
    feed_and_see 'three\n' "$(printf 'one\ntwo\nthree')"
    stop_weir
    [ "$RC" -eq 0 ]
    printf 'one\ntwo\nthree\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "prompt output with an operation, several workers, large queue" {
    start_weir -q -j 4 -c 100000 --op upper
    feed_and_see 'abc\n' ABC
    feed_and_see 'def\n' "$(printf 'ABC\nDEF')"
    stop_weir
    [ "$RC" -eq 0 ]
}

@test "prompt output with a filter and --unordered" {
    start_weir -q -u --op 'grep:^k'
    feed_and_see 'skip\nkeep\n' keep
    stop_weir
}

@test "prompt output with -0" {
    start_weir -q -0
    printf 'rec\0' >&$W
    wait_until 1 grep -q rec "$(T out)" || fail "record not written"
    kill -0 "$PID"
    stop_weir
    printf 'rec\0' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "a partial record waits for its delimiter (or the end of input)" {
    start_weir -q
    printf 'par' >&$W
    sleep 0.3
    [ ! -s "$(T out)" ] || fail "partial record written early: $(cat "$(T out)")"
    feed_and_see 'tial\n' partial
    printf 'open end' >&$W
    sleep 0.2
    stop_weir
    [ "$RC" -eq 0 ]
    printf 'partial\nopen end' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "tail -f style: a real follower process feeding weir" {
    : >"$(T log)"
    start_weir -q --op 'grep:ERROR'
    # tail -f follows the log into the fifo, which weir reads
    tail -n +1 -f "$(T log)" >&$W 3>&- &
    BG_PIDS+=("$!")
    echo "INFO start" >>"$(T log)"
    echo "ERROR disk full" >>"$(T log)"
    wait_until 2 out_is "ERROR disk full" || fail "stdout: '$(cat "$(T out)")', stderr: $(cat "$(T err)")"
    kill -0 "$PID"
}
