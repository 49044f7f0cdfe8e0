#!/usr/bin/env bash
# demo.sh - weir on a generated stream, one policy at a time. Run by
# `make demo` from the repository root once ./weir is built; takes ~10 s.
# Every command is printed before it runs; the summary weir prints on
# stderr is the point of each step.
set -euo pipefail

repo=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$repo/weir" ]; then
    echo "demo.sh: $repo/weir is not built; run 'make demo' (or 'make' first)" >&2
    exit 1
fi
PATH="$repo:$PATH"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

if [ -t 1 ]; then
    bold=$(printf '\033[1m') dim=$(printf '\033[2m') off=$(printf '\033[0m')
else
    bold='' dim='' off=''
fi

# A fast producer: N log-like lines, as fast as awk can print them.
produce() {
    seq 1 "$1" | awk '{ printf "%07d level=%s msg=event-%d\n", $1, ($1 % 10 == 7 ? "warn" : "info"), $1 }'
}

step() { # title, explanation
    printf '\n%s== %s%s\n%s\n' "$bold" "$1" "$off" "$2"
}

show() { # command string: printed, then run
    printf '%s$ %s%s\n' "$dim" "$1" "$off"
    eval "$1"
}

lines() { # a file weir may not have created (nothing shed) counts as empty
    if [ -e "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi
}

echo "${bold}weir demo${off}: the producer below writes lines as fast as it can."
printf '%s\n' "  produce N = seq 1 N | awk '{ printf \"%07d level=%s msg=event-%d\\n\", ... }'"

step "(a) pass-through" \
    "No slow stage: 200000 records go straight through; the summary on stderr says how fast."
show "produce 200000 | weir > out.txt"
echo "output lines: $(lines out.txt)"

step "(b) slow consumer, policy drop" \
    "Each record now takes 2 ms (4 workers, queue of 16). Under -p drop weir sheds what does not fit instead of stalling the producer (see the elapsed time), and keeps every shed record in --rejects."
show "produce 200000 | weir --op sleep:2ms -c 16 -j 4 -p drop --rejects rejects.txt > out.txt"
out=$(lines out.txt) rej=$(lines rejects.txt)
echo "output $out + rejects $rej = $((out + rej)) of 200000 input records"
if [ $((out + rej)) -ne 200000 ]; then
    echo "demo.sh: records went missing" >&2
    exit 1
fi

step "(c) policy timeout" \
    "Each record takes 100 ms on 2 workers. A record may wait up to 50 ms, from the moment it is read, for room in the queue of 4; one that cannot get in by then is shed and counted as timed out."
show "produce 60 | weir --op sleep:100ms -c 4 -j 2 -p timeout -t 50ms --rejects late.txt > out.txt"
out=$(lines out.txt) late=$(lines late.txt)
echo "output $out + timed out $late = $((out + late)) of 60 input records"

step "(d) machine-readable summary" \
    "--stats json prints the same figures as one JSON line on stderr (here: keep the warn lines, upper-case them)."
if command -v jq > /dev/null 2>&1; then
    show "produce 100000 | weir -e 'grep:level=warn' -e upper --stats json 2>&1 > out.txt | jq ."
else
    show "produce 100000 | weir -e 'grep:level=warn' -e upper --stats json 2>&1 > out.txt"
fi
echo "first output line: $(head -n 1 out.txt)"

step "(e) policy fail" \
    "Same slow stage, but under -p fail overload is an error: at the first record that finds the queue full weir stops reading, drains what it admitted and exits 75."
status=0
show "produce 200000 | weir --op sleep:2ms -c 16 -j 4 -p fail > out.txt" || status=$?
echo "exit status: $status (75 = overload)"
if [ "$status" -ne 75 ]; then
    echo "demo.sh: expected exit status 75" >&2
    exit 1
fi

step "(f) rate limit" \
    "-r 1000/s --burst 10 admits at most 1000 records per second after a burst of 10; the limiter wait line shows the pacing."
show "produce 500 | weir -r 1000/s --burst 10 > out.txt"

printf '\n%sdone.%s See man ./man/weir.1 for every flag.\n' "$bold" "$off"
