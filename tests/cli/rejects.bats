#!/usr/bin/env bats
# --rejects-format json (weir(1), --rejects-format): one JSON object per
# shed or failed record; every field checked with jq. raw, the default,
# stays the records as they came.

load helper

# all_json FILE: jq parses every line of FILE as one object with the
# fields every line has (a time in RFC 3339 UTC, ending in Z).
all_json() {
    local n
    n=$(jq -c . "$1" | wc -l) || fail "jq cannot parse $1"
    [ "$n" -eq "$(wc -l <"$1")" ] || fail "$n objects for $(wc -l <"$1") lines"
    jq -e 'select((.recno|type) != "number" or (.attempts|type) != "number"
        or (.reason|type) != "string"
        or (.time|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")|not)
        or ((has("record") or has("record_base64"))|not))' "$1" >/dev/null &&
        fail "a line lacks a field: $(cat "$1")"
    return 0
}

@test "json: a record dropped under -p drop" {
    seq 1 200 >"$(T in)"
    wrun -p drop -c 2 -j 1 --op sleep:20ms --rejects "$(T rej)" --rejects-format json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    all_json "$(T rej)"
    [ "$(wc -l <"$(T rej)")" -gt 0 ] || fail "nothing shed"
    jq -e -s 'all(.outcome == "dropped" and .reason == "queue full" and .attempts == 0
        and .record == (.recno|tostring))' "$(T rej)" >/dev/null || fail "$(head -3 "$(T rej)")"
}

@test "json: a record timed out under -p timeout" {
    seq 1 200 >"$(T in)"
    wrun -p timeout -t 1ms -c 2 -j 1 --op sleep:20ms --rejects "$(T rej)" --rejects-format json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    all_json "$(T rej)"
    [ "$(wc -l <"$(T rej)")" -gt 0 ] || fail "nothing shed"
    jq -e -s 'all(.outcome == "timed_out" and .reason == "deadline" and .attempts == 0
        and .record == (.recno|tostring))' "$(T rej)" >/dev/null || fail "$(head -3 "$(T rej)")"
}

@test "json: a record longer than --max-record: whole, or its first 4096 bytes when read in pieces" {
    { echo a; head -c 10000 /dev/zero | tr '\0' x; echo; echo c; head -c 1000000 /dev/zero | tr '\0' y; echo; } >"$(T in)"
    wrun --max-record 10 --rejects "$(T rej)" --rejects-format json <"$(T in)"
    all_json "$(T rej)"
    [ "$(wc -l <"$(T rej)")" -eq 2 ] || fail "$(cut -c1-200 "$(T rej)")"
    [ "$(jq -r '[.recno, .outcome, .reason, .attempts, .truncated, (.record|length),
        (.record|test("^(x+|y+)$"))]|@tsv' "$(T rej)")" = \
        "$(printf '2\tfailed\ttoo long\t0\t\t10000\ttrue\n4\tfailed\ttoo long\t0\ttrue\t4096\ttrue')" ] ||
        fail "$(cut -c1-200 "$(T rej)")"
}

@test "json: a COMMAND exiting 3 after --retries 1: attempts 2, reason exit 3" {
    wrun --retries 1 --rejects "$(T rej)" --rejects-format json sh -c 'exit 3' <<<'one'
    all_json "$(T rej)"
    [ "$(jq -r '[.recno, .outcome, .reason, .attempts, .record]|@tsv' "$(T rej)")" = \
        "$(printf '1\tfailed\texit 3\t2\tone')" ] || fail "$(cat "$(T rej)")"
}

@test "json: a job killed by --job-timeout" {
    wrun --job-timeout 100ms --rejects "$(T rej)" --rejects-format json sh -c 'sleep 5' <<<'slow'
    all_json "$(T rej)"
    [ "$(jq -r '[.recno, .outcome, .reason, .attempts, .record]|@tsv' "$(T rej)")" = \
        "$(printf '1\tfailed\tjob timeout\t1\tslow')" ] || fail "$(cat "$(T rej)")"
}

@test "json: a job killed by a signal; escapes in the record" {
    printf 'a"b\\c\td\x01\n' >"$(T in)"
    wrun --rejects "$(T rej)" --rejects-format json sh -c 'kill -9 $$' <"$(T in)"
    all_json "$(T rej)"
    [ "$(jq -r .reason "$(T rej)")" = "signal KILL" ] || fail "$(cat "$(T rej)")"
    jq -j .record "$(T rej)" >"$(T got)"
    printf 'a"b\\c\td\x01' >"$(T want)"
    same_file "$(T want)" "$(T got)"
}

@test "json: a record that is not UTF-8 is in record_base64" {
    printf 'ok\n\xff\xfeA\n' >"$(T in)"
    wrun --rejects "$(T rej)" --rejects-format json sh -c 'exit 1' <"$(T in)"
    all_json "$(T rej)"
    [ "$(jq -r 'select(.recno == 2)|[has("record"), .record_base64]|@tsv' "$(T rej)")" = \
        "$(printf 'false\t//5B')" ] || fail "$(cat "$(T rej)")"
    [ "$(jq -r 'select(.recno == 1).record' "$(T rej)")" = ok ]
}

@test "json: with --key the record's key" {
    printf 'k1,a\nk2,b\n' >"$(T in)"
    wrun --key 1 -F , --rejects "$(T rej)" --rejects-format json sh -c 'exit 1' <"$(T in)"
    all_json "$(T rej)"
    [ "$(jq -r '[.recno, .key, .record]|@tsv' "$(T rej)" | sort)" = \
        "$(printf '1\tk1\tk1,a\n2\tk2\tk2,b')" ] || fail "$(cat "$(T rej)")"
}

@test "json: FILE.zst holds the lines compressed" {
    wrun --rejects "$(T rej.zst)" --rejects-format json sh -c 'exit 1' <<<'z'
    zstd -dc "$(T rej.zst)" >"$(T rej)"
    all_json "$(T rej)"
    [ "$(jq -r .record "$(T rej)")" = z ]
}

@test "raw, the default and --rejects-format raw, is the records byte for byte" {
    printf 'a\n\xff\nc' >"$(T in)"
    wrun --rejects "$(T rej1)" sh -c 'exit 1' <"$(T in)"
    wrun --rejects "$(T rej2)" --rejects-format raw sh -c 'exit 1' <"$(T in)"
    printf 'a\n\xff\nc\n' >"$(T want)"
    same_file "$(T want)" "$(T rej1)"
    same_file "$(T want)" "$(T rej2)"
}

@test "--rejects-format needs --rejects; a bad word is named" {
    wrun --rejects-format json cat </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == *--rejects-format*--rejects* ]] || fail "$stderr"
    wrun --rejects x --rejects-format yaml cat </dev/null
    [ "$status" -eq 2 ]
    [[ $stderr == *--rejects-format*yaml* ]] || fail "$stderr"
}
