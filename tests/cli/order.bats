#!/usr/bin/env bats
# Output order (weir(1), DESCRIPTION): input order by default whatever the workers do;
# -u/--unordered writes a permutation of the input.

load helper

@test "ordered output equals input with -j4 and sleep:1ms" {
    seq 1 400 >"$(T in)"
    wrun -q -j 4 --op sleep:1ms <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
}

@test "ordered output equals input with -j4, records of mixed sizes" {
    # short and long records (up to 180 KB) interleaved
    awk 'BEGIN { for (i = 1; i <= 60; i++) {
            if (i % 10) { print "rec " i; continue }
            s = sprintf("%c", 97 + i % 26)
            while (length(s) < i * 3000) s = s s
            print substr(s, 1, i * 3000) } }' >"$(T in)"
    wrun -q -j 4 --op sleep:1ms <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    wrun -q -j 4 --op spin:200us -c 3 <"$(T in)"
    same_file "$(T in)" "$OUT"
}

@test "ordered output with more workers than cores and a tiny queue" {
    seq 1 300 >"$(T in)"
    wrun -q -j 16 -c 1 --op sleep:1ms <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
}

@test "ordered output is still in order behind a slow stage" {
    seq 1 100 >"$(T in)"
    wrun -q -j 4 -c 2 --op sleep:5ms --op upper <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
}

@test "ordered output with a filter: kept records stay in input order" {
    seq 1 2000 >"$(T in)"
    grep -E '3' "$(T in)" >"$(T exp)"
    wrun -q -j 4 --op spin:20us --op grep:3 <"$(T in)"
    same_file "$(T exp)" "$OUT"
}

@test "-u output is a permutation of the input" {
    seq 1 400 >"$(T in)"
    wrun -q -u -j 4 --op sleep:1ms <"$(T in)"
    [ "$status" -eq 0 ]
    sort -n "$OUT" >"$(T sorted)"
    same_file "$(T in)" "$(T sorted)"
}

@test "--unordered keeps every record exactly once on a large fast stream" {
    seq 1 100000 >"$(T in)"
    wrun --unordered -j 4 --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    sort -n "$OUT" >"$(T sorted)"
    same_file "$(T in)" "$(T sorted)"
    [ "$(jget "$ERR" .records_out)" -eq 100000 ]
}

@test "-u keeps the open last record without a delimiter" {
    # records never merge: whatever the order, the three records come out
    printf '1\n2\n3' >"$(T in)"
    wrun -q -u -j 2 <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(tr -s '\n' ' ' <"$OUT" | xargs -n1 | sort | tr -d '\n')" = 123 ]
}
