#!/usr/bin/env bash
# shellcheck disable=SC2016  # backquotes in single quotes are markdown code spans
# bench/rate.sh - how exactly does weir's rate limiter pace a stream, next to
# the tools a user would otherwise reach for (pv -L, cstream -t, mbuffer -r)?
#
# Each run feeds one limiter from a file (input always available, so the
# limiter alone sets the pace) sized to about 3 s at the target rate, and
# reads its output with bench/meter.c, which stamps every read with
# CLOCK_MONOTONIC. Reported per run: the achieved rate over the middle 80% of
# the run, the rate over the whole run, the worst 100 ms window ÷ target over
# the whole run and after the first 200 ms (a token bucket starts full, so its
# first window may legitimately carry burst + rate * 0.1), the CPU time the
# limiter used (a paced run should sleep, not spin) and the wall time.
#
# Prints one markdown table and writes it, with the machine, versions and
# notes, to bench/RATE.md. Goals (weir: achieved within 0.5% of target, worst
# 100 ms window after the initial bucket <= 1.1x target) are reported, never
# enforced: the script exits 0 whatever the numbers, 1 if a command failed or
# hung, 2 on bad usage.
#
# Environment:
#   WEIR=path        weir binary (default ./weir)
#   RATE_RESULTS=f   report file (default bench/RATE.md)
#   SECONDS_RUN=n    seconds of paced output per run (default 3)
#   RUN_TIMEOUT=n    a run still going after n seconds is a hang (default 30)
#   METER_RT=0       do not try to run the meter at real-time priority
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LC_ALL=C

WEIR=${WEIR:-./weir}
RESULTS=${RATE_RESULTS:-bench/RATE.md}
SECS=${SECONDS_RUN:-3}
RUN_TIMEOUT=${RUN_TIMEOUT:-30}
DATA=bench/data
METER=$DATA/meter
WORK=$DATA/.rate
WINDOW=0.1 # seconds: the window of "worst window"
SKIP=0.2   # seconds: the start of the run left out of "after 200 ms"
MIB=1048576

LOAD_START=$(cut -d ' ' -f 1-3 /proc/loadavg)
ROWS=()
NOTES=()
FAILURES=0

log() { printf '%s\n' "rate: $*" >&2; }
warn() { printf '%s\n' "rate: !!! $*" >&2; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
have() { command -v "$1" >/dev/null 2>&1; }

if ! have "$WEIR"; then
	printf 'rate: weir binary %s not found (run make, or set WEIR=)\n' "$WEIR" >&2
	exit 2
fi
if ! [[ $SECS =~ ^[1-9][0-9]*$ && $RUN_TIMEOUT =~ ^[1-9][0-9]*$ ]]; then
	printf 'rate: SECONDS_RUN and RUN_TIMEOUT must be positive integers\n' >&2
	exit 2
fi

# ---------------------------------------------------------------- setup

mkdir -p "$DATA" "$WORK"
if [[ ! -x $METER || bench/meter.c -nt $METER ]]; then
	log "compiling $METER"
	"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -o "$METER" bench/meter.c
fi

# The meter must read the moment data is written, or its own scheduling
# delays show up as bursts of the tool under test (on a 2-CPU machine, a
# 15 ms descheduling of the meter looks like a 1.15x window). So it runs
# under SCHED_FIFO when allowed (root or CAP_SYS_NICE); it sleeps in read()
# nearly all the time, so it takes little from the tool.
METER_CMD=("$METER")
METER_PRIO='normal priority'
if [[ ${METER_RT:-1} != 0 ]] && chrt -f 10 true 2>/dev/null; then
	METER_CMD=(chrt -f 10 "$METER")
	METER_PRIO='SCHED_FIFO priority 10 (chrt -f 10)'
fi

# Inputs, made once and reused (bench/data/ is git-ignored). Records: `seq`
# output. Bytes: 100-byte lines (weir is a record filter; a stream without
# newlines would be one oversized record), made by `yes | head -c`.
INPUTS=()
input_lines() {
	F=$DATA/rate-seq-$1.txt
	[[ -s $F ]] || { seq 1 "$1" >"$F.tmp" && mv "$F.tmp" "$F"; }
	[[ " ${INPUTS[*]} " == *" $F "* ]] || INPUTS+=("$F")
}
input_bytes() {
	F=$DATA/rate-bytes-$1.txt
	if [[ ! -s $F ]]; then
		yes "$(printf '%099d' 0)" | head -c "$1" >"$F.tmp" || true
		mv "$F.tmp" "$F"
	fi
	[[ " ${INPUTS[*]} " == *" $F "* ]] || INPUTS+=("$F")
}

# ---------------------------------------------------------------- one run

# run_case UNIT RATE BURST TOOL CMD...: feed input file $F to CMD, meter its
# output, add a table row. UNIT is lines or bytes; RATE in units/s; BURST
# the bucket size in units when known (weir), else "-".
run_case() {
	local unit=$1 rate=$2 burst=$3 tool=$4
	shift 4
	local -a cmd=("$@")
	local mflag=() tag m cpu rc wall user sys shown
	[[ $unit == lines ]] && mflag=(-l)
	tag=$WORK/run
	shown="$(printf '%q ' "${cmd[@]}")< $F"
	shown=${shown//|/\\|}
	log "$unit @ $rate/s: ${cmd[*]}"

	# The limiter runs inside `time` (bash keyword: real, user and sys of
	# that one command and its children, here timeout and the limiter), so
	# the CPU column is the limiter's own. A run past RUN_TIMEOUT is killed.
	local TIMEFORMAT='%R %U %S'
	{
		time {
			rc=0
			timeout "$RUN_TIMEOUT" "${cmd[@]}" <"$F" 2>"$tag.err" || rc=$?
			echo "$rc" >"$tag.rc"
		}
	 } 2>"$tag.time" | "${METER_CMD[@]}" "${mflag[@]}" -w "$WINDOW" -s "$SKIP" >"$tag.meter"
	rc=$(<"$tag.rc")
	read -r wall user sys <"$tag.time"
	m=$(<"$tag.meter")
	cpu=$(calc '%.2f (%.0f%%)' "$user + $sys, 100 * ($user + $sys) / ($wall > 0 ? $wall : 1)")

	local units steady overall peak peak_after k v
	for kv in $m; do
		k=${kv%%=*} v=${kv#*=}
		case $k in
		units) units=$v ;;
		steady) steady=$v ;;
		overall) overall=$v ;;
		peak) peak=$v ;;
		peak_after) peak_after=$v ;;
		esac
	done

	local expect note=''
	if [[ $unit == lines ]]; then expect=$(wc -l <"$F"); else expect=$(stat -c %s "$F"); fi
	if ((rc == 124)); then
		note="**HUNG**: killed after ${RUN_TIMEOUT}s"
		FAILURES=$((FAILURES + 1))
	elif ((rc != 0)); then
		note="**exit $rc**: $(head -c 200 "$tag.err" | tr '\n' ' ')"
		FAILURES=$((FAILURES + 1))
	elif ((units != expect)); then
		note="**short output**: $units of $expect $unit"
		FAILURES=$((FAILURES + 1))
	fi

	if awk -v o="$overall" -v r="$rate" 'BEGIN { exit !(o > 1.5 * r) }'; then
		note+="${note:+; }not paced: all $units $unit within $(calc '%.1f' "1000 * $units / ($overall > 0 ? $overall : 1)") ms"
	fi
	local win dev r_all r_after bound=- goal=-
	win=$(calc "%.10g" "$rate * $WINDOW")
	dev=$(calc '%+.2f%%' "100 * ($steady / $rate - 1)")
	r_all=$(calc '%.3f' "$peak / $win")
	r_after=$(calc '%.3f' "$peak_after / $win")
	if [[ $burst != - ]]; then
		# A token bucket admits at most burst + rate*T in any T.
		bound=$(calc '%.3f' "($burst + $win) / $win")
		if [[ $tool == weir ]]; then
			if awk -v s="$steady" -v r="$rate" -v p="$r_after" \
				'BEGIN { d = s / r - 1; exit !(d <= 0.005 && d >= -0.005 && p <= 1.1) }'; then
				goal=met
			else
				goal=missed
			fi
		fi
		# The bound holds for admissions; the meter sees writes, a little
		# later and not all equally late, so allow 1 ms of output jitter
		# (1% of the window) before calling it a breach.
		if awk -v p="$peak" -v b="$burst" -v w="$win" 'BEGIN { exit !(p > b + 1.01 * w) }'; then
			note+="${note:+; }**window above burst + rate·0.1 by more than 1 ms of output** ($peak > $(calc '%.0f' "$burst + $win") $unit)"
		fi
	fi
	[[ -z $note ]] || warn "$tool: $note"
	ROWS+=("| $unit | $(fmt_rate "$unit" "$rate") | $tool | \`$shown\` | $(fmt_burst "$unit" "$burst") | $(calc '%.1f' "$steady") | $dev | $(calc '%.3f' "$overall / $rate") | $r_all | $r_after | $bound | $cpu | $wall | $goal | $note |")
	printf '%s\n' "${ROWS[-1]}"
}

fmt_rate() {
	if [[ $1 == lines ]]; then
		calc '%g lines/s' "$2"
	else
		calc '%g MiB/s' "$2 / $MIB"
	fi
}
fmt_burst() {
	if [[ $2 == - ]]; then
		printf 'its own'
	elif [[ $1 == lines ]]; then
		printf '%s' "$2"
	else
		calc '%.0f B' "$2"
	fi
}

# ---------------------------------------------------------------- scenarios

TABLE_HEAD='| unit | target | tool | command | burst | achieved /s (middle 80%) | vs target | whole run ÷ target | worst 100 ms ÷ target, whole run | worst 100 ms ÷ target, after first 200 ms | bucket bound (burst + rate·0.1) ÷ target | CPU s (user+sys, % of wall) | wall s | weir goal | notes |
|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|'
printf '%s\n' "$TABLE_HEAD"

skip_peer() {
	NOTES+=("$1 is not installed: its rows are skipped")
	warn "$1 not installed: skipped"
}

for R in 1000 100000; do
	input_lines $((SECS * R))
	run_case lines "$R" $((R / 10 > 1 ? R / 10 : 1)) weir "$WEIR" -q -r "$R"
	run_case lines "$R" $((R / 100 > 1 ? R / 100 : 1)) weir "$WEIR" -q -r "$R" --burst $((R / 100 > 1 ? R / 100 : 1))
	if have pv; then run_case lines "$R" - pv pv -q -l -L "$R"; else skip_peer pv; fi
done

for M in 1 100; do
	R=$((M * MIB))
	input_bytes $((SECS * R))
	run_case bytes "$R" $((R / 10)) weir "$WEIR" -q --byte-rate "${M}M/s"
	run_case bytes "$R" $((R / 100)) weir "$WEIR" -q --byte-rate "${M}M/s" --byte-burst $((R / 100))
	# Plain byte counts for the peers: no doubt about 1000 vs 1024.
	if have pv; then run_case bytes "$R" - pv pv -q -L "$R"; else skip_peer pv; fi
	if have cstream; then run_case bytes "$R" - cstream cstream -t "$R"; else skip_peer cstream; fi
	if have mbuffer; then
		if ((M == 1)); then
			NOTES+=("mbuffer default block size (\`-s\`, from \`mbuffer --help\`): $(mbuffer --help 2>&1 | sed -n 's/.*-s <size>.*default: *\([0-9]*\).*/\1/p' || true) bytes")
		fi
		run_case bytes "$R" - mbuffer mbuffer -q -r "$R"
		# mbuffer paces whole blocks (-s; 4 MiB by default on this kind of
		# machine): also with 64 KiB blocks, for information.
		run_case bytes "$R" - 'mbuffer -s 64k (info)' mbuffer -q -r "$R" -s 65536
	else
		skip_peer mbuffer
	fi
done
rm -rf "$WORK"

# ---------------------------------------------------------------- report

version_of() {
	local v
	v=$("$@" 2>&1 | head -n 1) || true
	printf '%s' "${v:-unavailable}"
}

{
	printf '# weir rate limiter: pace and bursts\n\n'
	printf -- '- date: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	printf -- '- machine: %s CPUs, %s, %s\n' "$(nproc)" \
		"$(grep -m 1 'model name' /proc/cpuinfo | sed 's/.*: //')" "$(uname -srm)"
	printf -- '- load average (1, 5, 15 min): %s at start, %s at end; ' \
		"$LOAD_START" "$(cut -d ' ' -f 1-3 /proc/loadavg)"
	printf 'the pacing of every tool degrades on a busy machine\n'
	printf -- '- weir: `%s` %s (tree %s)\n' "$WEIR" "$(version_of "$WEIR" --version)" \
		"$(git describe --always --dirty 2>/dev/null || echo unknown)"
	printf -- '- peers: %s; cstream %s; %s\n' "$(version_of pv --version)" \
		"$(version_of cstream -V)" "$(version_of mbuffer --version)"
	printf -- '- meter: `%s`, run at %s\n' "$METER" "$METER_PRIO"
	printf -- '- inputs (read from a file, so the limiter is always saturated):\n'
	for f in "${INPUTS[@]}"; do
		printf -- '  - `%s`: %s lines, %s bytes\n' "$f" "$(wc -l <"$f")" "$(stat -c %s "$f")"
	done
	printf '\n%s\n' "$TABLE_HEAD"
	printf '%s\n' "${ROWS[@]}"
	printf '\n## How to read it\n\n'
	printf -- '- **achieved /s (middle 80%%)**: from `bench/meter.c`: units that arrived between the first read at or after 10%% of the run and the last read at or before 90%%, over the time between those two reads. The initial bucket and the end of input are outside it. A tool that writes in large chunks (pv: rate/10 at a time, at uneven intervals) is measured to about one chunk in 2.4 s, i.e. a few %%; for it the whole-run figure is the better guide.\n'
	printf -- '- **whole run ÷ target**: all units over first-to-last arrival. A token bucket sends its full bucket at once, so expect about 1 + burst / (rate × run) above 1 (1.034 for weir'"'"'s default burst on a 3 s run).\n'
	printf -- '- **worst 100 ms**: the most units in any window [t, t + 100 ms) over the read timestamps, exactly (two pointers over every read), ÷ (target × 0.1 s). **Whole run** includes the initial full bucket: a token bucket may reach (burst + rate × 0.1) ÷ (rate × 0.1), the **bucket bound** column (2.0 with weir'"'"'s default burst of rate/10, 1.1 with --burst at 1%% of the rate). **After first 200 ms** considers only windows starting 200 ms or more after the first unit: the steady pace, where anything above 1 is jitter being caught up.\n'
	printf -- '- **CPU s**: user + sys of the limiter alone (bash `time` around it), for about %s s of pacing: a limiter that sleeps uses a small fraction of that.\n' "$SECS"
	printf -- '- **weir goal** (weir rows only; reported, not enforced): achieved within 0.5%% of target, and worst 100 ms after the first 200 ms ≤ 1.1 × target. The bound is on admissions and the meter sees writes: records admitted during an output stall leave together, so a window may pass the bound by rate × the stall. Notes flag a window above the bound by more than 1 ms of output (1%% of the window).\n'
	printf -- '- weir burst: default max(1, rate/10) records, byte-rate/10 bytes; the `--burst`/`--byte-burst` rows use 1%% of the rate. pv, cstream and mbuffer run with their defaults; byte rates are given to them in plain bytes per second.\n'
	if ((${#NOTES[@]})); then
		printf '\n## Notes\n\n'
		printf -- '- %s\n' "${NOTES[@]}"
	fi
} >"$RESULTS"
log "wrote $RESULTS"
if ((FAILURES)); then
	warn "$FAILURES run(s) failed, hung or lost output"
	exit 1
fi
