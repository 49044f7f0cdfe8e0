#!/usr/bin/env bats
# Built-in operations (weir(1), OPERATIONS): cat, upper, lower, grep:ERE, grepv:ERE,
# sleep:DUR, spin:DUR, chained in order; results compared with grep -E / tr.

load helper

export LC_ALL=C

# A text with mixed case, digits, punctuation and bytes >= 0x80.
make_text() {
    {
        seq 1 500 | awk '{ printf "Line %d: abc XYZ %s\n", $1, ($1 % 3 ? "foo" : "BAR") }'
        printf 'caf\xc3\xa9 \xc3\x89T\xc3\x89 na\xefve\n'
        printf '\xff\xfe high bytes \x80\x9f zz\n'
        printf 'ABC\nabc\naBc\n\n'
        printf 'Mixed 7\nends in 7\n77\n70\n'
    } >"$1"
}

@test "cat is the identity (default and explicit)" {
    make_text "$(T in)"
    wrun -q <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    wrun -q --op cat --op cat -j 3 <"$(T in)"
    same_file "$(T in)" "$OUT"
}

@test "upper changes ASCII letters only" {
    make_text "$(T in)"
    tr 'a-z' 'A-Z' <"$(T in)" >"$(T exp)"
    wrun -q --op upper <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T exp)" "$OUT"
}

@test "lower changes ASCII letters only" {
    make_text "$(T in)"
    tr 'A-Z' 'a-z' <"$(T in)" >"$(T exp)"
    wrun -q -e lower <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T exp)" "$OUT"
}

@test "upper leaves bytes >= 0x80 untouched" {
    printf 'h\xc3\xa9llo w\xff\xe0rld\x80\n\xe9t\xe9' >"$(T in)"
    printf 'H\xc3\xa9LLO W\xff\xe0RLD\x80\n\xe9T\xe9' >"$(T exp)"
    wrun -q --op upper <"$(T in)"
    same_file "$(T exp)" "$OUT"
    printf 'H\xc3\xa9LLO W\xff\xe0RLD\x80\n\xc9T\xc9' >"$(T in2)"
    printf 'h\xc3\xa9llo w\xff\xe0rld\x80\n\xc9t\xc9' >"$(T exp2)"
    wrun -q --op lower <"$(T in2)"
    same_file "$(T exp2)" "$OUT"
}

# grep_like ERE: weir --op grep:ERE and grepv:ERE agree with grep -E / -vE.
grep_like() {
    local re=$1
    make_text "$(T in)"
    grep -E -e "$re" <"$(T in)" >"$(T exp)" || true
    wrun -q --op "grep:$re" <"$(T in)"
    [ "$status" -eq 0 ] || fail "grep:$re exit $status: $stderr"
    same_file "$(T exp)" "$OUT" || fail "grep:$re differs from grep -E"
    grep -vE -e "$re" <"$(T in)" >"$(T expv)" || true
    wrun -q --op "grepv:$re" -j 2 <"$(T in)"
    [ "$status" -eq 0 ] || fail "grepv:$re exit $status: $stderr"
    same_file "$(T expv)" "$OUT" || fail "grepv:$re differs from grep -vE"
}

@test "grep:7\$ matches records ending in 7 (the delimiter is not payload)" {
    seq 1 1000 >"$(T in)"
    grep -E '7$' "$(T in)" >"$(T exp)"
    wrun -q --op 'grep:7$' <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T exp)" "$OUT"
    [ "$(wc -l <"$OUT")" -eq 100 ]
}

@test "grep:^ anchors at the start of the record" {
    printf 'abc\nxabc\nab\n' | "$WEIR" -q --op 'grep:^ab' >"$(T out)"
    printf 'abc\nab\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "grep and grepv agree with grep -E" {
    local re
    for re in 'foo' 'BAR$' '^Line [0-9]*5:' '(ab|XY)c' '^$' '[[:digit:]]{3}' 'a.c' '^7|7$'; do
        grep_like "$re"
    done
}

@test "grep is case sensitive, extended syntax" {
    printf 'abc\nABC\na+b\naab\n' | "$WEIR" -q --op 'grep:a+b' >"$(T out)"
    printf 'abc\naab\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "grep on the last record without delimiter" {
    printf 'x7\ny8\nz7' | "$WEIR" -q --op 'grep:7$' >"$(T out)"
    printf 'x7\nz7' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    printf 'x7\ny8\nz7' | "$WEIR" -q --op 'grepv:7$' >"$(T out)"
    printf 'y8\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "grep sees bytes after a NUL in the payload" {
    printf 'a\0b7\nc\n' | "$WEIR" -q --op 'grep:7$' >"$(T out)"
    printf 'a\0b7\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "grep with -0: a newline inside a record is ordinary payload" {
    printf 'one\ntwo7\0three\0four7\0' | "$WEIR" -q -0 --op 'grep:7$' >"$(T out)"
    printf 'one\ntwo7\0four7\0' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "chained ops apply in order: --op upper --op grep:^A" {
    make_text "$(T in)"
    printf 'apple\nbanana\navocado\nApricot\n' >>"$(T in)"
    tr 'a-z' 'A-Z' <"$(T in)" | grep -E '^A' >"$(T exp)"
    wrun -q --op upper --op 'grep:^A' <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T exp)" "$OUT"
    # the other order: only records already starting with A, then upcased
    grep -E '^A' "$(T in)" | tr 'a-z' 'A-Z' >"$(T exp2)"
    wrun -q --op 'grep:^A' --op upper <"$(T in)"
    same_file "$(T exp2)" "$OUT"
}

@test "grep then grepv" {
    seq 1 300 >"$(T in)"
    grep -E '3' "$(T in)" | grep -vE '^1' >"$(T exp)"
    wrun -q -e grep:3 -e 'grepv:^1' -j 3 <"$(T in)"
    same_file "$(T exp)" "$OUT"
}

@test "a filter that keeps nothing gives empty output" {
    seq 1 100 | "$WEIR" -q --op 'grep:^x' >"$(T out)"
    [ ! -s "$(T out)" ]
}

@test "sleep:DUR keeps data intact" {
    seq 1 200 >"$(T in)"
    wrun -q --op sleep:1ms -j 4 <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    wrun -q --op sleep:200us --op upper -j 2 <"$(T in)"
    same_file "$(T in)" "$OUT"
}

@test "spin:DUR keeps data intact" {
    make_text "$(T in)"
    wrun -q --op spin:100us -j 2 <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
}

@test "sleep:DUR per record takes at least records x DUR / workers" {
    # 20 records x 50 ms on 2 workers: at least 0.5 s however fast the machine
    seq 1 20 >"$(T in)"
    local t0 t1
    t0=$(now_ms)
    wrun -q --op sleep:50ms -j 2 <"$(T in)"
    t1=$(now_ms)
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    ((t1 - t0 >= 450)) || fail "took $((t1 - t0)) ms"
}
