#!/usr/bin/env bats
# Keys (weir(1), KEYS): per-key order while keys run in parallel, the key
# limit, sticky keys, the key specs, unkeyed records, and the bounds.

load helper

# Records "KEY N" for keys a b c d, N = 1..$1, interleaved.
keyed_input() {
    local n
    for ((n = 1; n <= $1; n++)); do
        printf 'a %d\nb %d\nc %d\nd %d\n' "$n" "$n" "$n" "$n"
    done
}

# in_key_order FILE: for each key, its numbers come in increasing order.
in_key_order() {
    awk '{ if (($1 in last) && $2 <= last[$1]) { print "key " $1 ": " $2 " after " last[$1]; bad = 1 }
           last[$1] = $2 } END { exit bad }' "$1"
}

# A job that takes longer the earlier its record: without keys, a key's
# later records overtake its earlier ones.
SLOWER_FIRST='read k n; sleep "0.$((5 - n))"; echo "$k $n"'

@test "keys: -u keeps each key's order while keys run in parallel; without --key the same run reorders" {
    keyed_input 4 >"$(T in)"
    wrun -q -u -j 16 --key 1 sh -c "$SLOWER_FIRST" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$OUT")" -eq 16 ]
    in_key_order "$OUT" || fail "$(cat "$OUT")"
    # the control: the same jobs without keys put a key's records out of order
    wrun -q -u -j 16 sh -c "$SLOWER_FIRST" <"$(T in)"
    [ "$status" -eq 0 ]
    ! in_key_order "$OUT" >/dev/null || fail "no reordering without --key: the test proves nothing"
}

@test "keys: without -u, output keeps input order" {
    keyed_input 4 >"$(T in)"
    wrun -q -j 4 --key 1 sh -c "$SLOWER_FIRST" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
}

@test "keys: a slow key does not hold up the others" {
    { printf 'slow 1\nslow 2\nslow 3\n'; seq -f 'fast %g' 30; } >"$(T in)"
    wrun -q -u -j 2 --key 1 sh -c 'read k n; [ "$k" = slow ] && sleep 1; echo "$k $n"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    # every fast record is out before the slow key's second one
    local second last_fast
    second=$(grep -n '^slow 2$' "$OUT" | cut -d: -f1)
    last_fast=$(grep -n '^fast' "$OUT" | tail -n 1 | cut -d: -f1)
    ((last_fast < second)) || fail "$(cat "$OUT")"
    in_key_order "$OUT"
}

# Each job notes itself as running, looks how many of its key run, and
# leaves: the most seen is the key's concurrency.
CONCURRENCY='read k n; d=$RUNDIR/$k; mkdir -p "$d"; touch "$d/$n"; sleep 0.3;
    echo "$k $(ls "$d" | wc -l)"; rm "$d/$n"'

@test "keys: --key-limit 2 lets two records of a key run at once, never three; 1 lets one" {
    seq -f 'hot %g' 8 >"$(T in)"
    export RUNDIR=$(T run)
    wrun -q -u -j 4 --key 1 --key-limit 2 sh -c "$CONCURRENCY" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(cut -d' ' -f2 "$OUT" | sort -n | tail -n 1)" -eq 2 ] || fail "$(cat "$OUT")"
    wrun -q -u -j 4 --key 1 sh -c "$CONCURRENCY" <"$(T in)"
    [ "$(cut -d' ' -f2 "$OUT" | sort -n | tail -n 1)" -eq 1 ] || fail "$(cat "$OUT")"
    wrun -q -u -j 4 sh -c "$CONCURRENCY" <"$(T in)"
    [ "$(cut -d' ' -f2 "$OUT" | sort -n | tail -n 1)" -gt 2 ] || fail "the control: $(cat "$OUT")"
}

@test "keys: --key-sticky runs every record of a key on one worker" {
    for n in $(seq 10); do for k in k1 k2 k3 k4 k5 k6 k7 k8; do echo "$k $n"; done; done >"$(T in)"
    wrun -q -u -j 3 --key 1 --key-sticky sh -c 'read k n; echo "$k $WEIR_WORKER"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$OUT")" -eq 80 ]
    [ "$(sort -u "$OUT" | wc -l)" -eq 8 ] || fail "a key on two workers: $(sort -u "$OUT")"
    [ "$(cut -d' ' -f2 "$OUT" | sort -u | wc -l)" -gt 1 ] || fail "all keys on one worker"
}

@test "keys: co-processes with sticky keys keep per-key state" {
    for n in $(seq 300); do for k in x y z; do echo "$k $n"; done; done >"$(T in)"
    wrun -q -j 2 --key 1 --key-sticky --coproc \
        awk -W interactive '{ s[$1] += $2; print $1, s[$1] }' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    # each key's running sum, as if one process saw all its records
    awk '{ s[$1] += $2; print $1, s[$1] }' "$(T in)" >"$(T exp)"
    same_file "$(T exp)" "$OUT"
}

@test "keys: WEIR_KEY from -F fields, joined fields, re: groups and blanks" {
    printf 'eu;u1;x\nus;u2;y\n' >"$(T in)"
    wrun -q --key 2 -F ';' sh -c 'cat >/dev/null; echo "$WEIR_KEY"' <"$(T in)"
    printf 'u1\nu2\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    wrun -q --key 2,1 -F ';' sh -c 'cat >/dev/null; echo "$WEIR_KEY"' <"$(T in)"
    printf 'u1;eu\nu2;us\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    printf 't=1 user=ann op=x\nt=2 user=bob\n' >"$(T in)"
    wrun -q --key 're:user=([a-z]+)' sh -c 'cat >/dev/null; echo "$WEIR_KEY"' <"$(T in)"
    printf 'ann\nbob\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    printf '  one\ttwo  three\n' >"$(T in)"
    wrun -q --key 3 sh -c 'cat >/dev/null; echo "[$WEIR_KEY]"' <"$(T in)"
    echo '[three]' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
}

@test "keys: records without the field or match are counted unkeyed and share the empty key" {
    printf 'a 1\nlonely\n\nb 2\n' >"$(T in)"
    wrun --key 2 --stats json sh -c 'cat >/dev/null; echo "[$WEIR_KEY]"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    printf '[1]\n[]\n[]\n[2]\n' >"$(T exp)"
    same_file "$(T exp)" "$OUT"
    [ "$(jget "$ERR" .records_unkeyed)" -eq 2 ]
    [ "$(jget "$ERR" .keys_max)" -ge 1 ]
    # built-in operations count them too
    wrun --key 2 -e upper --stats json <"$(T in)"
    [ "$(jget "$ERR" .records_unkeyed)" -eq 2 ]
    wrun --key 2 -e upper <"$(T in)"
    grep -q '^weir:   keys: 2 records without a key$' "$ERR" || fail "$stderr"
}

@test "keys: one hot slow key under -p drop -c 10 keeps the queue bound and loses nothing untraced" {
    seq -f 'hot %g' 300 >"$(T in)"
    wrun --key 1 -p drop -c 10 -j 4 --rejects "$(T rej)" --stats json \
        sh -c 'read k n; sleep 0.01; echo "$k $n"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    check_invariant "$ERR"
    [ "$(jget "$ERR" .queue_max)" -le 10 ] || fail "$(json_line "$ERR")"
    [ "$(jget "$ERR" .records_dropped)" -gt 0 ]
    [ "$(jget "$ERR" .key_waits)" -gt 0 ]
    cat "$OUT" "$(T rej)" | sort -k2n | cmp -s - "$(T in)" || fail "records lost or doubled"
    in_key_order "$OUT"
}

@test "keys: drop-oldest with every queued record waiting for its key keeps the queue bound" {
    seq -f 'x %g' 3000 >"$(T in)"
    wrun -c 3 -j 4 -u -p drop-oldest --key 1 --rejects "$(T rej)" --stats json \
        --coproc sh -c 'while IFS= read -r l; do printf "%s\n" "$l"; done' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(jget "$ERR" .queue_max)" -le 3 ] || fail "$(json_line "$ERR")"
    check_invariant "$ERR"
    cat "$OUT" "$(T rej)" | sort -k2n | cmp -s - "$(T in)" || fail "records lost or doubled"
}

@test "keys: built-in operations keep each key's order even with -u" {
    for n in $(seq 5000); do echo "k$((n % 7)) $n"; done >"$(T in)"
    wrun -q -u -j 2 --key 1 -e upper <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    tr a-z A-Z <"$(T in)" >"$(T exp)"
    same_file "$(T exp)" "$OUT"
}

@test "keys: --pipe blocks hold one key's records each, in order per key, with WEIR_KEY" {
    for n in $(seq 40); do echo "k$((n % 3)) $n"; echo "k$((n % 3)) $n"; done >"$(T in)"
    wrun -u -j 3 --pipe --key 1 --stats json \
        sh -c 'while read k n; do [ "$k" = "$WEIR_KEY" ] || echo MIXED; echo "$k $n"; done; sleep 0.0$((RANDOM % 3))' \
        <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    ! grep -q MIXED "$OUT" || fail "a block with two keys"
    [ "$(wc -l <"$OUT")" -eq 80 ]
    awk '{ if (($1 in last) && $2 < last[$1]) bad = 1; last[$1] = $2 } END { exit bad }' "$OUT" ||
        fail "a key out of order: $(cat "$OUT")"
    [ "$(jget "$ERR" .queue_capacity)" -eq 1024 ]
}

@test "keys: a stop signal with records waiting for their key drains, counts add up" {
    seq -f 'hot %g' 50 >"$(T in)"
    { cat "$(T in)"; sleep 5; } | "$WEIR" --key 1 -j 4 --stats json --rejects "$(T rej)" \
        sh -c 'read k n; sleep 0.1; echo "$k $n"' >"$(T out)" 2>"$(T err)" &
    local pid=$!
    sleep 1
    kill -TERM "$pid" 2>/dev/null || true
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 143 ] || fail "exit $rc: $(cat "$(T err)")"
    check_invariant "$(T err)"
    cat "$(T out)" "$(T rej)" | sort -k2n | cmp -s - "$(T in)" || fail "records lost or doubled"
}
