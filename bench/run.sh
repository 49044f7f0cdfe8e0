#!/usr/bin/env bash
# shellcheck disable=SC2016  # backquotes in single quotes are markdown code spans
# bench/run.sh - weir side by side with its peers, in one run.
#
# Each scenario runs weir and its peer commands once as a warm-up (weir's
# warm-up under GNU time for its peak RSS), then REPS rounds of A B A B...
# It reports medians, throughput and the median of the per-round ratios
# weir ÷ peer, and writes bench/RESULTS.md. Targets are reported as
# PASS/MISS only; they never fail this script. A command that exits non-zero
# or an output mismatch does (exit 1), after the whole table is written.
#
# Environment:
#   WEIR=path       weir binary (default ./weir)
#   REPS=n          timed rounds per scenario (default 5; 3 with QUICK=1)
#   QUICK=1         small inputs, REPS=3: a smoke run
#   SCENARIOS="S1 P3"  subset to run (default all: S1..S8, D1, K1 K2 K3, P3 P4
#                   P7, Z1 Z2 Z3 Zmem, O1, N1 N2)
#   NATSTOOL=path   natstool for N1, N2 (default: next to WEIR, else
#                   build/release/natstool)
#   RESULTS=file    where to write the markdown report (default bench/RESULTS.md)
#   SEED=n          generator seed (default: gen's fixed seed)
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LC_ALL=C

WEIR=${WEIR:-./weir}
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then REPS=${REPS:-3}; else REPS=${REPS:-5}; fi
ALL_SCENARIOS="S1 S2 S3 S4 S5 S6 S7 S8 D1 K1 K2 K3 P3 P4 P7 Z1 Z2 Z3 Zmem O1 N1 N2"
SCENARIOS=${SCENARIOS:-$ALL_SCENARIOS}
RESULTS=${RESULTS:-bench/RESULTS.md}
SEED=${SEED:-}
DATA=bench/data
TIME_BIN=/usr/bin/time
GREP_RE='[Qq]uartz|zebra[0-9]'

if [[ $QUICK == 1 ]]; then
	N_L100=200000 N_SHORT=2000000 N_RAND=10000 N_SPIN=20000 N_LAT=1000
	STALL_S=1 HEAD_SLEEP_S=1 N_EXEC=300 N_COPROC=20000 N_NATS=100000
	N_KEYED=100000 N_SHARD=20000 N_K3=1000
else
	N_L100=2000000 N_SHORT=20000000 N_RAND=100000 N_SPIN=100000 N_LAT=3000
	STALL_S=3 HEAD_SLEEP_S=3 N_EXEC=3000 N_COPROC=100000 N_NATS=1000000
	N_KEYED=1000000 N_SHARD=200000 N_K3=10000
fi
# S6-slow-head-exec: N_BIG records of BIG_LEN bytes (delimiter included).
N_BIG=256 BIG_LEN=262144
# Z rows: the zstd level of the compressed input and of both compressors.
ZLEVEL=3
# K rows: keys in the K1, K2 input; K3's key counts, workers, work per record.
N_KEYS=1000 K3_KEYS="1 2 5 10 20 1000" K3_J=32 K3_MAX_US=5000
# O1-long: the lines100 file this many times over, through a pipe, so the
# run lasts long enough for the monitor to fire (as a brace expansion).
O1_COPIES='{,,,,}'

W_Q=$(printf '%q' "$WEIR")
LOAD_START=$(cut -d ' ' -f 1-3 /proc/loadavg)
RSS_FILE=$DATA/.rss
FAILURES=0
MISMATCHES=0
ROWS=()
NOTES=()

log() { printf '%s\n' "bench: $*" >&2; }
warn() { printf '%s\n' "bench: !!! $*" >&2; }

want() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# ---------------------------------------------------------------- inputs

build_gen() {
	mkdir -p "$DATA"
	if [[ ! -x $DATA/gen || bench/gen.c -nt $DATA/gen ]]; then
		log "compiling $DATA/gen"
		"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -o "$DATA/gen" bench/gen.c
	fi
}

# datafile MODE N: print the path of the generated file, making it if absent.
# Written under a temporary name first so an interrupted run is not reused.
datafile() {
	local mode=$1 n=$2 f
	f=$DATA/$mode-$n${SEED:+-s$SEED}.txt
	if [[ ! -s $f ]]; then
		log "generating $f"
		"$DATA/gen" ${SEED:+--seed "$SEED"} "$mode" "$n" >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	printf '%s\n' "$f"
}

# seqfile N: print the path of `seq 1 N` as a file, making it if absent.
seqfile() {
	local f=$DATA/seq-$1.txt
	if [[ ! -s $f ]]; then
		log "generating $f"
		seq 1 "$1" >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	printf '%s\n' "$f"
}

# bigfile N LEN: print the path of N lines of LEN bytes ('x's, then the
# newline), making it if absent. Lines this long pass no argv, so printf is
# the shell's builtin.
bigfile() {
	local f=$DATA/big$2-$1.txt x i
	if [[ ! -s $f ]]; then
		log "generating $f"
		x=$(head -c "$(($2 - 1))" /dev/zero | tr '\0' x)
		for ((i = 0; i < $1; i++)); do printf '%s\n' "$x"; done >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	printf '%s\n' "$f"
}

# zstfile FILE LEVEL: print the path of FILE compressed with zstd -LEVEL,
# making it if absent or older than FILE. zstd is given the file by name,
# so the frame records the content size, as in a .zst a user has at hand.
zstfile() {
	local f=${1%.txt}-zstd$2.txt.zst
	if [[ ! -s $f || $1 -nt $f ]]; then
		log "compressing $1 with zstd -$2"
		zstd -q -"$2" -c -- "$1" >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	printf '%s\n' "$f"
}

# The K inputs take their keys (and K3 its sleeps) from the Park-Miller
# generator, x = x * 16807 mod (2^31 - 1) from x = 1: its products stay
# below 2^46, exact in any awk's doubles, so the bytes are the same on every
# machine.

# keyfile N K: print the path of N lines100 lines, each after a key of K
# (k0..k<K-1>, pseudo-random) and a tab, making it if absent. GNU parallel's
# --shard splits columns at tabs unless told otherwise, weir's --key 1 at
# blanks: with a tab after the key both see the same key.
keyfile() {
	local f=$DATA/keyed-$1-$2${SEED:+-s$SEED}.txt
	if [[ ! -s $f ]]; then
		log "generating $f"
		"$DATA/gen" ${SEED:+--seed "$SEED"} lines100 "$1" |
			awk -v k="$2" 'BEGIN { x = 1 }
				{ x = (x * 16807) % 2147483647; printf "k%d\t%s\n", x % k, $0 }' >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	printf '%s\n' "$f"
}

# k3file N K: print the path of N records "kKEY<tab>RECNO<tab>US", a key of
# K and a sleep of 0..K3_MAX_US microseconds, both pseudo-random, making it
# if absent. The sleeps are the same whatever K.
k3file() {
	local f=$DATA/k3-$1-$2.txt
	if [[ ! -s $f ]]; then
		log "generating $f"
		awk -v n="$1" -v k="$2" -v m="$K3_MAX_US" 'BEGIN { x = 1
			for (i = 1; i <= n; i++) {
				x = (x * 16807) % 2147483647; us = x % (m + 1)
				x = (x * 16807) % 2147483647; printf "k%d\t%d\t%d\n", x % k, i, us } }' >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	printf '%s\n' "$f"
}

fsize() { stat -c %s "$1"; }

# ---------------------------------------------------------------- running

# Commands are templates: @W@ stands for the weir binary. expand TEMPLATE
# [rss] gives the shell text to run; with rss, weir runs under GNU time.
expand() {
	if [[ ${2:-} == rss ]]; then
		printf '%s' "${1//@W@/$TIME_BIN -f %M -o $RSS_FILE $W_Q}"
	else
		printf '%s' "${1//@W@/$W_Q}"
	fi
}
is_weir() { [[ $1 == *@W@* ]]; }

# run_once TEXT: eval TEXT; sets LAST_US (wall time, microseconds), LAST_RC.
run_once() {
	local t0 t1 rc=0
	t0=${EPOCHREALTIME//[.,]/}
	eval "$1" || rc=$?
	t1=${EPOCHREALTIME//[.,]/}
	LAST_US=$((t1 - t0))
	LAST_RC=$rc
}

# run_rss TEMPLATE: one run with weir under GNU time; sets LAST_* and LAST_RSS
# (KiB, empty if unknown).
run_rss() {
	rm -f "$RSS_FILE"
	run_once "$(expand "$1" rss)"
	LAST_RSS=$(tail -n 1 "$RSS_FILE" 2>/dev/null || true)
	[[ $LAST_RSS =~ ^[0-9]+$ ]] || LAST_RSS=
}

# bench_group LABEL REPS TEMPLATE...: warm-up, then REPS rounds of every
# command in order. Results, indexed like the templates: G_CMDS, G_US (space-
# separated microseconds), G_RC (first non-zero exit, or 0), G_RSS (KiB).
# PEER_WARMUP=0 skips the peers' warm-up (weir's, for its RSS, always runs):
# for a peer whose one run takes minutes and whose input is tiny.
# WARMUP=0 skips every warm-up: for a caller that ran each command once
# already (and sets G_RSS itself).
PEER_WARMUP=1
WARMUP=1
bench_group() {
	local label=$1 reps=$2 i r n
	shift 2
	G_CMDS=("$@")
	G_US=() G_RC=() G_RSS=()
	CMP_STATUS=
	n=${#G_CMDS[@]}
	if ((WARMUP)); then
		log "$label: warm-up, then $reps rounds of $n commands"
	else
		log "$label: $reps rounds of $n commands (warmed up already)"
	fi
	for ((i = 0; i < n; i++)); do
		G_US[i]='' G_RSS[i]=''
		if ((!WARMUP)); then
			G_RC[i]=0
			continue
		elif is_weir "${G_CMDS[i]}"; then
			run_rss "${G_CMDS[i]}"
			G_RSS[i]=$LAST_RSS
		elif ((!PEER_WARMUP)); then
			G_RC[i]=0
			continue
		else
			run_once "$(expand "${G_CMDS[i]}")"
		fi
		G_RC[i]=$LAST_RC
		if ((LAST_RC != 0)); then
			warn "$label: exit $LAST_RC: $(expand "${G_CMDS[i]}")"
		fi
	done
	for ((r = 0; r < reps; r++)); do
		for ((i = 0; i < n; i++)); do
			((G_RC[i] == 0)) || continue
			run_once "$(expand "${G_CMDS[i]}")"
			if ((LAST_RC != 0)); then
				G_RC[i]=$LAST_RC
				warn "$label: exit $LAST_RC: $(expand "${G_CMDS[i]}")"
				continue
			fi
			G_US[i]+="$LAST_US "
		done
	done
}

# ---------------------------------------------------------------- numbers

median() {
	sort -g | awk 'NF { a[++n] = $1 }
		END { if (!n) print "nan"; else if (n % 2) print a[(n + 1) / 2];
		      else print (a[n / 2] + a[n / 2 + 1]) / 2 }'
}
list_median() { tr ' ' '\n' <<<"$1" | median; }
# pair_ratios A B: per-round A[i] / B[i], one per line.
pair_ratios() {
	awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " ");
		for (i = 1; i <= n; i++) if (y[i] > 0) print x[i] / y[i] }'
}
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
# rate_fmt EXPR LIMIT FMT: EXPR in FMT, or to 3 significant digits below
# LIMIT (per-process rows run at thousands of records a second).
rate_fmt() {
	awk -v l="$2" -v f="$3" "BEGIN { v = $1; printf (v < l ? \"%.3g\" : f), v }"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
mib() { if [[ -n $1 ]]; then calc '%.1f' "$1 / 1024"; else printf '%s' '-'; fi; }

# ---------------------------------------------------------------- report

# show TEMPLATE: the command as run, as a code span for a markdown table
# (pipes escaped); code TEMPLATE: the same for running text.
show() {
	local c
	c=$(expand "$1")
	printf '`%s`' "${c//|/\\|}"
}
code() { printf '`%s`' "$(expand "$1")"; }

TABLE_HEAD='| scenario | weir command | peer command | weir s | peer s | MB/s | Mrec/s | ratio | target | result | weir peak RSS MiB |
|---|---|---|---:|---:|---:|---:|---:|---|---|---:|'

# add_row SCEN WEIR_CMD PEER_CMD WEIR_S PEER_S MBS MRECS RATIO TARGET RESULT RSS
add_row() {
	ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 | ${10} | ${11} |")
	printf '%s\n' "${ROWS[-1]}"
}

# pair_row SCEN IW IP TARGET BYTES RECS [MIN_MRECS]: a row comparing
# G_CMDS[IW] (weir) with G_CMDS[IP] (peer); PASS when the median ratio is at
# most TARGET (and throughput at least MIN_MRECS M records/s when given).
# TARGET "-" reports the ratio for information only.
pair_row() {
	local scen=$1 iw=$2 ip=$3 target=$4 bytes=$5 recs=$6 minrec=${7:-}
	local wcmd pcmd tshow wmed pmed ratio mbs mrs res=
	LAST_RATIO=
	wcmd=$(show "${G_CMDS[iw]}")
	pcmd=$(show "${G_CMDS[ip]}")
	if [[ $target == - ]]; then tshow='(info)'; else tshow="≤ $target"; fi
	[[ -z $minrec ]] || tshow+=", ≥ $minrec Mrec/s"
	if ((G_RC[iw] != 0 || G_RC[ip] != 0)); then
		add_row "$scen" "$wcmd" "$pcmd" - - - - - "$tshow" \
			"FAIL (exit ${G_RC[iw]} / ${G_RC[ip]})" "$(mib "${G_RSS[iw]}")"
		FAILURES=$((FAILURES + 1))
		return
	fi
	wmed=$(list_median "${G_US[iw]}")
	pmed=$(list_median "${G_US[ip]}")
	ratio=$(pair_ratios "${G_US[iw]}" "${G_US[ip]}" | median)
	LAST_RATIO=$ratio
	mbs=$(rate_fmt "$bytes / $wmed" 10 '%.0f')
	mrs=$(rate_fmt "$recs / $wmed" 1 '%.2f')
	if [[ $target == - ]]; then
		res=info
	elif ! le "$ratio" "$target"; then
		res=MISS
	elif [[ -n $minrec ]] && ! ge "$mrs" "$minrec"; then
		res="MISS (< $minrec Mrec/s)"
	else
		res=PASS
	fi
	[[ $CMP_STATUS != MISMATCH ]] || res+=', **OUTPUT MISMATCH**'
	add_row "$scen" "$wcmd" "$pcmd" "$(calc '%.4f' "$wmed / 1e6")" \
		"$(calc '%.4f' "$pmed / 1e6")" "$mbs" "$mrs" "$(calc '%.3f' "$ratio")" \
		"$tshow" "$res" "$(mib "${G_RSS[iw]}")"
}

# same_output LABEL TEMPLATE_A TEMPLATE_B: compare the two outputs with cmp;
# sets CMP_STATUS (same or MISMATCH), which the next pair_row reports.
same_output() {
	local label=$1 a b
	a=$(expand "$2")
	b=$(expand "$3")
	if cmp -s <(eval "$a") <(eval "$b"); then
		CMP_STATUS=same
		NOTES+=("$label: output identical: $(code "$2") and $(code "$3")")
	else
		warn "================================================================"
		warn "$label: OUTPUT MISMATCH between"
		warn "    $a"
		warn "    $b"
		warn "================================================================"
		NOTES+=("**$label: OUTPUT MISMATCH** between $(code "$2") and $(code "$3")")
		MISMATCHES=$((MISMATCHES + 1))
		CMP_STATUS=MISMATCH
	fi
}

# peer_skip SCEN WEIR_TEMPLATE PEER_TEMPLATE TOOL TARGET: the row of a peer
# that is not installed. Not a failure: the other rows still run.
peer_skip() {
	local tshow='(info)'
	[[ $5 == - ]] || tshow="≤ $5"
	add_row "$1" "$(show "$2")" "$(show "$3")" - - - - - "$tshow" \
		"skipped: $4 not installed" -
	NOTES+=("$1: $4 not installed, its row skipped")
}
have() { command -v "$1" >/dev/null 2>&1; }

# stretch_note SCEN WHAT STRETCH RATIO: a note on a stretch goal (a target
# past the one in the table), met or not.
stretch_note() {
	local scen=$1 what=$2 stretch=$3 ratio=$4 res=missed
	[[ -n $ratio ]] || return 0
	le "$ratio" "$stretch" && res=met
	NOTES+=("$scen: stretch goal ≤ $stretch $what: $res (ratio $(calc '%.3f' "$ratio"))")
}

version_of() {
	local v
	have "$1" || { printf '%s unavailable' "$1"; return; }
	v=$("$@" 2>&1 | head -n 1) || true
	printf '%s' "${v:-unavailable}"
}

# xe has no --version; ask dpkg when there is one.
xe_version() {
	local v=
	have xe || { printf 'xe unavailable'; return; }
	v=$(dpkg-query -W -f '${Version}' xe 2>/dev/null || true)
	printf 'xe %s' "${v:-(version unknown)}"
}

# zstd --version says "*** Zstandard CLI (64-bit) v1.5.4, by Yann Collet ***".
zstd_version() {
	local v
	v=$(version_of zstd --version)
	v=${v//\*\*\* /}
	printf '%s' "${v% \*\*\*}"
}

# libnats, as natstool and weir link it (Debian: the libnats-dev package).
libnats_version() {
	local v
	v=$(dpkg-query -W -f '${Version}' libnats-dev 2>/dev/null || true)
	printf 'libnats %s' "${v:-(version unknown)}"
}

write_results() {
	local weir_v git_v
	weir_v=$(version_of "$WEIR" --version)
	git_v=$(git describe --always --dirty 2>/dev/null || echo unknown)
	{
		printf '# weir benchmark results\n\n'
		printf -- '- date: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
		printf -- '- machine: %s CPUs, %s, %s, %s MiB RAM\n' "$(nproc)" \
			"$(grep -m 1 'model name' /proc/cpuinfo | sed 's/.*: //')" "$(uname -srm)" \
			"$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
		printf -- '- load average (1, 5, 15 min): %s at start, %s at end; ' \
			"$LOAD_START" "$(cut -d ' ' -f 1-3 /proc/loadavg)"
		printf 'timings on a busy machine are noisy\n'
		printf -- '- mode: %s, REPS=%s, scenarios: %s\n' \
			"$([[ $QUICK == 1 ]] && echo 'QUICK (small inputs)' || echo full)" "$REPS" "$SCENARIOS"
		printf -- '- weir: `%s` %s (tree %s)\n' "$WEIR" "$weir_v" "$git_v"
		printf -- '- peers: %s; %s; %s; %s; %s; %s; %s; %s; %s; %s; %s; %s; %s; %s\n' \
			"$(version_of pv --version)" "$(version_of mbuffer --version)" \
			"$(version_of parallel --version)" "$(version_of mawk -W version)" \
			"$(version_of cat --version)" "$(version_of tr --version)" \
			"$(version_of grep --version)" "$(version_of sed --version)" \
			"$(version_of xargs --version)" "$(xe_version)" "$(zstd_version)" \
			"$(version_of nats-server --version)" "$(libnats_version)" \
			"$(version_of bash --version)"
		printf -- '- locale: LC_ALL=C for every command; MB = 10^6 bytes of input\n'
		printf -- '- inputs (bench/gen.c, seed %s):\n' "${SEED:-default}"
		local f
		for f in "${INPUTS[@]}"; do
			printf -- '  - `%s`: %s lines, %s bytes\n' "$f" "$(wc -l <"$f")" "$(fsize "$f")"
		done
		printf '\nratio = weir time ÷ peer time, median of the per-round ratios '
		printf '(S5: -j2 ÷ -j1; S6, Zmem: peak RSS ÷ bound; S7: p99 latency; '
		printf 'K1, K3: with ÷ without --key; O1: with ÷ without the live figures; N1: no ratio, messages/s against the target, '
		printf 'and for information weir ÷ natstool get; N2: two weirs ÷ one).\n\n'
		printf '%s\n' "$TABLE_HEAD"
		printf '%s\n' "${ROWS[@]}"
		if ((${#NOTES[@]})); then
			printf '\n## Notes\n\n'
			printf -- '- %s\n' "${NOTES[@]}"
		fi
	} >"$RESULTS"
}

# ---------------------------------------------------------------- scenarios

# need MODE N: set F to the input file (made if absent) and list it in INPUTS.
INPUTS=()
need() {
	F=$(datafile "$1" "$2")
	[[ " ${INPUTS[*]} " == *" $F "* ]] || INPUTS+=("$F")
}

s1() {
	local f b n
	need lines100 "$N_L100"
	f=$F
	b=$(fsize "$f") n=$N_L100
	bench_group S1 "$REPS" \
		"@W@ -q < $f > /dev/null" \
		"cat $f > /dev/null" \
		"pv -q < $f > /dev/null" \
		"mbuffer -q -m 64M < $f > /dev/null"
	same_output S1 "@W@ -q < $f" "cat $f"
	pair_row S1 0 1 2.0 "$b" "$n"
	pair_row S1 0 2 - "$b" "$n"
	pair_row S1 0 3 - "$b" "$n"
}

s2() {
	local f b n i
	need lines100 "$N_L100"
	f=$F
	b=$(fsize "$f") n=$N_L100
	bench_group S2 "$REPS" \
		"cat $f | @W@ -q -j1 | cat > /dev/null" \
		"cat $f | @W@ -q -j2 | cat > /dev/null" \
		"cat $f | @W@ -q -u -j1 | cat > /dev/null" \
		"cat $f | @W@ -q -u -j2 | cat > /dev/null" \
		"cat $f | cat | cat > /dev/null"
	same_output S2 "cat $f | @W@ -q -j2 | cat" "cat $f"
	for i in 0 1 2 3; do pair_row S2 "$i" 4 1.3 "$b" "$n"; done
}

s3() {
	local f b n
	need short "$N_SHORT"
	f=$F
	b=$(fsize "$f") n=$N_SHORT
	bench_group S3 "$REPS" \
		"@W@ -q < $f > /dev/null" \
		"mawk '{print}' < $f > /dev/null"
	same_output S3 "@W@ -q < $f" "mawk '{print}' < $f"
	pair_row S3 0 1 1.0 "$b" "$n" 25
}

s4() {
	local f b n m
	need lines100 "$N_L100"
	f=$F
	b=$(fsize "$f") n=$N_L100
	bench_group S4-upper "$REPS" \
		"@W@ -q --op upper < $f > /dev/null" \
		"tr a-z A-Z < $f > /dev/null"
	same_output S4-upper "@W@ -q --op upper < $f" "tr a-z A-Z < $f"
	pair_row S4 0 1 1.0 "$b" "$n"

	# GNU grep stops at the first match when its output is /dev/null (it
	# acts as -q), so both sides of this pair write to /dev/zero instead,
	# which discards writes just the same.
	bench_group S4-grep "$REPS" \
		"@W@ -q --op 'grep:$GREP_RE' < $f > /dev/zero" \
		"grep -E '$GREP_RE' < $f > /dev/zero"
	same_output S4-grep "@W@ -q --op 'grep:$GREP_RE' < $f" "grep -E '$GREP_RE' < $f"
	pair_row S4 0 1 1.5 "$b" "$n"
	m=$(grep -cE "$GREP_RE" "$f" || true)
	NOTES+=("S4-grep: \`$GREP_RE\` matches $m of $n lines ($(calc '%.1f' "100 * $m / $n")%)")
}

s5() {
	local f b n
	need lines100 "$N_SPIN"
	f=$F
	b=$(fsize "$f") n=$N_SPIN
	bench_group S5 "$REPS" \
		"@W@ -q --op spin:20us -j2 < $f > /dev/null" \
		"@W@ -q --op spin:20us -j1 < $f > /dev/null"
	pair_row S5 0 1 0.53 "$b" "$n"
}

# D1: drop must not pace the producer. A producer pours 100 MB (20 MB with
# QUICK=1) into a stage that is saturated at once (sleep:1ms per record);
# what is timed is the producer alone, until its last write returns (the
# drain of what was admitted does not count). ratio = producer time under
# drop (and drop-oldest) ÷ under timeout -t 0, which never waits for room.
d1_producer() { # FILE BYTES WEIR_ARGS: the producer's microseconds, in D1_US
	local t=$DATA/.d1
	(
		t0=${EPOCHREALTIME//[.,]/}
		head -c "$2" "$1"
		echo $((${EPOCHREALTIME//[.,]/} - t0)) >"$t"
	) | eval "$W_Q -q $3 -e sleep:1ms -u -j 16 > /dev/null" || return 1
	D1_US=$(cat "$t")
}

d1() {
	local f b n c i r p
	local pols=("-p drop" "-p drop-oldest" "-p timeout -t 0")
	need lines100 "$N_L100"
	f=$F
	b=$((QUICK == 1 ? 20000000 : 100000000))
	b=$((b < $(fsize "$f") ? b : $(fsize "$f")))
	n=$((b / 100))
	for c in 100 5000; do
		log "D1 -c $c: $REPS rounds of ${#pols[@]} policies (producer's time)"
		G_CMDS=() G_US=() G_RC=() G_RSS=() CMP_STATUS=
		for i in "${!pols[@]}"; do
			G_CMDS[i]="head -c $b $f | @W@ -q ${pols[i]} -c $c -e sleep:1ms -u -j 16"
			G_US[i]='' G_RC[i]=0 G_RSS[i]=''
		done
		for ((r = 0; r < REPS; r++)); do
			for i in "${!pols[@]}"; do
				p="${pols[i]} -c $c"
				if d1_producer "$f" "$b" "$p"; then
					G_US[i]+="$D1_US "
				else
					G_RC[i]=1
				fi
			done
		done
		pair_row "D1-c$c" 0 2 1.5 "$b" "$n"
		pair_row "D1-c$c" 1 2 1.5 "$b" "$n"
	done
	rm -f "$DATA/.d1"
	NOTES+=("D1: weir s and peer s are the producer's times (until its last write returns), not the runs'")
}

# K rows: keys. K1: what --key costs on a cheap stage; K2: against GNU
# parallel --pipe --shard, the nearest a user has at hand; K3: how keys
# bound the parallelism of slow work, in the shape of Confluent
# parallel-consumer's table.

# add_input FILE: list FILE in INPUTS (once).
add_input() { [[ " ${INPUTS[*]} " == *" $1 "* ]] || INPUTS+=("$1"); }

# key_order TEMPLATE FILE: "kept" when TEMPLATE's output, sorted stably by
# key (so each key's records stay in the order written), is FILE upcased
# sorted the same way: every record once, each key's in input order.
# (tr's ranges are ASCII under LC_ALL=C, as weir's upper.)
# shellcheck disable=SC2018,SC2019
key_order() {
	if cmp -s <(eval "$(expand "$1")" | sort -s -k1,1) <(tr a-z A-Z <"$2" | sort -s -k1,1); then
		printf kept
	else
		printf 'not kept'
	fi
}

k1() {
	local f b n
	f=$(keyfile "$N_KEYED" "$N_KEYS")
	add_input "$f"
	b=$(fsize "$f") n=$N_KEYED
	bench_group K1 "$REPS" \
		"@W@ -q -u -j2 --key 1 -e upper < $f > /dev/null" \
		"@W@ -q -u -j2 -e upper < $f > /dev/null"
	# A stable sort by key leaves each key's records in the order written:
	# the same as tr's when weir kept every key's order.
	same_output K1 "@W@ -q -u -j2 --key 1 -e upper < $f | sort -s -k1,1" \
		"tr a-z A-Z < $f | sort -s -k1,1"
	pair_row K1 0 1 1.15 "$b" "$n"
}

# K2: --shard sends all lines of a key to one of -j jobs, a long-lived tr
# each. Its output order is not weir's, so the check compares sorted
# outputs; whether each side kept every key's order is a note.
k2() {
	local f b n reps=$REPS
	((reps <= 3)) || reps=3
	f=$(keyfile "$N_SHARD" "$N_KEYS")
	add_input "$f"
	b=$(fsize "$f") n=$N_SHARD
	local w="@W@ -q -u -j2 --key 1 -e upper < $f"
	local par="parallel --pipe --shard 1 -j2 tr a-z A-Z < $f"
	if ! have parallel; then
		peer_skip K2 "$w > /dev/null" "$par > /dev/null" parallel 0.05
		return
	fi
	bench_group K2 "$reps" "$w > /dev/null" "$par > /dev/null"
	same_output K2 "$w | sort" "$par | sort"
	pair_row K2 0 1 0.05 "$b" "$n"
	NOTES+=("K2: each key's records in input order: weir $(key_order "$w" "$f"), GNU parallel --shard $(key_order "$par" "$f") (outputs sorted stably by key against \`tr a-z A-Z\` of the input sorted the same way)")
}

# K3: N_K3 records of 0..5 ms of work each (a sleep, K3_MAX_US at most),
# through a perl co-process per worker, at -u -j K3_J: unkeyed, then keyed
# with each key count of K3_KEYS. Each run writes to a file of its own,
# checked after the rounds (the last round's output).
k3() {
	local reps=$REPS k i f uf ust bounds='' keys files=() cmds=()
	((reps <= 3)) || reps=3
	local co="--coproc -- perl -ne 'BEGIN { \$| = 1 } select undef, undef, undef, (split)[2] / 1e6; print'"
	read -ra keys <<<"$K3_KEYS"
	for k in "${keys[@]}"; do
		f=$(k3file "$N_K3" "$k")
		add_input "$f"
		files+=("$f")
		cmds+=("@W@ -q -u -j $K3_J --key 1 $co < $f > $DATA/.k3-$k.out")
		bounds+="$(k3_bound "$f" "$K3_J") s at $k, "
	done
	# Unkeyed, on the last file: its sleeps are every file's.
	uf=${files[-1]}
	bench_group K3 "$reps" "@W@ -q -u -j $K3_J $co < $uf > $DATA/.k3-u.out" "${cmds[@]}"
	k3_check "K3, unkeyed" "$DATA/.k3-u.out" "$uf" sort 'every record once'
	ust=$CMP_STATUS
	for i in "${!keys[@]}"; do
		k=${keys[i]}
		k3_check "K3-keys$k" "$DATA/.k3-$k.out" "${files[i]}" 'sort -s -k1,1' \
			"every record once, each key's in input order"
		[[ $ust != MISMATCH ]] || CMP_STATUS=MISMATCH
		pair_row "K3-keys$k" $((i + 1)) 0 - "$(fsize "${files[i]}")" "$N_K3"
	done
	NOTES+=("K3: peer = the same run without --key; ratio = keyed ÷ unkeyed, for information. -j $K3_J: more workers than the 20 keys of the largest small key count, so up to 20 keys the keys alone bound the run (a key's records run one at a time), and at 1000 keys the ratio shows what keys cost when they hardly bind. Least possible time by key count (the larger of the busiest key's total sleep and the total sleep ÷ $K3_J): ${bounds%, }; the sleeps add up to $(k3_bound "$uf" 1) s")
	rm -f "$DATA"/.k3-*.out
}

# k3_bound FILE J: the least time, s, for FILE's sleeps on J workers with
# a key's records one at a time: the busiest key's sum, or the total ÷ J.
k3_bound() {
	awk -F '\t' -v j="$2" '{ s[$1] += $3; t += $3 }
		END { b = t / j; for (k in s) if (s[k] > b) b = s[k]; printf "%.2f", b / 1e6 }' "$1"
}

# k3_check LABEL OUT IN SORT PROMISE: OUT through SORT must be IN through
# SORT (a co-process that echoes changes nothing; sort -s -k1,1 keeps each
# key's records in the order written); sets CMP_STATUS for the next row.
k3_check() {
	if cmp -s <($4 "$2") <($4 "$3"); then
		CMP_STATUS=same
		NOTES+=("$1: the last round's output through \`$4\` is the input through it: $5")
	else
		warn "$1: OUTPUT MISMATCH: $2 against $3 (through $4)"
		NOTES+=("**$1: OUTPUT MISMATCH**: the last round's output through \`$4\` differs from the input through it")
		MISMATCHES=$((MISMATCHES + 1))
		CMP_STATUS=MISMATCH
	fi
}

# s6_row SCEN CAP_MIB TEMPLATE [SKIP_REASON]: one run under GNU time; ratio =
# peak RSS ÷ bound, bound = 2 × capacity-bytes (CAP_MIB MiB, as TEMPLATE
# gives it) + 16 MiB. With SKIP_REASON, a run that exits 2 (usage error: an
# option this build lacks) is reported as skipped. Wall time includes the
# deliberate stall, so no throughput is shown. S6_INFO=1 reports the ratio
# for information only (a row the bound was not set for).
S6_INFO=0
s6_row() {
	local scen=$1 cap=$2 tpl=$3 skip=${4:-} ratio res bound tshow
	bound=$(((2 * cap + 16) * 1024))
	tshow="≤ 1.0 ($((bound / 1024)) MiB)"
	((!S6_INFO)) || tshow="(info; bound $((bound / 1024)) MiB)"
	log "$scen: one run under GNU time"
	run_rss "$tpl"
	if ((LAST_RC != 0)); then
		if [[ -n $skip ]] && ((LAST_RC == 2)); then
			add_row "$scen" "$(show "$tpl")" - - - - - - "$tshow" \
				"skipped: $skip (exit $LAST_RC)" -
		else
			add_row "$scen" "$(show "$tpl")" - - - - - - "$tshow" \
				"FAIL (exit $LAST_RC)" "$(mib "$LAST_RSS")"
			FAILURES=$((FAILURES + 1))
		fi
		return
	fi
	if [[ -z $LAST_RSS ]]; then
		ratio=- res='FAIL (no RSS)'
		FAILURES=$((FAILURES + 1))
	else
		ratio=$(calc '%.3f' "$LAST_RSS / $bound")
		if ((S6_INFO)); then
			res=info
		elif le "$ratio" 1.0; then
			res=PASS
		else
			res=MISS
		fi
	fi
	add_row "$scen" "$(show "$tpl")" - "$(calc '%.4f' "$LAST_US / 1e6")" - - - \
		"$ratio" "$tshow" "$res" "$(mib "$LAST_RSS")"
}

s6() {
	local f r big lock slow
	need lines100 "$N_L100"
	f=$F
	need random "$N_RAND"
	r=$F
	lock=$DATA/.s6-head.lock
	s6_row S6-stall 16 "@W@ -q --capacity-bytes 16M < $f | (sleep $STALL_S; cat > /dev/null)"
	# With 100-byte records the default -c 1024 binds long before 16M does;
	# lift it so the byte bound is the one under test.
	s6_row S6-stall-bytes 16 "@W@ -q -c 1000000 --capacity-bytes 16M < $f | (sleep $STALL_S; cat > /dev/null)"
	s6_row S6-ordered 16 "@W@ -q -c 1024 --capacity-bytes 16M -j 2 < $f | (sleep 1; cat > /dev/null)"
	# One slow early record under each external-command shape, ordered
	# output: the other worker runs ahead meanwhile, and the finished records
	# behind the slow one must stay within the bound.
	# --coproc: the first co-process to take the lock answers its first record
	# only after a sleep (a co-process sees no record numbers).
	rm -rf "$lock"
	s6_row S6-slow-head-coproc 16 "@W@ -q -c 1024 --capacity-bytes 16M -j 2 --coproc -- sh -c 'mkdir \"\$0\" 2>/dev/null && sleep $HEAD_SLEEP_S; exec cat' $lock < $r > /dev/null" \
		"--coproc not available"
	rm -rf "$lock"
	# Exec per record: record 1 sleeps, the rest are one sh + cat each. At
	# several ms a process, records of 256 KiB let the other worker pass the
	# bound (24 MiB at 4M) within the sleep, in a run of a few seconds.
	slow="sh -c '[ \"\$WEIR_SEQ\" = 1 ] && sleep $HEAD_SLEEP_S; exec cat'"
	big=$(bigfile "$N_BIG" "$BIG_LEN")
	[[ " ${INPUTS[*]} " == *" $big "* ]] || INPUTS+=("$big")
	s6_row S6-slow-head-exec 4 "@W@ -q -c 1024 --capacity-bytes 4M -j 2 -- $slow < $big > /dev/null" \
		"COMMAND not available"
	# --pipe: block 1 (WEIR_SEQ is the block number) sleeps; 1M blocks.
	s6_row S6-slow-head-pipe 16 "@W@ -q --capacity-bytes 16M -j 2 --pipe -- $slow < $f > /dev/null" \
		"--pipe not available"
	# The same with built-in operations: a first record of 40,000 'a' costs
	# this regex about a second (glibc backtracks), the rest are quick.
	head -c 40000 /dev/zero | tr '\0' a >"$DATA/.s6-head.txt"
	echo >>"$DATA/.s6-head.txt"
	s6_row S6-slow-regex 16 "cat $DATA/.s6-head.txt $f | @W@ -q -c 1024 --capacity-bytes 16M -j 2 --op 'grep:(a|aa)*b' > /dev/null"
	NOTES+=("S6: bound = 2 × capacity-bytes + 16 MiB (48 MiB at 16M, 24 MiB at 4M); RSS from GNU time %M of the weir process (with a COMMAND, %M is the largest of weir and the children it reaped, not their sum; a sh or cat child is about 2 MiB)")
}

# s7_row SCEN TEMPLATE: one run; the p99 latency from the JSON summary
# that TEMPLATE writes to $S7_OUT. Exit 2 (usage: no --rate yet) is a skip.
S7_OUT=$DATA/.s7-stats.json
s7_row() {
	local scen=$1 tpl=$2 p99 json res=MISS
	log "$scen: one run at 1000 records/s"
	rm -f "$S7_OUT"
	run_once "$(expand "$tpl")"
	if ((LAST_RC == 2)); then
		add_row "$scen" "$(show "$tpl")" - - - - - - "p99 < 1 ms" \
			"skipped: --rate not available" -
		return
	fi
	json=$(grep -m 1 '^{' "$S7_OUT" || true)
	p99=$(jq -r '.latency_ms.p99 // empty' <<<"$json" 2>/dev/null || true)
	if ((LAST_RC != 0)) || [[ -z $p99 ]]; then
		add_row "$scen" "$(show "$tpl")" - - - - - - "p99 < 1 ms" \
			"FAIL (exit $LAST_RC, p99 '${p99}')" -
		FAILURES=$((FAILURES + 1))
		return
	fi
	awk -v p="$p99" 'BEGIN { exit !(p < 1) }' && res=PASS
	add_row "$scen" "$(show "$tpl")" - "$(calc '%.4f' "$LAST_US / 1e6")" - - \
		"$(calc '%.4f' "$N_LAT / $LAST_US")" "p99 $p99 ms" "p99 < 1 ms" "$res" -
}

s7() {
	# As the issue states it: weir paces its own intake, so records wait in
	# weir's read buffer for their token and that wait counts as latency.
	s7_row S7 "seq 1 $N_LAT | @W@ --rate 1000 --op cat --stats json > /dev/null 2> $S7_OUT"
	# Low load proper: a first weir paces the stream to 1000 records/s and the
	# second, measured one, sees a trickle it can always keep up with.
	s7_row S7-paced "seq 1 $N_LAT | @W@ -q --rate 1000 | @W@ --op cat --stats json > /dev/null 2> $S7_OUT"
}

s8() {
	local f b n reps=$REPS
	((reps <= 3)) || reps=3
	need lines100 "$N_L100"
	f=$F
	b=$(fsize "$f") n=$N_L100
	bench_group S8 "$reps" \
		"@W@ -q -u < $f > /dev/null" \
		"@W@ -q < $f > /dev/null" \
		"parallel --pipe --block 1M cat < $f > /dev/null" \
		"parallel -k --pipe --block 1M cat < $f > /dev/null"
	same_output S8 "@W@ -q < $f" "parallel -k --pipe --block 1M cat < $f"
	pair_row S8 0 2 0.1 "$b" "$n"
	pair_row S8 1 3 0.1 "$b" "$n"
}

# External commands. Each process costs milliseconds here, so these rows run
# at most 3 rounds, like S8.

# P3: one process per record, the record as its argument. weir keeps input
# order; xe and xargs write in completion order, parallel (no -k) too, one
# job's output at a time.
p3() {
	local f b n reps=$REPS peers=() names=() i
	((reps <= 3)) || reps=3
	f=$(seqfile "$N_EXEC")
	[[ " ${INPUTS[*]} " == *" $f "* ]] || INPUTS+=("$f")
	b=$(fsize "$f") n=$N_EXEC
	local w="@W@ -q -j2 /bin/echo {} < $f > /dev/null"
	local xe="xe -j2 -N1 /bin/echo < $f > /dev/null"
	local xa="xargs -P2 -n1 /bin/echo < $f > /dev/null"
	local par="parallel -j2 /bin/echo < $f > /dev/null"
	if have xe; then peers+=("$xe") names+=(xe); else peer_skip P3 "$w" "$xe" xe 1.0; fi
	peers+=("$xa") names+=(xargs)
	bench_group P3 "$reps" "$w" "${peers[@]}"
	same_output P3 "@W@ -q -j2 /bin/echo {} < $f" "cat $f"
	local best=
	for ((i = 0; i < ${#peers[@]}; i++)); do
		pair_row P3 0 $((i + 1)) 1.0 "$b" "$n"
		if [[ -n $LAST_RATIO ]] && { [[ -z $best ]] || ge "$LAST_RATIO" "$best"; }; then
			best=$LAST_RATIO
		fi
	done
	local list
	list=$(printf '%s, ' "${names[@]}")
	stretch_note P3 "vs the fastest peer (of ${list%, })" 0.9 "$best"
	# GNU parallel takes tens of ms a job: one round, no warm-up of its own.
	if have parallel; then
		PEER_WARMUP=0
		bench_group P3-parallel 1 "$w" "$par"
		PEER_WARMUP=1
		pair_row P3 0 1 - "$b" "$n"
	else
		peer_skip P3 "$w" "$par" parallel -
	fi
}

# P4: a co-process per worker against one plain sed on the same input.
p4() {
	local f b n
	f=$(seqfile "$N_COPROC")
	[[ " ${INPUTS[*]} " == *" $f "* ]] || INPUTS+=("$f")
	b=$(fsize "$f") n=$N_COPROC
	bench_group P4 "$REPS" \
		"@W@ -q -j2 --coproc -- sed -u s/^/P:/ < $f > /dev/null" \
		"sed -u s/^/P:/ < $f > /dev/null"
	same_output P4 "@W@ -q -j2 --coproc -- sed -u s/^/P:/ < $f" "sed -u s/^/P:/ < $f"
	pair_row P4 0 1 1.5 "$b" "$n" 0.2
	stretch_note P4 "vs sed -u" 1.0 "$LAST_RATIO"
}

# P7: one process per block, against GNU parallel --pipe on the same blocks.
p7() {
	local f b n reps=$REPS
	((reps <= 3)) || reps=3
	need lines100 "$N_L100"
	f=$F
	b=$(fsize "$f") n=$N_L100
	local w="@W@ -q --pipe -j2 -- cat < $f > /dev/null"
	local par="parallel -k -j2 --pipe --block 1M cat < $f > /dev/null"
	if ! have parallel; then
		peer_skip P7 "$w" "$par" parallel 0.1
		return
	fi
	bench_group P7 "$reps" "$w" "$par"
	# Both keep input order; cat as the reference spares a parallel run.
	same_output P7 "@W@ -q --pipe -j2 -- cat < $f" "cat $f"
	pair_row P7 0 1 0.1 "$b" "$n"
}

# zstd on both ends, against the zstd CLI at the same level. Z1: compressed
# input; Z2, Z3: compressed output (weir's default level is 3, as ZLEVEL).
# zstd's own default is -T1: it compresses in a worker thread of its own,
# reading and writing meanwhile; weir without --compress-threads compresses
# in its output thread.

# zstd_window FILE: the window size of FILE's first frame, as zstd -lv says.
zstd_window() {
	zstd -lv -- "$1" 2>/dev/null |
		awk -F ': *' '/^Window Size/ { sub(/ \(.*/, "", $2); print $2; exit }' || true
}

# zstd_input: set F to the lines100 file and Z to its zstd -ZLEVEL copy
# (each made if absent); the first call notes the copy.
Z_NOTED=0
zstd_input() {
	need lines100 "$N_L100"
	Z=$(zstfile "$F" "$ZLEVEL")
	((!Z_NOTED)) || return 0
	Z_NOTED=1
	local zb fb
	zb=$(fsize "$Z") fb=$(fsize "$F")
	NOTES+=("Z1, Zmem: input \`$Z\`: \`zstd -$ZLEVEL\` of \`$F\`, $zb bytes ($(calc '%.1f' "100 * $zb / $fb")% of $fb), window $(zstd_window "$Z"); MB/s and Mrec/s count the decompressed bytes and records")
}

z1() {
	local f z b n
	if ! have zstd; then
		peer_skip Z1 "@W@ -q < FILE.zst > /dev/null" "zstd -dc < FILE.zst > /dev/null" zstd 1.15
		return
	fi
	zstd_input
	f=$F z=$Z
	b=$(fsize "$f") n=$N_L100
	bench_group Z1 "$REPS" \
		"@W@ -q < $z > /dev/null" \
		"zstd -dc < $z > /dev/null"
	same_output Z1 "@W@ -q < $z" "zstd -dc < $z"
	pair_row Z1 0 1 1.15 "$b" "$n"
}

# size_note SCEN WEIR_TEMPLATE PEER_TEMPLATE: one more run of each, writing
# to wc -c: the compressed sizes. weir ends a zstd block whenever its output
# goes idle (so that a consumer can decode all written so far), which may
# cost it some ratio; the size varies a little from run to run.
size_note() {
	local w z d cmp
	w=$(eval "$(expand "$2")" | wc -c)
	z=$(eval "$(expand "$3")" | wc -c)
	d=$(calc '%.2f' "100 * ($w - $z) / $z")
	if ((w > z)); then
		cmp="larger by $d%"
	elif ((w < z)); then
		cmp="smaller by ${d#-}%"
	else
		cmp='the same size'
	fi
	NOTES+=("$1: compressed size: weir $w bytes, zstd $z bytes (input $(fsize "$F")): weir's output is $cmp")
}

# zc_row SCEN WEIR_FLAGS ZSTD_FLAGS: compressing lines100, weir -q -z -f
# WEIR_FLAGS against zstd ZSTD_FLAGS -c; checks that weir's output
# decompresses to the input, and notes both sizes.
zc_row() {
	local scen=$1 wf=$2 zf=$3 f b n w p
	need lines100 "$N_L100"
	f=$F
	b=$(fsize "$f") n=$N_L100
	w="@W@ -q -z -f$wf < $f > /dev/null"
	p="zstd $zf -c < $f > /dev/null"
	if ! have zstd; then
		peer_skip "$scen" "$w" "$p" zstd 1.15
		return
	fi
	bench_group "$scen" "$REPS" "$w" "$p"
	same_output "$scen" "@W@ -q -z -f$wf < $f | zstd -dc" "cat $f"
	pair_row "$scen" 0 1 1.15 "$b" "$n"
	size_note "$scen" "@W@ -q -z -f$wf < $f" "zstd $zf -c < $f"
}

z2() { zc_row Z2 '' "-$ZLEVEL"; }
z3() { zc_row Z3 ' --compress-threads 2' "-$ZLEVEL -T2"; }

# Zmem: S6-stall and S6-stall-bytes with compressed input; then, for
# information, compressed output onto the stalled consumer.
zmem() {
	local f z
	if ! have zstd; then
		NOTES+=("Zmem: zstd not installed (it makes the compressed input): rows skipped")
		return
	fi
	zstd_input
	f=$F z=$Z
	s6_row Zmem-stall 16 "@W@ -q --capacity-bytes 16M < $z | (sleep $STALL_S; cat > /dev/null)"
	s6_row Zmem-stall-bytes 16 "@W@ -q -c 1000000 --capacity-bytes 16M < $z | (sleep $STALL_S; cat > /dev/null)"
	S6_INFO=1
	s6_row Zmem-compress 16 "@W@ -q -z -f -c 1000000 --capacity-bytes 16M < $f | (sleep $STALL_S; cat > /dev/null)"
	s6_row Zmem-compress-T2 16 "@W@ -q -z -f --compress-threads 2 -c 1000000 --capacity-bytes 16M < $f | (sleep $STALL_S; cat > /dev/null)"
	S6_INFO=0
	NOTES+=("Zmem: bound as S6 (2 × capacity-bytes + 16 MiB = 48 MiB). Decompressing adds a fixed amount on top of the queue: the decoder's window ($(zstd_window "$z") here; at most 8 MiB at levels ≤ 19 without --long) and its buffers; compressing (the info rows) adds the compressor's tables and, with --compress-threads, libzstd's buffers for the jobs in flight")
}

# O1: the cost of the live figures: pass-through with the progress line
# forced (plain lines once a second: stderr is not a terminal), the metrics
# file rewritten every 100 ms, against -q. S1 runs for tens of ms, about
# one interval, so O1-long repeats the pair on O1_COPIES copies of the input
# through a pipe, a run of seconds in which the monitor fires many times.
O1_METRICS=$DATA/.o1-metrics.prom
O1_ERR=$DATA/.o1-progress.txt
o1() {
	local f b n c copies lines obs="--progress --stats none -i 100ms --metrics $O1_METRICS"
	need lines100 "$N_L100"
	f=$F
	b=$(fsize "$f") n=$N_L100
	bench_group O1 "$REPS" \
		"@W@ -q < $f > /dev/null" \
		"@W@ $obs < $f > /dev/null 2> /dev/null"
	same_output O1 "@W@ $obs < $f 2> /dev/null" "cat $f"
	pair_row O1 1 0 1.10 "$b" "$n"
	stretch_note O1 "vs -q" 1.03 "$LAST_RATIO"
	o1_metrics_note O1 "$n"

	c=${O1_COPIES//[^,]/}
	copies=$((${#c} + 1))
	bench_group O1-long "$REPS" \
		"cat $f$O1_COPIES | @W@ -q > /dev/null" \
		"cat $f$O1_COPIES | @W@ $obs > /dev/null 2> /dev/null"
	pair_row O1-long 1 0 1.10 "$((b * copies))" "$((n * copies))"
	stretch_note O1-long "vs -q" 1.03 "$LAST_RATIO"
	run_once "$(expand "cat $f$O1_COPIES | @W@ $obs > /dev/null 2> $O1_ERR")"
	lines=$(wc -l <"$O1_ERR")
	NOTES+=("O1-long: one more run with stderr kept: progress lines: $lines in $(calc '%.2f' "$LAST_US / 1e6") s (one at the start, then one a second)")
	o1_metrics_note O1-long "$((n * copies))"
	rm -f "$O1_ERR"
}

# o1_metrics_note SCEN RECORDS: the metrics file the last run left must
# hold the final figures.
o1_metrics_note() {
	if grep -qx "weir_records_out_total $2" "$O1_METRICS" 2>/dev/null; then
		NOTES+=("$1: the metrics file holds the final figures after the run (\`weir_records_out_total $2\`)")
	else
		warn "$1: $O1_METRICS lacks weir_records_out_total $2"
		NOTES+=("**$1: the metrics file lacks the final \`weir_records_out_total $2\`**")
		MISMATCHES=$((MISMATCHES + 1))
	fi
}

# ---------------------------------------------------------------- NATS

# N rows: weir draining a JetStream stream of N_NATS messages ("1".."N",
# published once by natstool into a private nats-server), acking each
# message, `-e cat` to /dev/null, ending after --idle-exit. Every run takes
# a fresh durable consumer, c1, c2, ... (the template's `C=c$((++NC))` is
# evaluated when the command runs, in this shell), which weir creates, so
# each run drains the whole stream and the stream is published only once.
# N1: one weir, messages/s against a target (there is no drain CLI to set
# it against; `natstool get`, an ordered consumer that acks nothing, for
# information). N2: two weirs on one consumer ÷ one weir.
NATS_STREAM=NB NATS_SUBJ=nb.msgs NATS_IDLE=300ms
N1_MIN=100000 N1_STRETCH=200000 N2_TARGET=0.65
NATS_TMP='' NATS_PID='' NATS_URL='' NC=0 N_DONE=0
NATSTOOL=${NATSTOOL:-}
METER=$DATA/meter

# find_natstool: NATSTOOL, else the natstool built next to WEIR, else the
# release build's.
find_natstool() {
	[[ -z $NATSTOOL ]] || return 0
	NATSTOOL=$(dirname "$WEIR")/natstool
	[[ -x $NATSTOOL ]] || NATSTOOL=build/release/natstool
}

# need_nats: exit 2, saying what to do, unless nats-server and an
# up-to-date natstool are there.
need_nats() {
	find_natstool
	if ! have nats-server; then
		printf 'bench: N1, N2 need nats-server (Debian: apt-get install nats-server, or make deps);\n' >&2
		printf 'bench: leave N1 and N2 out of SCENARIOS to run the others without it\n' >&2
		exit 2
	fi
	if [[ ! -x $NATSTOOL ]]; then
		printf 'bench: N1, N2 need natstool, not found at %s: run make build/release/natstool\n' "$NATSTOOL" >&2
		printf 'bench: (make VARIANT=check build/check/natstool for the check build), or set NATSTOOL=\n' >&2
		exit 2
	fi
	if [[ tests/nats/natstool.c -nt $NATSTOOL ]]; then
		printf 'bench: %s is older than tests/nats/natstool.c: rebuild it with make\n' "$NATSTOOL" >&2
		exit 2
	fi
}

build_meter() {
	if [[ ! -x $METER || bench/meter.c -nt $METER ]]; then
		log "compiling $METER"
		"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -o "$METER" bench/meter.c
	fi
}

# nats_alive: the server process exists and is not a zombie.
nats_alive() {
	local st
	[[ -n $NATS_PID ]] || return 1
	st=$(awk '{ print $3 }' "/proc/$NATS_PID/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z ]]
}

# nats_free_port: a loopback TCP port nobody listens on now.
nats_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		[[ -z $(ss -Htln "sport = :$p" 2>/dev/null) ]] || continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		printf '%s\n' "$p"
		return 0
	done
}

# nats_up: a private `nats-server -js` on a free loopback port, its store
# and log in a temporary directory; sets NATS_URL. nats_down (also the EXIT
# trap) stops it and removes the directory. Another process may take the
# port between the check and the bind: the server then exits, and the next
# try takes another port.
nats_up() {
	local try i port slog
	NATS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-nats.XXXXXX")
	trap nats_down EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for try in 1 2 3 4 5; do
		port=$(nats_free_port)
		slog=$NATS_TMP/server-$try.log
		nats-server -js -a 127.0.0.1 -p "$port" -sd "$NATS_TMP/store" >"$slog" 2>&1 &
		NATS_PID=$!
		for ((i = 0; i < 1000; i++)); do
			nats_alive || break
			if grep -q 'Server is ready' "$slog" &&
				(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				NATS_URL=nats://127.0.0.1:$port
				log "nats-server pid $NATS_PID on $NATS_URL, store $NATS_TMP/store"
				return 0
			fi
			sleep 0.01
		done
		nats_stop_server
	done
	warn "nats-server did not start; the end of its log:"
	tail -n 5 "$slog" >&2
	exit 1
}

# nats_stop_server: SIGTERM, up to 10 s, then SIGKILL. Idempotent.
nats_stop_server() {
	local i
	[[ -n $NATS_PID ]] || return 0
	kill -TERM "$NATS_PID" 2>/dev/null || true
	for ((i = 0; i < 1000; i++)); do
		nats_alive || break
		sleep 0.01
	done
	if nats_alive; then
		warn "nats-server $NATS_PID ignored SIGTERM for 10 s, killing it"
		kill -KILL "$NATS_PID" 2>/dev/null || true
	fi
	wait "$NATS_PID" 2>/dev/null || true
	NATS_PID=
}

nats_down() {
	nats_stop_server
	[[ -z $NATS_TMP ]] || rm -rf "$NATS_TMP"
	NATS_TMP=
}

# nats_stream: the stream NATS_STREAM with N_NATS messages "1".."N_NATS".
nats_stream() {
	local t0 t1 n
	"$NATSTOOL" "$NATS_URL" stream-add "$NATS_STREAM" "$NATS_SUBJ" ||
		{ warn "natstool stream-add failed"; exit 1; }
	log "N: publishing $N_NATS messages to $NATS_SUBJ"
	t0=${EPOCHREALTIME//[.,]/}
	"$NATSTOOL" "$NATS_URL" pub "$NATS_SUBJ" --count "$N_NATS" ||
		{ warn "natstool pub failed"; exit 1; }
	t1=${EPOCHREALTIME//[.,]/}
	n=$("$NATSTOOL" "$NATS_URL" count "$NATS_STREAM")
	if [[ $n != "$N_NATS" ]]; then
		warn "N: stream $NATS_STREAM holds $n messages, not $N_NATS"
		exit 1
	fi
	NOTES+=("N1, N2: stream \`$NATS_STREAM\` (file storage, limits retention) on a private \`nats-server -js\` on loopback, store in a temporary directory; $N_NATS messages \"1\"..\"$N_NATS\" ($(fsize "$N_SEQ") bytes with a newline each), published once with \`$NATSTOOL URL pub $NATS_SUBJ --count $N_NATS\` in $(calc '%.1f' "($t1 - $t0) / 1e6") s ($(calc '%.0f' "$N_NATS * 1e6 / ($t1 - $t0)") msg/s)")
}

# n_compare SCEN WHAT FILE...: the files (sorted numerically when there are
# several) against seq 1 N_NATS; sets CMP_STATUS for the next row.
n_compare() {
	local scen=$1 what=$2 ok=0
	shift 2
	if (($# == 1)); then
		cmp -s "$1" "$N_SEQ" && ok=1
	else
		sort -n "$@" | cmp -s - "$N_SEQ" && ok=1
	fi
	if ((ok)); then
		CMP_STATUS=same
		NOTES+=("$scen: output of the warm-up run, $what: every message once, identical to \`seq 1 $N_NATS\`")
	else
		warn "================================================================"
		warn "$scen: OUTPUT MISMATCH: $what (files $*) against seq 1 $N_NATS"
		warn "================================================================"
		NOTES+=("**$scen: OUTPUT MISMATCH**: the warm-up run, $what, against \`seq 1 $N_NATS\` ($(cat "$@" | wc -l) lines)")
		MISMATCHES=$((MISMATCHES + 1))
		CMP_STATUS=MISMATCH
	fi
}

# n_consumers: every consumer c1..cNC must end fully acked: num_pending 0,
# num_ack_pending 0, ack_floor N_NATS (consumer sequences: N_NATS when
# nothing was redelivered). Looks again after 2 s at any that is not.
n_consumers() {
	local i info bad=() late=() sum
	for ((i = 1; i <= NC; i++)); do
		info=$("$NATSTOOL" "$NATS_URL" info "$NATS_STREAM" "c$i" 2>&1) || true
		[[ $(n_state "$info") == ok ]] || bad+=("$i")
	done
	if ((${#bad[@]})); then
		sleep 2
		for i in "${bad[@]}"; do
			info=$("$NATSTOOL" "$NATS_URL" info "$NATS_STREAM" "c$i" 2>&1) || true
			if [[ $(n_state "$info") == ok ]]; then
				late+=("c$i")
			else
				warn "N: consumer c$i not drained and acked: $info"
				NOTES+=("**N: consumer c$i not drained and acked after the run**: \`$info\`")
				MISMATCHES=$((MISMATCHES + 1))
			fi
		done
	fi
	sum="N1, N2: all $NC consumers (c1..c$NC, one a run, the warm-ups included) checked with \`natstool info\` after the runs"
	if ((${#bad[@]} == 0)); then
		sum+=": each num_pending 0, num_ack_pending 0, num_redelivered 0, ack_floor $N_NATS"
	elif ((${#late[@]})); then
		sum+="; ${late[*]} reached num_pending 0, num_ack_pending 0 and ack_floor $N_NATS only 2 s later"
	fi
	NOTES+=("$sum")
}

# n_state JSON: "ok" when the consumer info says fully drained and acked.
n_state() {
	jq -r --argjson n "$N_NATS" 'if .num_pending == 0 and .num_ack_pending == 0
		and .ack_floor == $n and .num_redelivered == 0 then "ok" else "no" end' \
		<<<"$1" 2>/dev/null || echo no
}

# n1_row IW: messages/s of G_CMDS[IW] (one weir) against N1_MIN.
n1_row() {
	local iw=$1 wcmd wmed mbs mrs rate res tshow
	tshow="≥ $(calc '%g' "$N1_MIN / 1e6") Mrec/s"
	wcmd=$(show "${G_CMDS[iw]}")
	if ((G_RC[iw] != 0)); then
		add_row N1 "$wcmd" - - - - - - "$tshow" "FAIL (exit ${G_RC[iw]})" "$(mib "${G_RSS[iw]}")"
		FAILURES=$((FAILURES + 1))
		return
	fi
	wmed=$(list_median "${G_US[iw]}")
	mbs=$(rate_fmt "$(fsize "$N_SEQ") / $wmed" 10 '%.0f')
	mrs=$(rate_fmt "$N_NATS / $wmed" 1 '%.2f')
	rate=$(calc '%.0f' "$N_NATS * 1e6 / $wmed")
	res=MISS
	ge "$rate" "$N1_MIN" && res=PASS
	[[ $CMP_STATUS != MISMATCH ]] || res+=', **OUTPUT MISMATCH**'
	add_row N1 "$wcmd" - "$(calc '%.4f' "$wmed / 1e6")" - "$mbs" "$mrs" - "$tshow" \
		"$res" "$(mib "${G_RSS[iw]}")"
	local st=missed
	ge "$rate" "$N1_STRETCH" && st=met
	NOTES+=("N1: $rate messages/s (median wall time, the --idle-exit $NATS_IDLE wait included); target ≥ $N1_MIN: $([[ $res == PASS* ]] && echo met || echo missed); stretch goal ≥ $N1_STRETCH: $st")
}

# n_rows: N1 and N2, whichever are wanted, in one group: N2's peer is N1's
# command. The output checks come first and are the warm-ups (weir under
# GNU time for its peak RSS), so the group itself has none.
n_rows() {
	local one two get cmds i_two='' i_get='' w m start span tail
	local rc1=0 rc2=0 rss1='' rss2='' cmp1='' cmp2='' rounds
	((!N_DONE)) || return 0
	N_DONE=1
	N_SEQ=$(seqfile "$N_NATS") # the payloads, one a line: what a drain writes
	[[ " ${INPUTS[*]} " == *" $N_SEQ "* ]] || INPUTS+=("$N_SEQ")
	want N1 && build_meter
	nats_up
	nats_stream
	w="-q --nats $NATS_URL --from $NATS_STREAM/\$C --idle-exit $NATS_IDLE -e cat"
	one="C=c\$((++NC)); @W@ $w > /dev/null"
	two="C=c\$((++NC)); (@W@ $w > /dev/null & @W@ $w > /dev/null; r=\$?; wait \$! && exit \$r)"
	get="$NATSTOOL $NATS_URL get $NATS_STREAM > /dev/null"

	# N1's warm-up: its output kept and metered: when the first message
	# came, when the last, and how long weir took to exit after it. tee and
	# the meter share the CPUs, so this run is a little slower.
	if want N1; then
		log "N1: warm-up, output checked and metered"
		m=$DATA/.n1-meter.txt
		run_rss "C=c\$((++NC)); @W@ $w | tee $DATA/.n1-out.txt | $METER -l > $m"
		rc1=$LAST_RC rss1=$LAST_RSS
		((rc1 == 0)) || warn "N1: exit $rc1 in the checked run"
		n_compare N1 "$(code "C=c\$((++NC)); @W@ $w | tee $DATA/.n1-out.txt | $METER -l")" \
			"$DATA/.n1-out.txt"
		cmp1=$CMP_STATUS
		start=$(grep -o 'start=[0-9.e+-]*' "$m" | cut -d = -f 2 || true)
		span=$(grep -o 'span=[0-9.e+-]*' "$m" | cut -d = -f 2 || true)
		tail=$(grep -o 'tail=[0-9.e+-]*' "$m" | cut -d = -f 2 || true)
		if [[ -n $start && -n $span && -n $tail ]]; then
			NOTES+=("N1: in that run ($(calc '%.2f' "$LAST_US / 1e6") s in all; tee and the meter in the pipe take some CPU) the first message came $(calc '%.3f' "$start") s after the start (connecting, creating the consumer), the messages took $(calc '%.3f' "$span") s from first to last ($(calc '%.0f' "$N_NATS / $span") msg/s), and weir exited $(calc '%.3f' "$tail") s after the last one (the --idle-exit $NATS_IDLE wait and the shutdown)")
		fi
		rm -f "$DATA/.n1-out.txt" "$m"
	fi
	if want N2; then
		log "N2: warm-up, both outputs checked"
		run_rss "C=c\$((++NC)); (@W@ $w > $DATA/.n2-a.txt & @W@ $w > $DATA/.n2-b.txt; r=\$?; wait \$! && exit \$r)"
		rc2=$LAST_RC rss2=$LAST_RSS
		((rc2 == 0)) || warn "N2: exit $rc2 in the checked run"
		n_compare N2 "two weirs on one consumer, their outputs together" \
			"$DATA/.n2-a.txt" "$DATA/.n2-b.txt"
		cmp2=$CMP_STATUS
		NOTES+=("N2: in that run the two weirs wrote $(wc -l <"$DATA/.n2-a.txt") and $(wc -l <"$DATA/.n2-b.txt") messages in $(calc '%.2f' "$LAST_US / 1e6") s")
		rm -f "$DATA/.n2-a.txt" "$DATA/.n2-b.txt"
	fi

	cmds=("$one")
	if want N2; then
		cmds+=("$two")
		i_two=$((${#cmds[@]} - 1))
	fi
	if want N1; then
		cmds+=("$get")
		i_get=$((${#cmds[@]} - 1))
	fi
	WARMUP=0
	bench_group N "$REPS" "${cmds[@]}"
	WARMUP=1
	G_RSS[0]=$rss1
	((rc1 == 0)) || G_RC[0]=$rc1
	rounds="N1, N2: wall time of each round, s (a stall would show here): one weir: $(n_secs "${G_US[0]}")"
	[[ -z $i_two ]] || rounds+="; two weirs: $(n_secs "${G_US[i_two]}")"
	[[ -z $i_get ]] || rounds+="; natstool get: $(n_secs "${G_US[i_get]}")"
	NOTES+=("$rounds")

	if want N1; then
		CMP_STATUS=$cmp1
		n1_row 0
		pair_row N1 0 "$i_get" - "$(fsize "$N_SEQ")" "$N_NATS"
		NOTES+=("N1: the second row is for information: \`natstool get\` reads the stream through an ordered consumer (no acks, flow control) with libnats alone, about the fastest a client here can read it; ratio = weir ÷ natstool get")
	fi
	if want N2; then
		G_RSS[i_two]=$rss2
		((rc2 == 0)) || G_RC[i_two]=$rc2
		CMP_STATUS=$cmp2
		pair_row N2 "$i_two" 0 "$N2_TARGET" "$(fsize "$N_SEQ")" "$N_NATS"
		NOTES+=("N2: ratio = two weirs on one consumer ÷ one weir, the same $N_NATS messages; both times include one --idle-exit $NATS_IDLE wait, which moves the ratio towards 1; the server and the weirs share the $(nproc) CPUs; RSS is one of the two weirs'")
	fi
	n_consumers
	nats_down
}

# n_secs "US US ...": the microsecond times as seconds, comma-separated.
n_secs() {
	awk -v l="$1" 'BEGIN { n = split(l, a, " ");
		for (i = 1; i <= n; i++) printf "%s%.2f", (i > 1 ? ", " : ""), a[i] / 1e6 }'
}

n1() { n_rows; }
n2() { n_rows; }

# ---------------------------------------------------------------- main

for s in $SCENARIOS; do
	case $s in
	S[1-8] | D1 | K[1-3] | P3 | P4 | P7 | Z[1-3] | Zmem | O1 | N1 | N2) ;;
	*)
		printf 'bench: unknown scenario %s (expected S1..S8, D1, K1..K3, P3, P4, P7, Z1..Z3, Zmem, O1, N1, N2)\n' "$s" >&2
		exit 2
		;;
	esac
done
if ! command -v "$WEIR" >/dev/null 2>&1; then
	printf 'bench: weir binary %s not found (run make, or set WEIR=)\n' "$WEIR" >&2
	exit 2
fi
[[ -x $TIME_BIN ]] || { printf 'bench: %s (GNU time) is required\n' "$TIME_BIN" >&2; exit 2; }
if want N1 || want N2; then need_nats; fi

build_gen
printf '%s\n' "$TABLE_HEAD"
for s in $ALL_SCENARIOS; do
	want "$s" || continue
	"${s,,}"
done
rm -f "$RSS_FILE"
write_results
log "wrote $RESULTS"
if ((FAILURES || MISMATCHES)); then
	warn "$FAILURES failed command(s), $MISMATCHES output mismatch(es)"
	exit 1
fi
