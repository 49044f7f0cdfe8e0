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
@test "usage: --op sleep:forever" { usage_error '--op|-e' --op sleep:forever; }
@test "usage: -r 0" { usage_error '-r|--rate' -r 0; }
@test "usage: -r junk" { usage_error '-r|--rate' -r junk; }
@test "usage: -r -5/s" { usage_error '-r|--rate' -r=-5/s; }
@test "usage: --burst 0 with -r" { usage_error '--burst' -r 10 --burst 0; }
@test "usage: --byte-rate 0" { usage_error '--byte-rate' --byte-rate 0; }
@test "usage: --byte-rate junk" { usage_error '--byte-rate' --byte-rate junk; }
@test "usage: unknown option --frobnicate" { usage_error '--frobnicate' --frobnicate; }
@test "usage: unknown short option -Z" { usage_error '-Z|Z' -Z; }
@test "usage: -0 with -d conflict" { usage_error '(-0|--null).*(-d|--delimiter)|(-d|--delimiter).*(-0|--null)' -0 -d ';'; }
@test "usage: -p timeout without -t" { usage_error '-t|--timeout' -p timeout; }
@test "usage: -t with -p drop" { usage_error '-t|--timeout' -p drop -t 1s; }
@test "usage: -t with -p block" { usage_error '-t|--timeout' -p block -t 1s; }
@test "usage: -c missing its value" { usage_error '-c|--capacity' -c; }
