#!/usr/bin/env bash
# bench/profile.sh - instruction counts of weir under callgrind.
#
# Wall time moves with the machine and its load; the number of instructions
# executed (Ir) does not, so optimisation work compares these. For each case
# it prints the total Ir, Ir per record, and the 15 functions with the most
# Ir (self cost), from callgrind_annotate. Raw profiles are kept in
# bench/data/callgrind.<case>.out for `callgrind_annotate --auto=yes`.
#
# Environment:
#   WEIR=path            weir binary (default ./weir)
#   N=lines              records per case (default 200000)
#   PROFILE_ARGS="..."   weir flags (default "-q -j1": one worker, so the
#                        count does not depend on the number of CPUs)
#   CASES="pass short"   subset of cases to run
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LC_ALL=C

WEIR=${WEIR:-./weir}
N=${N:-200000}
PROFILE_ARGS=${PROFILE_ARGS--q -j1}
CASES=${CASES:-pass short}
DATA=bench/data

for tool in valgrind callgrind_annotate; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		printf 'profile: %s is required (Debian package valgrind)\n' "$tool" >&2
		exit 2
	fi
done
if ! command -v "$WEIR" >/dev/null 2>&1; then
	printf 'profile: weir binary %s not found (run make, or set WEIR=)\n' "$WEIR" >&2
	exit 2
fi

mkdir -p "$DATA"
if [[ ! -x $DATA/gen || bench/gen.c -nt $DATA/gen ]]; then
	"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -o "$DATA/gen" bench/gen.c
fi

# input MODE: path of the N-line input of that mode, generated if absent.
input() {
	local f=$DATA/$1-$N.txt
	if [[ ! -s $f ]]; then
		"$DATA/gen" "$1" "$N" >"$f.tmp"
		mv "$f.tmp" "$f"
	fi
	printf '%s\n' "$f"
}

# profile NAME FILE: run weir under callgrind on FILE and report.
profile() {
	local name=$1 f=$2 out log total per
	out=$DATA/callgrind.$name.out
	log=$DATA/callgrind.$name.log
	local -a args
	read -r -a args <<<"$PROFILE_ARGS"
	printf '== %s: %s %s < %s > /dev/null\n' "$name" "$WEIR" "$PROFILE_ARGS" "$f"
	if ! valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$WEIR" "${args[@]}" <"$f" >/dev/null 2>"$log"; then
		printf 'profile: %s: weir failed under valgrind; see %s\n' "$name" "$log" >&2
		return 1
	fi
	local report
	report=$(callgrind_annotate --inclusive=no "$out" 2>&1) || true
	total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' <<<"$report")
	if [[ -z $total ]]; then
		printf 'profile: %s: no instruction count in %s; see %s\n' "$name" "$out" "$log" >&2
		return 1
	fi
	per=$(awk -v t="$total" -v n="$N" 'BEGIN { printf "%.1f", t / n }')
	printf 'total Ir: %s (%s per record, %s records)\n' "$total" "$per" "$N"
	printf 'top 15 functions by self Ir:\n'
	# The function table follows the second "file:function" header line.
	awk '/file:function/ { seen = 1; getline; next } seen && NF { print; if (++n == 15) exit }' \
		<<<"$report"
	printf '\n'
}

status=0
for c in $CASES; do
	case $c in
	pass) profile pass "$(input lines100)" || status=1 ;;
	short) profile short "$(input short)" || status=1 ;;
	*)
		printf 'profile: unknown case %s (expected pass, short)\n' "$c" >&2
		exit 2
		;;
	esac
done
exit "$status"
