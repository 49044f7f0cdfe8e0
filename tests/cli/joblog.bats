#!/usr/bin/env bats
# --joblog FILE (weir(1), EXTERNAL COMMANDS, Failed jobs): one
# tab-separated line per external job, as GNU parallel's joblog, after a
# header written to a new file: per record with retries, per block
# (--pipe), per record answered by a co-process, a job killed by
# --job-timeout, byte counts, start times, appending, an unwritable FILE.

load helper

HEADER=$'Seq\tWorker\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tAttempt\tCommand'

# cols FILE: the lines after the header without Worker, Starttime and
# JobRuntime (which vary), sorted by Seq and Attempt.
cols() {
    tail -n +2 "$1" | awk -F'\t' -v OFS='\t' '{ print $1, $5, $6, $7, $8, $9, $10 }' |
        sort -t $'\t' -k1,1n -k6,6n
}

# epoch: now, seconds with nanoseconds.
epoch() { date +%s.%N; }

@test "joblog: a line per job after the header; a retried record has a line per attempt" {
    printf '1\n22\n333\n' >"$(T in)"
    local t0 t1
    t0=$(epoch)
    wrun -j2 --retries 1 --joblog "$(T log)" sh -c 'read x; [ "$x" != 22 ] && echo "$x-$x"' <"$(T in)"
    t1=$(epoch)
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(head -n 1 "$(T log)")" = "$HEADER" ] || fail "header: $(head -n 1 "$(T log)")"
    local cmd='sh -c read x; [ "$x" != 22 ] && echo "$x-$x"'
    # Send: the record and its newline; Receive: what it wrote
    printf '%s\n' "1	2	4	0	0	1	$cmd" "2	3	0	1	0	1	$cmd" "2	3	0	1	0	2	$cmd" \
        "3	4	8	0	0	1	$cmd" >"$(T exp)"
    cols "$(T log)" >"$(T got)"
    same_file "$(T exp)" "$(T got)"
    # Worker is 1 or 2; each job started and ended within the run
    awk -F'\t' -v t0="$t0" -v t1="$t1" 'NR > 1 && ($2 < 1 || $2 > 2 || $3 < t0 - 0.001 ||
        $3 + $4 > t1 + 0.002 || $4 < 0 || $3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ ||
        $4 !~ /^[0-9]+\.[0-9][0-9][0-9]$/) { print "bad: " $0; bad = 1 } END { exit bad }' \
        "$(T log)" || fail "run from $t0 to $t1: $(cat "$(T log)")"
}

@test "joblog: with --pipe a job is a block, numbered as WEIR_SEQ" {
    seq 1 5 >"$(T in)"
    wrun --pipe --block-records 2 --joblog "$(T log)" sh -c 'cat; echo "$WEIR_SEQ"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    local cmd='sh -c cat; echo "$WEIR_SEQ"'
    printf '%s\n' "1	4	6	0	0	1	$cmd" "2	4	6	0	0	1	$cmd" "3	2	4	0	0	1	$cmd" \
        >"$(T exp)"
    cols "$(T log)" >"$(T got)"
    same_file "$(T exp)" "$(T got)"
}

@test "joblog: with --coproc a line per record answered; one it died on has its status" {
    printf '#!/bin/sh\nwhile read x; do [ "$x" = bb ] && exit 3; echo "<$x>"; done\n' >"$(T co)"
    chmod +x "$(T co)"
    printf 'a\nbb\nccc\n' >"$(T in)"
    wrun -j1 --retries 1 --joblog "$(T log)" --coproc "$(T co)" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    local cmd
    cmd=$(T co)
    printf '%s\n' "1	2	4	0	0	1	$cmd" "2	3	0	3	0	1	$cmd" "2	3	0	3	0	2	$cmd" \
        "3	4	6	0	0	1	$cmd" >"$(T exp)"
    cols "$(T log)" >"$(T got)"
    same_file "$(T exp)" "$(T got)"
}

@test "joblog: a job killed by --job-timeout shows Exitval 0 and Signal 9" {
    printf 'x\n' >"$(T in)"
    wrun --job-timeout 200ms --joblog "$(T log)" sleep 30 <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(wc -l <"$(T log)")" -eq 2 ] || fail "$(cat "$(T log)")"
    tail -n 1 "$(T log)" | awk -F'\t' '!($1 == 1 && $6 == 0 && $7 == 0 && $8 == 9 && $9 == 1 &&
        $10 == "sleep 30" && $4 >= 0.2) { exit 1 }' || fail "$(cat "$(T log)")"
}

@test "joblog: the command as run, {} replaced, its tabs written as \\t; stdin unused: Send 0" {
    printf 'a\tb\n' >"$(T in)"
    wrun --joblog "$(T log)" /bin/echo {} <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    printf '%s\n' '1	0	4	0	0	1	/bin/echo a\tb' >"$(T exp)"
    cols "$(T log)" >"$(T got)"
    same_file "$(T exp)" "$(T got)"
}

@test "joblog: the file is appended to; the header only when it was empty" {
    printf 'x\n' >"$(T in)"
    wrun --joblog "$(T log)" cat <"$(T in)"
    wrun --joblog "$(T log)" cat <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(grep -c '^Seq' "$(T log)")" -eq 1 ] || fail "$(cat "$(T log)")"
    [ "$(grep -c $'^1\t' "$(T log)")" -eq 2 ] || fail "$(cat "$(T log)")"
}

@test "joblog: an unwritable FILE is one error line and exit 1, before any input is read" {
    seq 1 10 >"$(T in)"
    { wrun --joblog /nonexistent/dir/log cat; cat >"$(T rest)"; } <"$(T in)"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    [ "$stderr" = "weir: --joblog /nonexistent/dir/log: No such file or directory" ] ||
        fail "$stderr"
    [ ! -s "$OUT" ]
    same_file "$(T in)" "$(T rest)"
}
