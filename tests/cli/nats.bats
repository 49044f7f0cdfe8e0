#!/usr/bin/env bats
# NATS JetStream in place of stdin and stdout (weir(1), NATS JETSTREAM):
# --from a durable pull consumer, --to a subject, --rejects-subject; acks
# only once a record's outcome is final, naks at a clean stop, redelivery
# after a crash, backpressure into the stream, reconnects, and errors.
# Each test has its own nats-server -js (nats_helper.bash). Counts that race
# with the machine's speed are checked through invariants and generous
# bounds only.

load helper
load nats_helper

# info STREAM CONSUMER: the consumer's figures, as JSON in $(T info).
info() {
    ok info "$1" "$2" || return 1
    cp "$(T nt.out)" "$(T info)"
}

# ifield FIELD: a figure of the last `info`.
ifield() {
    jq -r ".$1" "$(T info)"
}

# all_acked [N [CONSUMER]]: consumer IN/C (or IN/CONSUMER) holds nothing:
# no message waits for an ack or in the stream; with N, the ack floor is N
# (all N acked).
all_acked() {
    info IN "${2:-C}"
    [ "$(ifield num_ack_pending)" -eq 0 ] && [ "$(ifield num_pending)" -eq 0 ] &&
        { [ -z "${1:-}" ] || [ "$(ifield ack_floor)" -eq "$1" ]; } || fail "not all acked: $(cat "$(T info)")"
}

# publish SUBJECT FILE: every line of FILE is one message.
publish() {
    ok pub "$1" <"$2"
}

# spawn NAME ARGS...: weir --nats $NATS_URL ARGS... in the background, stdin
# /dev/null, stdout $(T NAME.out), stderr $(T NAME.err); its pid in $PID.
spawn() {
    local name=$1
    shift
    "$WEIR" --nats "$NATS_URL" "$@" </dev/null >"$(T "$name.out")" 2>"$(T "$name.err")" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
}

# gone PID: the process has exited (a zombie counts as exited).
gone() { ! _nats_alive "$1"; }

# finish PID SECONDS: waits up to SECONDS for PID to exit; its status in $RC.
finish() {
    wait_until "$2" gone "$1" || fail "weir $1 still running after $2 s" || return 1
    RC=0
    wait "$1" || RC=$?
}

# sum FILTER FILE...: the sum of a JSON summary figure over several stderr files.
sum() {
    local f=$1 total=0 v e
    shift
    for e in "$@"; do
        v=$(jget "$e" "$f")
        [[ $v =~ ^[0-9]+$ ]] || fail "no $f in $e: $(cat "$e")" || return 1
        total=$((total + v))
    done
    echo "$total"
}

# once_each N FILE...: the lines of the FILEs are 1..N, each exactly once.
once_each() {
    local n=$1
    shift
    seq 1 "$n" >"$(T exp_all)"
    cat "$@" | sort -n >"$(T all)"
    local dups
    dups=$(uniq -d "$(T all)" | head -n 5 | tr '\n' ' ')
    [[ -z $dups ]] || fail "delivered more than once, e.g.: $dups" || return 1
    same_file "$(T exp_all)" "$(T all)" || fail "records lost: $(wc -l <"$(T all)") of $n"
}

# at_least_once N FILE...: every one of 1..N is in the FILEs (and nothing else).
at_least_once() {
    local n=$1
    shift
    seq 1 "$n" >"$(T exp_all)"
    cat "$@" | sort -n -u >"$(T uniq)"
    same_file "$(T exp_all)" "$(T uniq)" || fail "records lost: $(wc -l <"$(T uniq)") of $n distinct"
}

# ---------------------------------------------------------------- reading

@test "--from: every message is one record, written in order with the delimiter; all acked (NATS JETSTREAM, Reading)" {
    make_lines
    ok stream-add IN jobs.in
    publish jobs.in "$(T in)"
    wrun --nats "$NATS_URL" --from IN/C --subject jobs.in --idle-exit 500ms -e upper --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    LC_ALL=C tr '[:lower:]' '[:upper:]' <"$(T in)" >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(jget "$ERR" .records_in)" -eq 1000 ]
    [ "$(jget "$ERR" .records_done)" -eq 1000 ]
    [ "$(jget "$ERR" .records_out)" -eq 1000 ]
    [ "$(jget "$ERR" .records_redelivered)" -eq 0 ]
    [ "$(jget "$ERR" .records_returned)" -eq 0 ]
    [ "$(jget "$ERR" .nats_reconnects)" -eq 0 ]
    check_invariant "$ERR"
    all_acked
    [ "$(ifield ack_floor)" -eq 1000 ] || fail "$(cat "$(T info)")"
}

@test "--key subject:2: each subject's messages keep their order while subjects run in parallel (KEYS)" {
    ok stream-add IN 'jobs.*'
    local n k
    for n in 1 2 3 4; do
        for k in a b c d; do
            echo "$k $n" >"$(T msg)"
            ok pub "jobs.$k" <"$(T msg)"
        done
    done
    # the payloads hold the key too, so the output can be checked; the key
    # itself comes from the subject
    wrun --nats "$NATS_URL" --from IN/C --subject 'jobs.*' --idle-exit 500ms --key subject:2 \
        -u -j 16 --stats json sh -c 'read k n; sleep "0.$((5 - n))"; echo "$k $n"'
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$OUT")" -eq 16 ]
    awk '{ if (($1 in last) && $2 <= last[$1]) bad = 1; last[$1] = $2 } END { exit bad }' "$OUT" ||
        fail "a subject's messages out of order: $(cat "$OUT")"
    [ "$(jget "$ERR" .records_unkeyed)" -eq 0 ]
    [ "$(jget "$ERR" .keys_max)" -eq 4 ] || fail "$(json_line "$ERR")"
    all_acked
}

@test "--from: the text summary has the nats line; a missing stream is created with --subject" {
    # the stream does not exist: --subject creates it (and the consumer)
    wrun --nats "$NATS_URL" --from NEW/C --subject new.x --idle-exit 300ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    ok pub new.x --count 20
    wrun --nats "$NATS_URL" --from NEW/C --idle-exit 500ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    seq 1 20 >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    grep -qx 'weir:   nats: redelivered 0, returned to the stream 0, reconnects 0' "$ERR" ||
        fail "no nats line: $stderr"
}

@test "--from: a message holding the delimiter is still one record; -0 ends each record with NUL" {
    ok stream-add D jobs.d
    # weir -0 --to cuts its input at NUL: two messages, the first holding a newline
    printf 'a\nb\0c\0' >"$(T in)"
    wrun -0 --nats "$NATS_URL" --to jobs.d <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    ok count D
    [ "$(cat "$(T nt.out)")" -eq 2 ]
    wrun --nats "$NATS_URL" --from D/C --idle-exit 300ms -j 2 -e upper --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    printf 'A\nB\nC\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(jget "$ERR" .records_in)" -eq 2 ]
    wrun --nats "$NATS_URL" --from D/C0 -0 --idle-exit 300ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
}

@test "progress acks: records queued longer than the ack wait are not delivered twice (NATS JETSTREAM, Acknowledgements)" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 150
    # 64 queued records of 20 ms or more each: the last of them waits
    # 1.3 s or more, longer than the 1 s ack wait
    wrun --nats "$NATS_URL" --from IN/C --subject jobs.in --ack-wait 1s --idle-exit 500ms \
        -c 64 -j 1 -e sleep:20ms --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    seq 1 150 >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(jget "$ERR" .records_redelivered)" -eq 0 ]
    info IN C
    [ "$(ifield num_redelivered)" -eq 0 ] && [ "$(ifield num_ack_pending)" -eq 0 ] ||
        fail "$(cat "$(T info)")"
}

# ---------------------------------------------------------------- publishing

@test "--to from stdin: every line is published, the last one without a newline too (NATS JETSTREAM, Publishing)" {
    make_lines
    printf 'the last' >>"$(T in)"
    ok stream-add OUT jobs.out
    wrun --nats "$NATS_URL" --to jobs.out --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ ! -s "$OUT" ] || fail "stdout written: $(head -c 200 "$OUT")"
    [ "$(jget "$ERR" .records_done)" -eq 1001 ]
    check_invariant "$ERR"
    ok get OUT
    { cat "$(T in)"; echo; } >"$(T exp)"
    same_file "$(T exp)" "$(T nt.out)"
}

@test "--from with --to: the results are published to another stream, in order; stdout untouched" {
    ok stream-add IN jobs.in
    ok stream-add OUT jobs.out
    ok pub jobs.in --count 2000
    wrun --nats "$NATS_URL" --from IN/C --to jobs.out --idle-exit 500ms -j 3 -e 'grep:[05]$' --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ ! -s "$OUT" ]
    seq 1 2000 | grep '[05]$' >"$(T exp)"
    ok get OUT
    same_file "$(T exp)" "$(T nt.out)"
    [ "$(jget "$ERR" .records_done)" -eq 2000 ]
    [ "$(jget "$ERR" .records_out)" -eq 400 ]
    check_invariant "$ERR"
    all_acked 2000
}

@test "--to a subject no stream takes, with --from: exit 1, the records fail, their messages go back to the stream" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 100
    wrun --nats "$NATS_URL" --from IN/C --to nowhere.x --idle-exit 1s --stats json
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    grep -q '^weir: publish to nowhere.x: No responders' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .records_done)" -eq 0 ]
    (($(jget "$ERR" .records_failed) > 0)) || fail "$stderr"
    (($(jget "$ERR" .records_returned) > 0)) || fail "$stderr"
    check_invariant "$ERR"
    # nothing was acked: the next run gets every message (in the order the
    # server delivers them again)
    wrun --nats "$NATS_URL" --from IN/C --idle-exit 500ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    once_each 100 "$OUT"
}

# ---------------------------------------------------------------- several processes

@test "three processes on one consumer share its messages: each exactly once" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 20000
    ok consumer-add IN C
    local p=()
    for i in 1 2 3; do
        # the third with -u and its own workers: order is per process anyway
        if ((i < 3)); then
            spawn "w$i" --from IN/C --idle-exit 1s -e cat --stats json
        else
            spawn "w$i" --from IN/C --idle-exit 1s -u -j 3 -e upper --stats json
        fi
        p+=("$PID")
    done
    for i in 1 2 3; do
        finish "${p[i - 1]}" 60
        [ "$RC" -eq 0 ] || fail "weir $i exit $RC: $(cat "$(T "w$i.err")")"
        check_invariant "$(T "w$i.err")"
    done
    once_each 20000 "$(T w1.out)" "$(T w2.out)" "$(T w3.out)"
    [ "$(sum .records_done "$(T w1.err)" "$(T w2.err)" "$(T w3.err)")" -eq 20000 ]
    all_acked
}

@test "SIGKILL: the killed process's messages are delivered again after the ack wait; each at least once" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 6000
    ok consumer-add IN C --ack-wait 2000
    local p=()
    for i in 1 2 3; do
        spawn "w$i" --from IN/C --idle-exit 4s -c 64 -e sleep:1ms --stats json
        p+=("$PID")
    done
    # kill one once it is well under way (it then holds up to a queue's worth)
    wait_until 30 lines_at_least 200 "$(T w1.out)" || fail "w1 wrote nothing: $(cat "$(T w1.err)")"
    kill -KILL "${p[0]}"
    finish "${p[0]}" 10
    [ "$RC" -eq 137 ]
    for i in 2 3; do
        finish "${p[i - 1]}" 60
        [ "$RC" -eq 0 ] || fail "weir $i exit $RC: $(cat "$(T "w$i.err")")"
        check_invariant "$(T "w$i.err")"
    done
    at_least_once 6000 "$(T w1.out)" "$(T w2.out)" "$(T w3.out)"
    local redelivered
    redelivered=$(sum .records_redelivered "$(T w2.err)" "$(T w3.err)")
    echo "# redelivered to the survivors: $redelivered" >&3
    ((redelivered > 0)) || fail "records_redelivered is 0 on both survivors"
    all_acked
}

@test "--idle-exit waits for a killed reader's messages: redelivered after the ack wait, done before it leaves (NATS JETSTREAM)" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 300
    ok consumer-add IN C --ack-wait 2000
    # a slow reader holds a queue's worth, unacked, when it is killed
    spawn a --from IN/C -c 64 -j 1 -e sleep:50ms --stats json
    local a=$PID
    wait_until 30 lines_at_least 5 "$(T a.out)" || fail "a wrote nothing: $(cat "$(T a.err)")"
    kill -KILL "$a"
    finish "$a" 10
    [ "$RC" -eq 137 ]
    # b takes the rest at once, then sees no message for far longer than
    # --idle-exit before the ack wait sends a's back
    spawn b --from IN/C --idle-exit 300ms --stats json
    finish "$PID" 60
    [ "$RC" -eq 0 ] || fail "b exit $RC: $(cat "$(T b.err)")"
    check_invariant "$(T b.err)"
    ! grep -q 'idle-exit' "$(T b.err)" || fail "$(cat "$(T b.err)")"
    at_least_once 300 "$(T a.out)" "$(T b.out)"
    (($(jget "$(T b.err)" .records_redelivered) > 0)) || fail "nothing redelivered: $(cat "$(T b.err)")"
    all_acked
}

@test "--idle-exit: the wait for another reader's messages ends after the ack wait, with one line saying how many are left" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 40
    ok consumer-add IN C --ack-wait 1000
    # a live reader holds all 40 for 4 s or more, kept alive by progress acks
    spawn a --from IN/C -c 64 -j 1 -e sleep:100ms --stats json
    local a=$PID
    wait_until 30 lines_at_least 1 "$(T a.out)" || fail "a wrote nothing: $(cat "$(T a.err)")"
    local t0
    t0=$(now_ms)
    spawn b --from IN/C --idle-exit 200ms --stats json
    finish "$PID" 30
    local took=$(($(now_ms) - t0))
    [ "$RC" -eq 0 ] || fail "b exit $RC: $(cat "$(T b.err)")"
    grep -Eq '^weir: --idle-exit: leaving with [0-9]+ messages still pending acknowledgement by another reader: waited [0-9.]+ s for their redelivery \(the ack wait, 1\.0 s, and a margin\)$' "$(T b.err)" ||
        fail "$(cat "$(T b.err)")"
    ((took >= 1000)) || fail "b left after $took ms, before the ack wait"
    [ "$(jget "$(T b.err)" .records_in)" -eq 0 ]
    kill -TERM "$a"
    finish "$a" 30
    [ "$RC" -eq 143 ] || fail "a exit $RC: $(cat "$(T a.err)")"
}

@test "--idle-exit: SIGTERM ends the wait for another reader's messages at once" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 40
    ok consumer-add IN C --ack-wait 30000
    spawn a --from IN/C -c 64 -j 1 -e sleep:100ms --stats json
    local a=$PID
    wait_until 30 lines_at_least 1 "$(T a.out)" || fail "a wrote nothing: $(cat "$(T a.err)")"
    spawn b --from IN/C --idle-exit 200ms --stats json
    local b=$PID
    sleep 1 # b waits for a's messages, up to the 30 s ack wait
    gone "$b" && fail "b left while a held messages: $(cat "$(T b.err)")"
    kill -TERM "$b"
    finish "$b" 10
    [ "$RC" -eq 143 ] || fail "b exit $RC: $(cat "$(T b.err)")"
    kill -TERM "$a"
    finish "$a" 30
    [ "$RC" -eq 143 ] || fail "a exit $RC: $(cat "$(T a.err)")"
}

@test "SIGINT: exit 130, what was fetched is finished or returned; with the others, each record exactly once (NATS JETSTREAM, Acknowledgements)" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 4000
    ok consumer-add IN C
    spawn a --from IN/C --idle-exit 1s -c 64 -e sleep:1ms --stats json
    local a=$PID
    spawn b --from IN/C --idle-exit 1s -c 64 -e sleep:1ms --stats json
    local b=$PID
    wait_until 30 lines_at_least 200 "$(T a.out)" || fail "a wrote nothing: $(cat "$(T a.err)")"
    kill -INT "$a"
    finish "$a" 20
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T a.err)")"
    [ "$(jget "$(T a.err)" .exit)" -eq 130 ]
    check_invariant "$(T a.err)"
    local returned dropped
    returned=$(jget "$(T a.err)" .records_returned)
    dropped=$(jget "$(T a.err)" .records_dropped)
    ((returned >= 0 && returned <= dropped)) || fail "returned $returned, dropped $dropped"
    [ "$(jget "$(T a.err)" .records_done)" -eq "$(wc -l <"$(T a.out)")" ]
    finish "$b" 60
    [ "$RC" -eq 0 ] || fail "b exit $RC: $(cat "$(T b.err)")"
    # a fresh process takes whatever is left
    wrun --nats "$NATS_URL" --from IN/C --idle-exit 1s --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    once_each 4000 "$(T a.out)" "$(T b.out)" "$OUT"
    all_acked
}

@test "SIGTERM with a command: unfinished messages are handed back (records_returned), not rejected, and done by the next run" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 300
    ok consumer-add IN C
    spawn a --from IN/C -c 64 -j 2 --rejects "$(T rej)" --stats json -- sh -c 'sleep 0.02; cat'
    local a=$PID
    wait_until 30 lines_at_least 20 "$(T a.out)" || fail "a wrote nothing: $(cat "$(T a.err)")"
    kill -TERM "$a"
    finish "$a" 20
    [ "$RC" -eq 143 ] || fail "exit $RC: $(cat "$(T a.err)")"
    check_invariant "$(T a.err)"
    local returned dropped
    returned=$(jget "$(T a.err)" .records_returned)
    dropped=$(jget "$(T a.err)" .records_dropped)
    echo "# returned $returned, dropped $dropped" >&3
    ((returned > 0)) || fail "nothing returned: $(cat "$(T a.err)")"
    ((returned <= dropped)) || fail "returned $returned > dropped $dropped"
    [ ! -s "$(T rej)" ] || fail "rejects written at a clean stop: $(head "$(T rej)")"
    # it stopped reading at the signal: nothing it handed back came to it again
    [ "$(jget "$(T a.err)" .records_redelivered)" -eq 0 ] ||
        fail "fetched again after the stop: $(json_line "$(T a.err)")"
    wrun --nats "$NATS_URL" --from IN/C --idle-exit 1s --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    ((returned <= $(jget "$ERR" .records_redelivered))) ||
        fail "returned $returned, redelivered to the next $(jget "$ERR" .records_redelivered)"
    once_each 300 "$(T a.out)" "$OUT"
}

@test "stdout closed: exit 141, the messages not written are handed back; those failed on their own are rejected" {
    # the numbers ending in 5 (but 5) grow too long for --max-record: they
    # fail, whatever the stop
    seq 1 3000 | sed 's/.*5$/&&&&&/' >"$(T in)"
    ok stream-add IN jobs.in
    publish jobs.in "$(T in)"
    ok consumer-add IN C
    "$WEIR" --nats "$NATS_URL" --from IN/C -c 64 -e sleep:1ms --max-record 6 --rejects "$(T rej1)" \
        --stats json </dev/null 2>"$(T a.err)" 3>&- | head -n 5 >"$(T a.out)"
    local rc=${PIPESTATUS[0]}
    [ "$rc" -eq 141 ] || fail "exit $rc: $(cat "$(T a.err)")"
    check_invariant "$(T a.err)"
    local returned dropped failed
    returned=$(jget "$(T a.err)" .records_returned)
    dropped=$(jget "$(T a.err)" .records_dropped)
    failed=$(jget "$(T a.err)" .records_failed)
    ((returned > 0 && returned <= dropped)) || fail "returned $returned, dropped $dropped: $(cat "$(T a.err)")"
    # the rejects hold exactly the failed ones, all too long
    [ "$(wc -l <"$(T rej1)")" -eq "$failed" ] && ! awk 'length($0) <= 6' "$(T rej1)" | grep -q . ||
        fail "failed $failed, rejects: $(head -c 300 "$(T rej1)")"
    # it stopped reading: nothing it handed back came to it again
    [ "$(jget "$(T a.err)" .records_redelivered)" -eq 0 ] ||
        fail "fetched again after the stop: $(json_line "$(T a.err)")"
    # everything but what weir wrote to the pipe or rejected is delivered
    # to the next run
    wrun --nats "$NATS_URL" --from IN/C --idle-exit 1s --max-record 6 --rejects "$(T rej2)" --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    local written long
    written=$(jget "$(T a.err)" .records_done)
    long=$(awk 'length($0) > 6' "$(T in)" | wc -l)
    [ "$(jget "$ERR" .records_done)" -eq $((3000 - long - written)) ] ||
        fail "first wrote $written, second did $(jget "$ERR" .records_done)"
    [ "$(jget "$ERR" .records_failed)" -eq $((long - failed)) ] ||
        fail "first failed $failed, second $(jget "$ERR" .records_failed)"
    all_acked
}

# ---------------------------------------------------------------- backpressure and policies

@test "block: a slow stage leaves the backlog in the stream, not in weir (NATS JETSTREAM, Reading); SIGTERM exits 143" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 5000
    ok consumer-add IN C
    spawn a --from IN/C -c 64 -j 1 -e sleep:5ms --stats json
    local a=$PID most=0 n pending
    wait_until 30 lines_at_least 50 "$(T a.out)" || fail "no output: $(cat "$(T a.err)")"
    for n in 1 2 3 4 5 6; do
        info IN C
        pending=$(ifield num_pending)
        ((pending > 1000)) || fail "the stream drained too fast to tell: $(cat "$(T info)")"
        (($(ifield num_ack_pending) > most)) && most=$(ifield num_ack_pending)
        sleep 0.2
    done
    echo "# num_ack_pending at most $most" >&3
    ((most <= 3 * 64 + 64)) || fail "weir holds $most messages with -c 64"
    ((most > 0))
    kill -TERM "$a"
    finish "$a" 20
    [ "$RC" -eq 143 ] || fail "exit $RC: $(cat "$(T a.err)")"
    check_invariant "$(T a.err)"
}

@test "drop: shed records go to --rejects-subject, each record once in the output or the rejects; all acked (POLICIES)" {
    ok stream-add IN jobs.in
    ok stream-add REJ jobs.rej
    ok pub jobs.in --count 2000
    wrun --nats "$NATS_URL" --from IN/C --subject jobs.in --rejects-subject jobs.rej --idle-exit 1s \
        -p drop -c 8 -e sleep:2ms --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    check_invariant "$ERR"
    local ndone dropped
    ndone=$(jget "$ERR" .records_done)
    dropped=$(jget "$ERR" .records_dropped)
    echo "# done $ndone, dropped $dropped" >&3
    ((ndone + dropped == 2000)) || fail "done $ndone + dropped $dropped"
    ((dropped > 0))
    [ "$(jget "$ERR" .records_returned)" -eq 0 ]
    [ "$(wc -l <"$OUT")" -eq "$ndone" ]
    ok get REJ
    cp "$(T nt.out)" "$(T rej)"
    [ "$(wc -l <"$(T rej)")" -eq "$dropped" ] || fail "rejects stream holds $(wc -l <"$(T rej)")"
    once_each 2000 "$OUT" "$(T rej)"
    all_acked 2000
}

@test "a --rejects-subject no stream takes is an error (exit 1, a message naming it); nothing is lost" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 500
    wrun --nats "$NATS_URL" --from IN/C --subject jobs.in --rejects-subject nowhere.rej --idle-exit 1s \
        -p drop -c 4 -j 1 -e sleep:5ms --stats json
    local first=$status
    cp "$OUT" "$(T out1)"
    cp "$ERR" "$(T err1)"
    echo "# $(json_line "$(T err1)" | jq -c '{records_in, records_done, records_dropped, records_returned, exit}')" >&3
    check_invariant "$(T err1)"
    # what was not done is still in the stream
    wrun --nats "$NATS_URL" --from IN/C --idle-exit 500ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    once_each 500 "$(T out1)" "$OUT"
    # --rejects FILE that cannot be written and --to a subject nobody takes
    # are errors: so is a rejects subject nobody takes
    [ "$first" -eq 1 ] || fail "exit $first: $(grep -v '^{' "$(T err1)")"
    grep -q '^weir: .*nowhere\.rej' "$(T err1)" || fail "no message naming the subject: $(cat "$(T err1)")"
}

@test "big messages: pulls are bounded in bytes, every one arrives whole, once, and is acked" {
    python3 -c 'print("\n".join(str(i) + "x" * 50000 for i in range(1, 601)))' >"$(T in)"
    ok stream-add IN jobs.in
    publish jobs.in "$(T in)"
    wrun --nats "$NATS_URL" --from IN/C --subject jobs.in --idle-exit 1s --stats json
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    [ "$(jget "$ERR" .records_redelivered)" -eq 0 ] || fail "$(cat "$ERR")"
    all_acked 600
}

@test "a message longer than --max-record fails whole into the rejects file; the others are done and acked, with --pipe too" {
    awk 'BEGIN { for (i = 1; i <= 100; i++) print (i % 10 == 0 ? "long-message-" i : i) }' >"$(T in)"
    ok stream-add IN jobs.in
    publish jobs.in "$(T in)"
    local c stage
    for c in C P; do
        # --pipe joins fetched messages into blocks: around the failed ones
        # too, each result must ack its own message
        [[ $c == C ]] && stage=(-e cat) || stage=(-j1 --pipe -- cat)
        rm -f "$(T rej)"
        wrun --nats "$NATS_URL" --from IN/$c --idle-exit 500ms --max-record 5 --rejects "$(T rej)" \
            --stats json "${stage[@]}"
        [ "$status" -eq 0 ] || fail "$c: exit $status: $stderr"
        grep -v long "$(T in)" >"$(T exp)"
        same_file "$(T exp)" "$OUT"
        grep long "$(T in)" >"$(T exp)"
        same_file "$(T exp)" "$(T rej)"
        [ "$(jget "$ERR" .records_failed)" -eq 10 ]
        [ "$(jget "$ERR" .records_done)" -eq 90 ]
        check_invariant "$ERR"
        all_acked 100 "$c"
    done
}

# ---------------------------------------------------------------- the server

@test "server restart mid-run: weir reconnects and finishes; each record at least once, duplicates only what the server delivered again (NATS JETSTREAM, Connection)" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 3000
    spawn a --from IN/C --subject jobs.in --ack-wait 2s --idle-exit 3s -c 64 -e sleep:1ms --stats json
    local a=$PID
    wait_until 30 lines_at_least 300 "$(T a.out)" || fail "no output: $(cat "$(T a.err)")"
    nats_stop
    local before
    before=$(wc -l <"$(T a.out)")
    nats_restart
    finish "$a" 60
    [ "$RC" -eq 0 ] || fail "exit $RC: $(cat "$(T a.err)")"
    check_invariant "$(T a.err)"
    (($(jget "$(T a.err)" .nats_reconnects) >= 1)) || fail "no reconnect counted: $(cat "$(T a.err)")"
    at_least_once 3000 "$(T a.out)"
    local lines uniq redelivered
    lines=$(wc -l <"$(T a.out)")
    uniq=$(sort -u "$(T a.out)" | wc -l)
    redelivered=$(jget "$(T a.err)" .records_redelivered)
    echo "# $lines lines, $uniq distinct, $redelivered redelivered, $before written before the restart" >&3
    # A duplicate is a message the server delivered again: marked as such
    # (redelivered), or, when the restarted server lost its latest consumer
    # state, one it had delivered before the restart: at most what had been
    # written then, plus what weir held (its queue, -c 64, the workers'
    # records and results not yet flushed); 256 is ample for that.
    ((lines - uniq <= redelivered || lines - uniq <= before + 256)) ||
        fail "$((lines - uniq)) duplicates, $redelivered redelivered, $before written before the restart"
}

@test "server gone longer than --nats-timeout: exit 1 with a message, after draining, summary printed" {
    ok stream-add IN jobs.in
    ok pub jobs.in --count 3000
    spawn a --from IN/C --subject jobs.in --nats-timeout 2s -c 64 -e sleep:1ms --stats json
    local a=$PID
    wait_until 30 lines_at_least 100 "$(T a.out)" || fail "no output: $(cat "$(T a.err)")"
    local t0
    t0=$(now_ms)
    nats_stop
    finish "$a" 20
    echo "# exited $(($(now_ms) - t0)) ms after the server stopped" >&3
    [ "$RC" -eq 1 ] || fail "exit $RC: $(cat "$(T a.err)")"
    grep -E '^weir: .*(nats-timeout|server)' "$(T a.err)" || fail "no message: $(cat "$(T a.err)")"
    [ "$(jget "$(T a.err)" .exit)" -eq 1 ] || fail "no summary: $(cat "$(T a.err)")"
    check_invariant "$(T a.err)"
    [ "$(jget "$(T a.err)" .records_done)" -eq "$(wc -l <"$(T a.out)")" ]
}

# ---------------------------------------------------------------- errors

@test "no server: exit 1, one line 'cannot connect'; a password in the URL is never printed" {
    local port
    port=$(_nats_free_port)
    wrun --nats "nats://127.0.0.1:$port" --from IN/C
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$ERR")" -eq 1 ] || fail "$stderr"
    grep -q "^weir: --nats nats://127.0.0.1:$port: cannot connect" "$ERR" || fail "$stderr"
    wrun --nats "nats://bob:s3cr3tpw@127.0.0.1:$port" --to x </dev/null
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    grep -q 'cannot connect' "$ERR" || fail "$stderr"
    ! grep -q 's3cr3tpw' "$ERR" || fail "password printed: $stderr"
    # a wrong password on a live server: refused, and not printed either
    wrun --nats "nats://bob:s3cr3tpw@127.0.0.1:$NATS_PORT,nats://127.0.0.1:$port" --from IN/C
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    ! grep -q 's3cr3tpw' "$ERR" || fail "password printed: $stderr"
}

@test "--nats URL,URL: a list of servers; a dead one in the list does not keep weir from a live one" {
    local dead
    dead=$(_nats_free_port)
    ok stream-add OUT jobs.out
    seq 1 10 >"$(T in)"
    wrun --nats "nats://127.0.0.1:$dead,$NATS_URL" --to jobs.out <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    ok get OUT
    same_file "$(T in)" "$(T nt.out)"
    wrun --nats "$NATS_URL,nats://127.0.0.1:$dead" --from OUT/C --idle-exit 300ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
}

# second_server NAME ARGS...: another nats-server -js with ARGS, on a free
# port ($SECOND_PORT), store and log under $(T NAME); killed in teardown.
second_server() {
    local name=$1
    shift
    SECOND_PORT=$(_nats_free_port)
    mkdir -p "$(T "$name")"
    nats-server -js -a 127.0.0.1 -p "$SECOND_PORT" -sd "$(T "$name")" "$@" \
        >"$(T "$name.log")" 2>&1 3>&- &
    BG_PIDS+=("$!")
    wait_until 10 grep -q 'Server is ready' "$(T "$name.log")" ||
        fail "$name server did not start: $(tail -n 5 "$(T "$name.log")")"
}

# auth_server USER PASS: a second server that wants USER and PASS, on $AUTH_PORT.
auth_server() {
    second_server auth --user "$1" --pass "$2" && AUTH_PORT=$SECOND_PORT
}

@test "user:password in the URL logs in; a wrong one is refused (exit 1, one line); neither is ever printed" {
    auth_server bob s3cr3tpw
    "$NATSTOOL" "nats://bob:s3cr3tpw@127.0.0.1:$AUTH_PORT" stream-add OUT jobs.out
    seq 1 5 >"$(T in)"
    wrun --nats "nats://bob:s3cr3tpw@127.0.0.1:$AUTH_PORT" --to jobs.out <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    ! grep -q s3cr3tpw "$ERR" || fail "password printed: $stderr"
    wrun --nats "nats://bob:s3cr3tpw@127.0.0.1:$AUTH_PORT" --from OUT/C --idle-exit 300ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    ! grep -q s3cr3tpw "$ERR" || fail "password printed: $stderr"
    wrun --nats "nats://bob:wr0ngpw@127.0.0.1:$AUTH_PORT" --from OUT/C
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$ERR")" -eq 1 ] || fail "$stderr"
    grep -q "^weir: --nats nats://\*\*\*@127.0.0.1:$AUTH_PORT: cannot connect: Authorization Violation" "$ERR" ||
        fail "$stderr"
    ! grep -q -e wr0ngpw -e bob "$ERR" || fail "credentials printed: $stderr"
    wrun --nats "nats://127.0.0.1:$AUTH_PORT" --from OUT/C
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    grep -q 'Authorization Violation' "$ERR" || fail "$stderr"
    # --nats-creds: a file that cannot be read
    wrun --nats "$NATS_URL" --nats-creds "$(T no.creds)" --from OUT/C
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$ERR")" -eq 1 ] && grep -q "no.creds" "$ERR" || fail "$stderr"
}

# pki: a test CA, a server certificate for 127.0.0.1 and a client
# certificate signed by it, and a second CA that signed neither, in $(T pki).
pki() {
    local d
    d=$(T pki)
    mkdir -p "$d"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$1.key" 2>/dev/null; }
    ca() { key "$1" && openssl req -x509 -new -key "$d/$1.key" -subj "/CN=$1" -days 2 -out "$d/$1.pem"; }
    leaf() {
        key "$1" && openssl req -new -key "$d/$1.key" -subj "/CN=$1" -out "$d/$1.csr" &&
            openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
                -days 2 -extfile <(printf '%s\n' "$2") -out "$d/$1.pem" 2>/dev/null
    }
    ca ca && ca other &&
        leaf server "subjectAltName=IP:127.0.0.1" &&
        leaf client "extendedKeyUsage=clientAuth" || fail "openssl could not make the test certificates"
}

# tls_server [ARGS...]: a second server speaking TLS only, with the server
# certificate of pki, on $TLS_PORT.
tls_server() {
    second_server tls --tls --tlscert "$(T pki)/server.pem" --tlskey "$(T pki)/server.key" "$@" &&
        TLS_PORT=$SECOND_PORT
}

# refused ARGS...: weir exits 1 with one line saying it cannot connect.
refused() {
    wrun "$@" </dev/null
    [ "$status" -eq 1 ] || fail "weir $*: exit $status: $stderr"
    [ "$(wc -l <"$ERR")" -eq 1 ] && grep -q '^weir: --nats .*: cannot connect' "$ERR" ||
        fail "weir $*: $stderr"
}

@test "TLS: --nats-ca trusts the server's CA; a tls:// URL needs TLS; an untrusted or misnamed server is refused" {
    pki
    tls_server
    local ca=$(T pki)/ca.pem url=nats://127.0.0.1:$TLS_PORT
    # the whole path over TLS: weir creates the stream, publishes, reads
    wrun --nats "$url" --nats-ca "$ca" --from IN/C --subject jobs.in --idle-exit 100ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    seq 1 100 >"$(T in)"
    wrun --nats "tls://127.0.0.1:$TLS_PORT" --nats-ca "$ca" --to jobs.in <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    wrun --nats "$url" --nats-ca "$ca" --from IN/C --idle-exit 300ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    # not trusted: no CA (the system's do not know the test CA), another CA
    refused --nats "$url" --from IN/C
    grep -q -i certificate "$ERR" || fail "$stderr"
    refused --nats "$url" --nats-ca "$(T pki)/other.pem" --from IN/C
    # the certificate names 127.0.0.1, not localhost
    refused --nats "tls://localhost:$TLS_PORT" --nats-ca "$ca" --from IN/C
    # a server without TLS is refused when TLS is asked for
    refused --nats "tls://127.0.0.1:$NATS_PORT" --from IN/C
    refused --nats "$NATS_URL" --nats-ca "$ca" --from IN/C
    # a CA file that cannot be read names the flag and the file
    wrun --nats "$url" --nats-ca "$(T none.pem)" --from IN/C
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$ERR")" -eq 1 ] && grep -q '^weir: --nats-ca .*none.pem: No such file' "$ERR" || fail "$stderr"
}

@test "TLS: a server that verifies clients takes --nats-cert and --nats-key, and refuses weir without them" {
    pki
    local d=$(T pki)
    tls_server --tlsverify --tlscacert "$d/ca.pem"
    local url=nats://127.0.0.1:$TLS_PORT
    refused --nats "$url" --nats-ca "$d/ca.pem" --to x
    grep -q 'closed the connection (does it want a client certificate? --nats-cert)' "$ERR" || fail "$stderr"
    refused --nats "$url" --nats-ca "$d/ca.pem" --nats-cert "$d/other.pem" --nats-key "$d/other.key" --to x
    grep -q 'closed the connection$' "$ERR" || fail "$stderr"
    seq 1 10 >"$(T in)"
    wrun --nats "$url" --nats-ca "$d/ca.pem" --nats-cert "$d/client.pem" --nats-key "$d/client.key" \
        --from IN/C --subject jobs.in --idle-exit 100ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    wrun --nats "$url" --nats-ca "$d/ca.pem" --nats-cert "$d/client.pem" --nats-key "$d/client.key" \
        --to jobs.in <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    wrun --nats "$url" --nats-ca "$d/ca.pem" --nats-cert "$d/client.pem" --nats-key "$d/client.key" \
        --from IN/C --idle-exit 300ms
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    # a key that is not the certificate's
    wrun --nats "$url" --nats-ca "$d/ca.pem" --nats-cert "$d/client.pem" --nats-key "$d/server.key" --to x
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$ERR")" -eq 1 ] && grep -q '^weir: --nats-cert: ' "$ERR" || fail "$stderr"
}

@test "runtime errors exit 1: a missing stream without --subject, a subject no stream takes" {
    wrun --nats "$NATS_URL" --from NOPE/C
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    grep -q '^weir: --from: stream NOPE not found' "$ERR" || fail "$stderr"
    wrun --nats "$NATS_URL" --to nowhere.x --stats json <<<"a"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    grep -q '^weir: publish to nowhere.x: No responders' "$ERR" || fail "$stderr"
    [ "$(jget "$ERR" .exit)" -eq 1 ]
    check_invariant "$ERR"
}

@test "usage errors exit 2 with 'see weir --help'" {
    local u=$NATS_URL bad
    while IFS= read -r bad; do
        eval "wrun $bad" </dev/null
        [ "$status" -eq 2 ] || fail "weir $bad: exit $status: $stderr"
        grep -q 'see weir --help' "$ERR" || fail "weir $bad: $stderr"
        [ ! -s "$OUT" ]
    done <<'EOF'
--from IN/C
--to x
--nats $u
--nats $u --from bad
--nats $u --from IN/C/D
--nats $u --from 'I N/C'
--nats $u --subject x --to y
--nats $u --to y -z
--nats $u --from IN/C --rejects r --rejects-subject s
--nats $u --to y --rejects-subject s
--nats $u --to y --idle-exit 1s
--nats $u --from IN/C --idle-exit soon
--nats-ca ca.pem --to y
--nats $u --to y --nats-cert c.pem
--nats $u --to y --nats-key c.key
EOF
}
