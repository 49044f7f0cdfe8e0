#!/usr/bin/env bats
# Command line: --help, --version, and every usage error (weir(1), OPTIONS: one line
# naming the flag plus a hint to --help, exit 2, stdin left alone).

load helper

@test "--help prints usage to stdout and exits 0" {
    run --separate-stderr "$WEIR" --help
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [[ $output == *Usage:*weir* ]]
}

@test "-h is --help" {
    "$WEIR" --help >"$(T long)"
    "$WEIR" -h >"$(T short)"
    same_file "$(T long)" "$(T short)"
}

@test "--help mentions every flag" {
    run --separate-stderr "$WEIR" --help
    [ "$status" -eq 0 ]
    local flag missing=
    for flag in --null --delimiter --max-record --capacity --capacity-bytes \
        --workers --jobs --unordered --policy --timeout --rejects --op --rate \
        --burst --byte-rate --byte-burst --stats --quiet --help --version; do
        [[ $output == *"$flag"* ]] || missing+=" $flag"
    done
    [ -z "$missing" ] || fail "missing from --help:$missing"
}

@test "--help names every policy and operation" {
    run --separate-stderr "$WEIR" --help
    local w
    for w in block drop drop-oldest timeout fail cat upper lower grep: grepv: sleep: spin:; do
        [[ $output == *"$w"* ]] || fail "missing from --help: $w"
    done
}

@test "-V and --version print the version to stdout and exit 0" {
    run --separate-stderr "$WEIR" -V
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [[ $output =~ ^weir\ [0-9]+\.[0-9]+ ]]
    local short=$output
    run --separate-stderr "$WEIR" --version
    [ "$status" -eq 0 ]
    [ "$output" = "$short" ]
}

@test "--help ignores stdin and other flags" {
    printf 'data\n' >"$(T in)"
    run --separate-stderr "$WEIR" -c 5 --help <"$(T in)"
    [ "$status" -eq 0 ]
    [[ $output != *data* ]]
}

# usage_error PATTERN ARGS...: weir ARGS fails with exit 2, prints nothing on
# stdout, exactly one stderr line that starts with "weir: ", matches PATTERN
# (the flag) and points to --help, and reads nothing from stdin.
usage_error() {
    local pattern=$1
    shift
    local in out err
    in=$(T in) out=$(T out) err=$(T err)
    seq 1 1000 >"$in"
    local rc=0
    # stdin is a regular file shared with `cat`: whatever weir reads moves
    # the common offset, so cat would print less than the whole file.
    { "$WEIR" "$@" >"$out" 2>"$err" || rc=$?; cat >"$(T rest)"; } <"$in"
    [ "$rc" -eq 2 ] || fail "weir $*: exit $rc, expected 2; stderr: $(cat "$err")"
    [ ! -s "$out" ] || fail "weir $*: wrote to stdout: $(head -c 200 "$out")"
    local lines
    lines=$(wc -l <"$err")
    [ "$lines" -eq 1 ] || fail "weir $*: expected one stderr line, got $lines: $(cat "$err")"
    grep -q '^weir: ' "$err" || fail "weir $*: stderr does not start with 'weir: ': $(cat "$err")"
    grep -q -e '--help' "$err" || fail "weir $*: no --help hint: $(cat "$err")"
    grep -Eq -e "$pattern" "$err" || fail "weir $*: stderr does not match /$pattern/: $(cat "$err")"
    same_file "$in" "$(T rest)" || fail "weir $*: consumed stdin on a usage error"
}

@test "usage: -c 0" { usage_error '-c|--capacity' -c 0; }
@test "usage: -c x" { usage_error '-c|--capacity' -c x; }
@test "usage: --capacity -3" { usage_error '--capacity' --capacity=-3; }
@test "usage: --capacity-bytes 0" { usage_error '--capacity-bytes' --capacity-bytes 0; }
@test "usage: --capacity-bytes 12Q" { usage_error '--capacity-bytes' --capacity-bytes 12Q; }
@test "usage: -j -1" { usage_error '-j|--workers|--jobs' -j -1; }
@test "usage: --jobs many" { usage_error '-j|--workers|--jobs' --jobs many; }
@test "usage: -p bogus" { usage_error '-p|--policy' -p bogus; }
@test "usage: -t 5parsecs" { usage_error '-t|--timeout' -t 5parsecs; }
@test "usage: -t -1s" { usage_error '-t|--timeout' -t=-1s; }
@test "usage: -d ab" { usage_error '-d|--delimiter' -d ab; }
@test "usage: -d empty" { usage_error '-d|--delimiter' -d ''; }
@test "usage: -d '\\xZZ'" { usage_error '-d|--delimiter' -d '\xZZ'; }
@test "usage: --max-record 1Q" { usage_error '--max-record' --max-record 1Q; }
@test "usage: --max-record 0" { usage_error '--max-record' --max-record 0; }
@test "usage: --stats yaml" { usage_error '--stats' --stats yaml; }
@test "usage: --op bogus" { usage_error '--op|-e' --op bogus; }
@test "usage: --op 'grep:('" { usage_error '--op|-e' --op 'grep:('; }
@test "usage: --op grep: whose bounded repetitions multiply past 1000 is refused at once" {
    # glibc's regcomp would take seconds and gigabytes: the address space
    # is bounded so that a weir without the check fails fast here too
    local start
    for re in 'grep:a{1,1000}{1,1000}' 'grepv:(a{1,100}){1,100}' 'grep:x{1,5000}'; do
        start=$(now_ms)
        (
            ((SANITIZED)) || ulimit -v 2000000
            usage_error ': repetition too large: .* more than 1000 times' -e "$re"
        )
        grep -qF "weir: --op '$re': " "$(T err)" || fail "$re: $(cat "$(T err)")"
        (($(now_ms) - start < 5000)) || fail "$re: took $(($(now_ms) - start)) ms"
    done
}
@test "usage: --op sleep:forever" { usage_error '--op|-e' --op sleep:forever; }
@test "usage: -r 0" { usage_error '-r|--rate' -r 0; }
@test "usage: -r junk" { usage_error '-r|--rate' -r junk; }
@test "usage: -r -5/s" { usage_error '-r|--rate' -r=-5/s; }
@test "usage: --burst 0 with -r" { usage_error '--burst' -r 10 --burst 0; }
@test "usage: --byte-rate 0" { usage_error '--byte-rate' --byte-rate 0; }
@test "usage: --byte-rate junk" { usage_error '--byte-rate' --byte-rate junk; }
@test "usage: unknown option --frobnicate" { usage_error '--frobnicate' --frobnicate; }
@test "usage: unknown short option -Z" { usage_error '-Z|Z' -Z; }
@test "usage: a misspelled long option gets the nearest one suggested" {
    local hint='\(did you mean --policy\?\) \(see weir --help\)$'
    usage_error "^weir: unknown option --polcy $hint" --polcy drop
    usage_error "^weir: unknown option --polcy $hint" --polcy=drop
    usage_error '^weir: unknown option --wokrers \(did you mean --workers\?\) ' --wokrers 2
    usage_error '^weir: unknown option --capactiy-bytes \(did you mean --capacity-bytes\?\) ' \
        --capactiy-bytes 1M
    usage_error '^weir: unknown option --rejets \(did you mean --rejects\?\) ' -q --rejets r.txt true
}
@test "usage: an unknown option near no name gets no guess" {
    usage_error '^weir: unknown option --frobnicate \(see weir --help\)$' --frobnicate
    usage_error '^weir: unknown option --tp \(see weir --help\)$' --tp x # as near --to as --op
    usage_error '^weir: unknown option -Z \(see weir --help\)$' -uZ
}

# value_flags: every name of every flag --help lists with a value
# ("-c, --capacity=N"), one a line: -c, --capacity, -j, --workers, --jobs...
value_flags() {
    "$WEIR" --help | grep -oE '^ +(-[[:alnum:]], )?--[a-z-]+(, --[a-z-]+)*=' |
        grep -oE -e '(^| )-{1,2}[[:alnum:]][a-z-]*' | tr -d ' '
}

@test "usage: every flag that takes a value, given an empty one, is named (--rejects '', --rejects=, -c '')" {
    local flags flag want n=0
    flags=$(value_flags)
    for flag in $flags; do
        want=$flag
        [ "$flag" != --jobs ] || want=--workers # an alias is named by its first name
        usage_error "^weir: ([^ ]*/)?$want(/[^ ]*)?: empty value, expected [a-z]" "$flag" ''
        if [[ $flag == --* ]]; then
            usage_error "^weir: ([^ ]*/)?$want(/[^ ]*)?: empty value, expected [a-z]" "$flag="
        fi
        n=$((n + 1))
    done
    [ "$n" -ge 45 ] || fail "only $n flags with a value found in --help: $flags"
    usage_error "^weir: --rejects: empty value, expected a file name " --rejects '' true
    usage_error "^weir: --max-record: empty value, expected a size " --max-record ''
    usage_error "^weir: --metrics: empty value, expected a file name " --metrics=
    usage_error "^weir: -j/--workers: empty value, expected a whole number " -uj ''
}
@test "usage: -0 with -d conflict" { usage_error '(-0|--null).*(-d|--delimiter)|(-d|--delimiter).*(-0|--null)' -0 -d ';'; }
@test "usage: -p timeout without -t" { usage_error '-t|--timeout' -p timeout; }
@test "usage: -t with -p drop" { usage_error '-t|--timeout' -p drop -t 1s; }
@test "usage: -t with -p block" { usage_error '-t|--timeout' -p block -t 1s; }
@test "usage: -c missing its value" { usage_error '-c|--capacity' -c; }

# Counts take the decimal suffixes of rates (k = 1000), and a fraction when
# it gives a whole number (weir(1), DESCRIPTION: counts).
@test "counts take k, M, G (x1000) and whole fractions: -c 10k, -c 2.5k, -j 0.002k" {
    seq 3 >"$(T in)"
    wrun --stats json -c 10k -j 0.002k <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(jget "$ERR" .queue_capacity)" = 10000 ] || fail "-c 10k: $stderr"
    [ "$(jget "$ERR" .workers_requested)" = 2 ] || fail "-j 0.002k: $stderr"
    wrun --stats json --capacity=2.5K <"$(T in)"
    [ "$(jget "$ERR" .queue_capacity)" = 2500 ] || fail "--capacity=2.5K: $stderr"
    wrun --stats json -c 0.001M <"$(T in)"
    [ "$(jget "$ERR" .queue_capacity)" = 1000 ] || fail "-c 0.001M: $stderr"
    accepted -r 10k --burst 1k
    accepted --retries 1k true
    accepted --pipe --block-records 10k true
    accepted -z -f --compress-threads 0.001k
}

@test "counts: a fraction that is not whole, or beyond the bound, is refused naming the flag" {
    accepted -c 2.5k
    usage_error "^weir: -c/--capacity: expected a whole number from 1 to 1073741824, got '1.5' " -c 1.5
    usage_error "^weir: -c/--capacity: expected a whole number from 1 to 1073741824, got '2G' " -c 2G
    usage_error "^weir: -c/--capacity: .*got '10m' " -c 10m
    usage_error "^weir: -j/--workers: .*got '2.5' " -j 2.5
    usage_error "^weir: --retries: expected a whole number from 0 to 1000, got '1.001k' " --retries 1.001k true
    usage_error "^weir: --block-records: .*got '0.5k1' " --pipe --block-records 0.5k1 true
    usage_error "^weir: --burst: .*got '2.0001k' " -r 10 --burst 2.0001k
}

# COMMAND: everything from the first non-option (or after --) belongs to it
# (weir(1), OPTIONS and EXTERNAL COMMANDS).

@test "--help mentions the COMMAND flags, shapes and exit statuses" {
    run --separate-stderr "$WEIR" --help
    [ "$status" -eq 0 ]
    local w missing= flat
    flat=$(tr -s ' \n' '  ' <<<"$output") # the usage lines are wrapped
    for w in --exec --coproc --pipe --block --block-records --job-timeout --retries \
        --on-error '[--] [COMMAND [ARG...]]' 126 127; do
        [[ $flat == *"$w"* ]] || missing+=" $w"
    done
    [ -z "$missing" ] || fail "missing from --help:$missing"
}

@test "--help fits in 80 columns" {
    run --separate-stderr "$WEIR" --help
    [ "$status" -eq 0 ]
    local long
    long=$(awk 'length > 79' <<<"$output")
    [ -z "$long" ] || fail "lines over 79 columns: $long"
}

@test "-- with nothing after it: no COMMAND, the built-in operations run" {
    seq 3 >"$(T in)"
    wrun -q -- <"$(T in)"
    [ "$status" -eq 0 ] || fail "weir -q --: exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    [ -z "$stderr" ] || fail "weir -q --: stderr: $stderr"
    printf 'a\nb\n' >"$(T in2)"
    printf 'A\nB\n' >"$(T want2)"
    wrun -q -j2 -e upper -- <"$(T in2)"
    [ "$status" -eq 0 ] || fail "weir -q -j2 -e upper --: exit $status: $stderr"
    same_file "$(T want2)" "$OUT"
}
@test "usage: -x -- with nothing after it" { usage_error '^weir: -x/--exec needs a COMMAND ' -x --; }
@test "usage: -x without COMMAND" { usage_error '^weir: -x/--exec needs a COMMAND ' -x; }
@test "usage: --exec without COMMAND" { usage_error '^weir: -x/--exec needs a COMMAND ' --exec; }
@test "usage: --coproc without COMMAND" { usage_error '^weir: --coproc needs a COMMAND ' --coproc; }
@test "usage: --pipe without COMMAND" { usage_error '^weir: --pipe needs a COMMAND ' --pipe; }
@test "usage: --exec with --pipe" { usage_error '^weir: -x/--exec and --pipe conflict' --exec --pipe true; }
@test "usage: --coproc with --pipe" { usage_error '^weir: --coproc and --pipe conflict' --pipe --coproc true; }
@test "usage: -x with --coproc" { usage_error '^weir: -x/--exec and --coproc conflict' -x --coproc true; }
@test "usage: -e with a COMMAND" { usage_error '^weir: -e/--op cannot be combined with a COMMAND ' -e upper true; }
@test "usage: --op with --pipe COMMAND" { usage_error '-e/--op cannot be combined with a COMMAND' --op cat --pipe true; }
@test "usage: --block without --pipe" { usage_error '^weir: --block needs --pipe ' --block 1M true; }
@test "usage: --block with --coproc" { usage_error '^weir: --block needs --pipe ' --coproc --block 1M true; }
@test "usage: --block-records without --pipe" { usage_error '^weir: --block-records needs --pipe ' --block-records 5 true; }
@test "usage: --block without COMMAND" { usage_error '^weir: --block needs --pipe ' --block 1M; }
@test "usage: --block 0" { usage_error '^weir: --block: expected a size' --pipe --block 0 true; }
@test "usage: --block 12Q" { usage_error '^weir: --block: expected a size' --pipe --block 12Q true; }
@test "usage: --block-records 0" { usage_error '^weir: --block-records: expected a whole number from 1 ' --pipe --block-records 0 true; }
@test "usage: --block-records x" { usage_error '^weir: --block-records: expected a whole number' --pipe --block-records=x true; }
@test "usage: --job-timeout without COMMAND" { usage_error '^weir: --job-timeout needs a COMMAND ' --job-timeout 1s; }
@test "usage: --retries without COMMAND" { usage_error '^weir: --retries needs a COMMAND ' --retries 2; }
@test "usage: --on-error without COMMAND" { usage_error '^weir: --on-error needs a COMMAND ' --on-error fail; }
@test "usage: --joblog without COMMAND" { usage_error '^weir: --joblog needs a COMMAND ' --joblog j.log; }
@test "usage: --job-timeout 0" { usage_error '^weir: --job-timeout: expected a duration above zero' --job-timeout 0 true; }
@test "usage: --job-timeout 5parsecs" { usage_error '^weir: --job-timeout: expected a duration' --job-timeout 5parsecs true; }
@test "usage: --job-timeout -1s" { usage_error '^weir: --job-timeout: expected a duration' --job-timeout=-1s true; }
@test "usage: --retries 1001" { usage_error "^weir: --retries: expected a whole number from 0 to 1000, got '1001'" --retries 1001 true; }
@test "usage: --retries -1" { usage_error '^weir: --retries: expected a whole number' --retries=-1 true; }
@test "usage: --on-error maybe" { usage_error "^weir: --on-error: expected skip or fail, got 'maybe'" --on-error maybe true; }
@test "usage: a usage error wins over a missing COMMAND" { usage_error '--retries' --retries 1001 no-such-cmd-xyz; }
@test "usage: an option's value may be --" { usage_error "-c/--capacity: .*got '--'" -c -- true; }
@test "usage: an ambiguous --cap before COMMAND" { usage_error 'option "--cap" is ambiguous' --cap 5 true; }
@test "usage: --rej is ambiguous (--rejects, --rejects-subject)" { usage_error '^weir: option "--rej" is ambiguous' --rej=r.txt; }

# not_runnable STATUS PATTERN ARGS...: weir ARGS exits STATUS at once, with
# nothing on stdout and one stderr line matching PATTERN, and reads nothing:
# stdin is a fifo held open for writing by this shell, holding one line, so
# a read would take the line and then block until `timeout` ends it.
not_runnable() {
    local want=$1 pattern=$2
    shift 2
    mkfifo "$(T cmdfifo)"
    local fd rc=0 line=
    exec {fd}<>"$(T cmdfifo)"
    printf 'untouched\n' >&"$fd"
    timeout 10 "$WEIR" "$@" <&"$fd" >"$(T out)" 2>"$(T err)" || rc=$?
    read -r -t 2 line <&"$fd" || true
    exec {fd}>&-
    [ "$rc" -eq "$want" ] || fail "weir $*: exit $rc, expected $want; stderr: $(cat "$(T err)")"
    [ ! -s "$(T out)" ] || fail "weir $*: wrote to stdout: $(head -c 200 "$(T out)")"
    local lines
    lines=$(wc -l <"$(T err)")
    [ "$lines" -eq 1 ] || fail "weir $*: expected one stderr line, got $lines: $(cat "$(T err)")"
    grep -Eq -e "$pattern" "$(T err)" || fail "weir $*: stderr does not match /$pattern/: $(cat "$(T err)")"
    [ "$line" = untouched ] || fail "weir $*: read its input (left '$line')"
}

@test "COMMAND not found: 127, before reading input" {
    not_runnable 127 '^weir: no-such-cmd-xyz: command not found$' no-such-cmd-xyz
}

@test "COMMAND not found after flags and --: 127" {
    not_runnable 127 '^weir: no-such-cmd-xyz: command not found$' -j2 -- no-such-cmd-xyz -j3
}

@test "COMMAND path that does not exist: 127" {
    not_runnable 127 "^weir: $BATS_TEST_TMPDIR/nope: command not found\$" "$BATS_TEST_TMPDIR/nope"
}

@test "COMMAND: what follows -- is COMMAND's, even -x: 127" {
    not_runnable 127 '^weir: -x: command not found$' -- -x
}

@test "COMMAND not found with PATH unset (default /usr/bin:/bin): 127" {
    run --separate-stderr -127 env -u PATH "$WEIR" --exec no-such-cmd-xyz </dev/null
    [ "$stderr" = "weir: no-such-cmd-xyz: command not found" ]
    # and the default path finds true (status is the engine's: not 126/127/2)
    local rc=0
    env -u PATH "$WEIR" -q true </dev/null 2>"$(T err2)" || rc=$?
    [[ $rc -ne 127 && $rc -ne 126 && $rc -ne 2 ]] || fail "env -u PATH weir true: exit $rc: $(cat "$(T err2)")"
}

@test "COMMAND not executable (0644 file by path): 126" {
    printf '#!/bin/sh\nexit 0\n' >"$(T script)"
    chmod 0644 "$(T script)"
    not_runnable 126 "^weir: $BATS_TEST_TMPDIR/script: Permission denied\$" --pipe "$(T script)" arg
}

@test "COMMAND is a directory: 126, and the message says so" {
    mkdir "$(T dir)"
    not_runnable 126 "^weir: $BATS_TEST_TMPDIR/dir: Is a directory\$" "$(T dir)"
}

@test "COMMAND is a directory, named with a trailing /: 126" {
    mkdir "$(T dir)"
    not_runnable 126 "^weir: $BATS_TEST_TMPDIR/dir/: Is a directory\$" --pipe "$(T dir)/"
}

@test "COMMAND found in PATH but not executable: 126" {
    mkdir "$(T bin)"
    printf '#!/bin/sh\nexit 0\n' >"$(T bin)/weir-test-noexec"
    chmod 0644 "$(T bin)/weir-test-noexec"
    PATH="$(T bin):$PATH" not_runnable 126 '^weir: weir-test-noexec: Permission denied$' \
        --coproc weir-test-noexec
}

@test "COMMAND: a directory in PATH is skipped, not run" {
    mkdir -p "$(T bin)/weir-test-dir"
    PATH="$(T bin):$PATH" not_runnable 127 '^weir: weir-test-dir: command not found$' weir-test-dir
}

# accepted ARGS...: weir ARGS </dev/null is no usage error and finds COMMAND
# (the status is the engine's: not 2, 126 or 127), and stderr has no usage
# line; prints stderr on failure.
accepted() {
    local rc=0
    timeout 10 "$WEIR" "$@" </dev/null >"$(T out)" 2>"$(T err)" || rc=$?
    [[ $rc -ne 2 && $rc -ne 126 && $rc -ne 127 ]] || fail "weir $*: exit $rc: $(cat "$(T err)")"
    ! grep -q 'see weir --help' "$(T err)" || fail "weir $*: usage line: $(cat "$(T err)")"
}

@test "COMMAND: a later executable in PATH wins over a non-executable one" {
    mkdir -p "$(T a)" "$(T b)"
    printf '#!/bin/sh\ncat\n' >"$(T a)/weir-test-cmd"
    printf '#!/bin/sh\ncat\n' >"$(T b)/weir-test-cmd"
    chmod 0644 "$(T a)/weir-test-cmd"
    chmod 0755 "$(T b)/weir-test-cmd"
    PATH="$(T a):$(T b):$PATH" accepted weir-test-cmd
}

@test "COMMAND: an empty PATH entry is the current directory" {
    mkdir "$(T here)"
    printf '#!/bin/sh\ncat\n' >"$(T here)/weir-test-here"
    chmod 0755 "$(T here)/weir-test-here"
    cd "$(T here)"
    PATH="/nonexistent::$PATH" accepted weir-test-here
    run -127 env PATH="/nonexistent:$PATH" "$WEIR" weir-test-here </dev/null
}

@test "COMMAND: weir -j2 -- true is accepted" {
    accepted -j2 -- true
    [ ! -s "$(T out)" ]
}

@test "COMMAND: weir -j 2 sed -u s/a/b/ gives sed its -u" {
    accepted -j 2 sed -u s/a/b/
    ! grep -q -e '-u' "$(T err)" || fail "stderr mentions -u: $(cat "$(T err)")"
}

@test "COMMAND's own flags are not weir's: sed --frobnicate -c 0 --help" {
    accepted sed --frobnicate -c 0 --help
    ! grep -q -e '--frobnicate\|-c/--capacity' "$(T err)" || fail "weir parsed COMMAND's flags: $(cat "$(T err)")"
    ! grep -q 'Usage: weir' "$(T out)" || fail "weir printed its help for COMMAND's --help"
}

@test "COMMAND: weir's --help before COMMAND still prints weir's help" {
    run --separate-stderr "$WEIR" --help sed -n p
    [ "$status" -eq 0 ]
    [[ $output == *Usage:*weir* ]]
}

@test "COMMAND: option values are not COMMAND (-j 2, -uj2, --capacity 5, --rejects FILE, -p drop)" {
    accepted -j 2 true
    accepted -uj2 true
    accepted -uj 2 true
    accepted --capacity 5 true
    accepted --capacity-b 64K true
    accepted --rejects "$(T rejects)" true
    accepted --max-rec 1K true
    accepted --capacity=5 true
    accepted -p drop -q true
    accepted --retries 3 --on-error fail --job-timeout 2s true
    accepted --pipe --block 64K --block-records 10 true
    accepted --coproc -j1 cat
}

@test "--pipe: -c defaults to no record bound, unless given" {
    printf 'a\nb\n' >"$(T in)"
    wrun --pipe --stats json cat <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ "$(jget "$ERR" .queue_capacity)" = null ] ||
        fail "--pipe queue_capacity $(jget "$ERR" .queue_capacity), expected null (no bound)"
    [ "$(jget "$ERR" .queue_capacity_bytes)" = 67108864 ]
    wrun --pipe cat <"$(T in)"
    grep -q 'queue: capacity 64.0 MiB, no record bound;' "$ERR" || fail "summary: $stderr"
    wrun --pipe -c 7 --stats json cat <"$(T in)"
    [ "$(jget "$ERR" .queue_capacity)" = 7 ]
    wrun --exec --stats json cat <"$(T in)"
    [ "$(jget "$ERR" .queue_capacity)" = 1024 ]
}

# ---- --key (weir(1), KEYS)
@test "usage: --key 0" { usage_error "^weir: --key: expected field numbers .*got '0'" --key 0 true; }
@test "usage: --key abc" { usage_error "^weir: --key: .*got 'abc'" --key abc true; }
@test "usage: --key 1," { usage_error "^weir: --key: .*got '1,'" --key 1, true; }
@test "usage: --key 're:('" { usage_error "^weir: --key: re:\(: .*" --key 're:(' true; }
@test "usage: --key re: with stacked repetitions" { usage_error "^weir: --key: repetition too large" --key 're:a{1,1000}{1,1000}' true; }
@test "usage: --key subject:1 without --from" { usage_error '^weir: --key subject:N .* it needs --from ' --key subject:1 true; }
@test "usage: --key-limit 0" { usage_error "^weir: --key-limit: expected a whole number from 1 to 1024, got '0'" --key 1 --key-limit 0 true; }
@test "usage: --key-limit without --key" { usage_error '^weir: --key-limit needs --key ' --key-limit 2 true; }
@test "usage: --key-sticky without --key" { usage_error '^weir: --key-sticky needs --key ' --key-sticky true; }
@test "usage: -F without --key" { usage_error '^weir: -F/--field-sep needs --key ' -F , true; }
@test "usage: -F with two bytes" { usage_error "^weir: -F/--field-sep: expected one byte" --key 1 -F ab true; }
