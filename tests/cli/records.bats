#!/usr/bin/env bats
# Records (weir(1), DESCRIPTION): delimiters, the open last record, raw bytes, empty
# records, --max-record, large records and long streams.

load helper

# pass INPUT_FILE WEIR_ARGS...: weir copies the file unchanged, exit 0.
pass() {
    local in=$1
    shift
    wrun -q "$@" <"$in"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ -z "$stderr" ] || fail "unexpected stderr: $stderr"
    same_file "$in" "$(T out)"
}

@test "newline is the default delimiter" {
    printf 'one\ntwo\nthree\n' >"$(T in)"
    pass "$(T in)"
    printf 'one\ntwo\nthree\n' | "$WEIR" -q --op grep:^t >"$(T out)"
    printf 'two\nthree\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "last record without delimiter comes out without one" {
    printf 'a\nb' >"$(T in)"
    pass "$(T in)"
    printf 'a\nb' | "$WEIR" -q --op upper >"$(T out)"
    printf 'A\nB' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "single record without delimiter" {
    printf 'lonely' >"$(T in)"
    pass "$(T in)"
    printf 'lonely' | "$WEIR" --stats json 2>"$(T err)" >/dev/null
    [ "$(jget "$(T err)" .records_in)" -eq 1 ]
}

@test "-0 splits on NUL" {
    printf 'x1\0y2\0x3' >"$(T in)"
    pass "$(T in)" -0
    printf 'x1\ny\0z2\0x3\0' | "$WEIR" -q -0 --op grep:^x >"$(T out)"
    printf 'x1\ny\0x3\0' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    printf 'a\0b\0' | "$WEIR" --null --stats json 2>"$(T err)" >/dev/null
    [ "$(jget "$(T err)" .records_in)" -eq 2 ]
}

@test "-d ';' splits on a semicolon" {
    printf 'a;b\nc;d' >"$(T in)"
    pass "$(T in)" -d ';'
    printf 'ab;b\nc;bd;e' | "$WEIR" -q -d ';' --op 'grep:c$' >"$(T out)"
    printf 'b\nc;' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "-d '\\t' splits on a tab" {
    printf 'a\tb b\tc\n\t' >"$(T in)"
    pass "$(T in)" -d '\t'
    printf 'k1\tv1 x\tk2\n' | "$WEIR" -q --delimiter '\t' --op 'grep:^k' >"$(T out)"
    printf 'k1\tk2\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "-d '\\x1e' splits on a record separator byte" {
    printf 'r1\x1er2\nstill r2\x1er3' >"$(T in)"
    pass "$(T in)" -d '\x1e'
    printf 'r1\x1er2\nstill r2\x1er3' | "$WEIR" -q -d '\x1e' --op 'grep:still' >"$(T out)"
    printf 'r2\nstill r2\x1e' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "-d '\\n' and -d '\\0' escapes" {
    printf 'a\nb\n' >"$(T in)"
    pass "$(T in)" -d '\n'
    printf 'a\0b\0' | "$WEIR" -q -d '\0' --op grep:b >"$(T out)"
    printf 'b\0' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "NUL bytes and invalid UTF-8 pass through untouched" {
    printf 'a\xff\xfe\x00b\n\x00\n\xc3\x28\xa0\xa1\nz' >"$(T in)"
    pass "$(T in)"
    pass "$(T in)" -j 3 --op cat
}

@test "all 256 byte values in records survive" {
    # every byte except the delimiter, in records of varying length
    # shellcheck disable=SC2046
    printf "$(printf '\\%03o' $(seq 0 255))" | tr -d '\n' >"$(T bytes)"
    [ "$(wc -c <"$(T bytes)")" -eq 255 ]
    { cat "$(T bytes)"; echo; cat "$(T bytes)" "$(T bytes)"; echo; head -c 7 "$(T bytes)"; } >"$(T in)"
    pass "$(T in)"
}

@test "empty input gives empty output and exit 0" {
    : >"$(T in)"
    pass "$(T in)"
    run --separate-stderr "$WEIR" --stats json </dev/null
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$(echo "$stderr" | grep '^{' | jq .records_in)" -eq 0 ]
}

@test "empty records are kept" {
    printf '\n\na\n\n\nb\n\n' >"$(T in)"
    pass "$(T in)"
    "$WEIR" --stats json <"$(T in)" 2>"$(T err)" >/dev/null
    [ "$(jget "$(T err)" .records_in)" -eq 7 ]
    [ "$(jget "$(T err)" .records_out)" -eq 7 ]
}

@test "empty records with -0" {
    printf '\0\0a\0\0' >"$(T in)"
    pass "$(T in)" -0
}

@test "--max-record: a long record in the middle is failed, named, and rejected whole" {
    printf 'short1\nthis record is much too long\nshort3\nshort4\n' >"$(T in)"
    wrun --max-record 10 --stats json --rejects "$(T rej)" <"$(T in)"
    [ "$status" -eq 0 ]
    printf 'short1\nshort3\nshort4\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    [ "$(jget "$(T err)" .records_failed)" -eq 1 ]
    [ "$(jget "$(T err)" .records_done)" -eq 3 ]
    [ "$(jget "$(T err)" .records_in)" -eq 4 ]
    check_invariant "$(T err)"
    # one warning naming record 2 (1-based)
    run grep -v '^{' "$(T err)"
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == weir:* ]]
    [[ ${lines[0]} =~ (record|#)\ ?2([^0-9]|$) ]]
    [[ ${lines[0]} == *max-record* ]]
    printf 'this record is much too long\n' >"$(T exp_rej)"
    same_file "$(T exp_rej)" "$(T rej)"
}

@test "--max-record counts the payload, not the delimiter" {
    printf '0123456789\n01234567890\n' >"$(T in)"
    "$WEIR" -q --max-record 10 <"$(T in)" >"$(T out)" 2>/dev/null
    printf '0123456789\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

@test "--max-record: a long last record without delimiter" {
    printf 'a\nb\nccccccccccccccccccccccccc' >"$(T in)"
    wrun --max-record 10 --stats json --rejects "$(T rej)" <"$(T in)"
    [ "$status" -eq 0 ]
    printf 'a\nb\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    [ "$(jget "$(T err)" .records_failed)" -eq 1 ]
    [ "$(jget "$(T err)" .records_in)" -eq 3 ]
    grep -q '^weir: .*record 3' "$(T err)"
    # the rejects file holds the whole record (as a delimited record)
    printf 'ccccccccccccccccccccccccc\n' >"$(T exp_rej)"
    same_file "$(T exp_rej)" "$(T rej)"
}

@test "--max-record: a long record spanning read boundaries, several of them" {
    # records of 300 KB cross the reader's buffers; each is failed and
    # rejected whole, the short ones around them come out in order
    head -c 300000 /dev/zero | tr '\0' 'L' >"$(T long)"
    { echo first; cat "$(T long)"; echo; echo mid; cat "$(T long)"; echo; echo last; } >"$(T in)"
    wrun --max-record 64K --stats json --rejects "$(T rej)" <"$(T in)"
    [ "$status" -eq 0 ]
    printf 'first\nmid\nlast\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    [ "$(jget "$(T err)" .records_failed)" -eq 2 ]
    check_invariant "$(T err)"
    { cat "$(T long)"; echo; cat "$(T long)"; echo; } >"$(T exp_rej)"
    same_file "$(T exp_rej)" "$(T rej)"
}

@test "a 1 MB single record passes with default settings" {
    head -c 1048576 /dev/urandom | tr -d '\n' >"$(T in)"
    echo >>"$(T in)"
    pass "$(T in)"
    head -c 1048576 /dev/urandom | tr -d '\n' >"$(T in2)" # no final delimiter
    pass "$(T in2)"
}

# A stream of 50,000 lines of varying length, with bytes that cross every
# read boundary.
make_stream() {
    awk 'BEGIN { for (i = 1; i <= 50000; i++) {
            s = sprintf("%d:", i); n = (i * 7919) % 97
            for (k = 0; k < n; k++) s = s sprintf("%c", 97 + (i + k) % 26)
            print s } }' >"$1"
}

@test "50,000 lines come out identical with -j1, -j2, -j4" {
    make_stream "$(T in)"
    [ "$(wc -l <"$(T in)")" -eq 50000 ]
    local j
    for j in 1 2 4; do
        pass "$(T in)" -j "$j"
    done
}

@test "50,000 lines with small batches and a byte bound come out identical" {
    make_stream "$(T in)"
    pass "$(T in)" -j 3 -c 7 --capacity-bytes 1K
}
