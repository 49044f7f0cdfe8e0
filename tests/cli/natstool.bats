#!/usr/bin/env bats
# natstool and nats_helper.bash, the fixtures of the NATS tests: a private
# JetStream server per test, and a client that publishes, reads back and
# inspects streams and consumers (tests/nats/README.md).

load helper
load nats_helper

@test "stream-add, pub 1000 lines, count, get reproduces them byte for byte" {
    make_lines
    ok stream-add OUT weir.out
    ok stream-add OUT weir.out # already there, same subject: fine
    ok pub weir.out <"$(T in)"
    ok count OUT
    [ "$(cat "$(T nt.out)")" = 1000 ]
    ok get OUT
    same_file "$(T in)" "$(T nt.out)"
}

@test "consumer-add, then info: everything pending, nothing delivered" {
    ok stream-add OUT weir.out
    ok pub weir.out --count 1000
    ok consumer-add OUT C --ack-wait 2000 --filter weir.out
    ok info OUT C
    [ "$(jq -r .num_pending "$(T nt.out)")" -eq 1000 ]
    [ "$(jq -c . "$(T nt.out)")" = \
        '{"delivered":0,"ack_floor":0,"num_ack_pending":0,"num_redelivered":0,"num_pending":1000,"num_waiting":0}' ]
}

@test "nats_restart keeps the stream, its messages and the consumer" {
    make_lines
    ok stream-add OUT weir.out
    ok pub weir.out <"$(T in)"
    ok consumer-add OUT C
    local port=$NATS_PORT pid=$NATS_PID
    nats_restart
    [ "$NATS_PORT" -eq "$port" ] && [ "$NATS_PID" != "$pid" ]
    ok count OUT
    [ "$(cat "$(T nt.out)")" = 1000 ]
    ok get OUT
    same_file "$(T in)" "$(T nt.out)"
    ok info OUT C
    [ "$(jq -r .num_pending "$(T nt.out)")" -eq 1000 ]
    nats_stop
    nats_stop # idempotent
    [ -z "$NATS_PID" ]
}

@test "pub --count N publishes 1..N; --max-msgs keeps the last N" {
    ok stream-add LAST weir.last --max-msgs 10
    ok pub weir.last --count 100
    ok get LAST
    seq 91 100 >"$(T exp)"
    same_file "$(T exp)" "$(T nt.out)"
}

@test "errors: one line on stderr, exit 1" {
    nt pub no.stream.here <<<"x"
    [ "$status" -eq 1 ]
    [ "$(wc -l <"$(T nt.err)")" -eq 1 ]
    grep -q 'natstool: pub: 1 of 1 messages failed' "$(T nt.err)"
    nt count NOPE
    [ "$status" -eq 1 ] && grep -q 'stream NOPE: ' "$(T nt.err)"
    ok stream-add OUT weir.out
    nt stream-add OUT weir.other
    [ "$status" -eq 1 ] && grep -q 'already exists with other subjects' "$(T nt.err)"
    nats_stop
    nt count OUT
    [ "$status" -eq 1 ] && grep -q "connecting to $NATS_URL" "$(T nt.err)"
}
