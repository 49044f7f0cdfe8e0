#!/usr/bin/env bats
# natstool and nats_helper.bash, the fixtures of the NATS tests: a private
# JetStream server per test, and a client that publishes, reads back and
# inspects streams, and fetches from and inspects consumers
# (tests/nats/README.md).

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

@test "pub -0, pub --delim C: payloads holding newlines come back whole from fetch, acked" {
    ok stream-add IN weir.in
    printf 'a\nb\0\0c\r\n\0last' >"$(T in0)" # an empty one; the last one unterminated
    ok pub weir.in -0 <"$(T in0)"
    printf 'x\ny,one\nx,' >"$(T inc)"
    ok pub weir.in --delim , <"$(T inc)"
    ok consumer-add IN C
    ok fetch IN C
    printf '1 1 3\na\nb\n2 1 0\n\n3 1 3\nc\r\n\n4 1 4\nlast\n5 1 3\nx\ny\n6 1 5\none\nx\n' >"$(T exp)"
    same_file "$(T exp)" "$(T nt.out)"
    ok fetch IN C # all acked: nothing left to hand out
    [ ! -s "$(T nt.out)" ]
    ok info IN C
    [ "$(jq -r '.delivered, .num_pending' "$(T nt.out)" | paste -sd ' ')" = "6 0" ]
}

@test "fetch: 1000 messages over several pulls, each once and in order; an empty consumer gives nothing" {
    make_lines
    ok stream-add OUT weir.out
    ok consumer-add OUT EMPTY
    ok fetch OUT EMPTY
    [ ! -s "$(T nt.out)" ]
    ok pub weir.out <"$(T in)"
    ok consumer-add OUT C
    ok fetch OUT C
    # no payload holds a newline: header and payload lines alternate
    LC_ALL=C awk 'NR % 2 == 1 { print $1, $2; n = $3; next }
                  length($0) != n { print "line " NR ": " length($0) " bytes, not " n }' \
        "$(T nt.out)" >"$(T got)"
    seq 1000 | sed 's/$/ 1/' >"$(T exp)"
    same_file "$(T exp)" "$(T got)"
    awk 'NR % 2 == 0' "$(T nt.out)" >"$(T payloads)"
    same_file "$(T in)" "$(T payloads)"
}

@test "fetch --nak hands the messages back: the next fetch gets them delivered twice" {
    ok stream-add IN weir.in
    printf 'p\nq\0' >"$(T in0)"
    ok pub weir.in -0 <"$(T in0)"
    ok consumer-add IN C
    ok fetch IN C --nak
    printf '1 1 3\np\nq\n' >"$(T exp)"
    same_file "$(T exp)" "$(T nt.out)"
    # the server takes the nak in its own time: fetch until it comes (5 s at most)
    local i
    for ((i = 0; i < 500; i++)); do
        ok fetch IN C
        [ -s "$(T nt.out)" ] && break
        sleep 0.01
    done
    printf '1 2 3\np\nq\n' >"$(T exp)"
    same_file "$(T exp)" "$(T nt.out)"
    ok fetch IN C # acked this time
    [ ! -s "$(T nt.out)" ]
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
    nt fetch OUT NOPE
    [ "$status" -eq 1 ] && [ "$(wc -l <"$(T nt.err)")" -eq 1 ]
    grep -q 'natstool: fetch: consumer NOPE of stream OUT: ' "$(T nt.err)"
    nt pub weir.out --delim ab </dev/null
    [ "$status" -eq 1 ] && grep -q -- '--delim: not one byte' "$(T nt.err)"
    nats_stop
    nt count OUT
    [ "$status" -eq 1 ] && grep -q "connecting to $NATS_URL" "$(T nt.err)"
}
