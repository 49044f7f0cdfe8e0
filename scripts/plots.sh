#!/usr/bin/env bash
# plots.sh - draws weir under overload, one row per policy, into docs/policies.svg.
#
# For each policy (block, drop, drop-oldest, timeout -t 50ms, fail -t 200ms)
# a paced producer offers 3000 records/s of about 100 bytes for 5 s (held
# back by -p block, it writes fewer), then ends its output, to
# `weir -e sleep:2ms -j 2 -c 200 -i 100ms --stats json`, a stage that takes
# at most 1000 records/s. Every point plotted is one of weir's own JSON
# snapshots (-i) or its final summary, nothing else: the run's stderr is kept
# in build/plots/POLICY.err, its JSON lines in POLICY.jsonl and the columns
# plotted in POLICY.tsv. Three panels a row: queue depth (queue_records, and
# in_flight: read and not yet finished; in_flight alone if this weir has no
# queue_records), latency p99 (cumulative since the start, as weir reports
# it) and the cumulative records read, done and shed (dropped + timed out +
# failed). Takes about 30 s.
#
# Needs gnuplot (Debian: gnuplot-nox), jq and perl; prints what is missing and
# exits 1 without them. `make plots` runs it after building ./weir.
#
# Environment:
#   WEIR=path   weir binary (default ./weir)
#   OUT=file    the SVG (default docs/policies.svg)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LC_ALL=C

WEIR=${WEIR:-./weir}
OUT=${OUT:-docs/policies.svg}
DIR=build/plots
RATE=3000 # records/s offered
SECS=5    # seconds of input

missing=""
for cmd in gnuplot jq perl; do
	command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
if [[ -n $missing ]]; then
	echo "plots.sh: missing:$missing (Debian: apt-get install gnuplot-nox jq perl)" >&2
	exit 1
fi
if [[ ! -x $WEIR ]]; then
	echo "plots.sh: no weir binary at $WEIR (run make weir)" >&2
	exit 1
fi
mkdir -p "$DIR" "$(dirname "$OUT")"

# RATE records/s in 10 ms ticks on an absolute schedule, so that a slow tick
# is made up for, until SECS s have passed: a producer held back by weir
# (-p block) writes fewer. A closed pipe ends it quietly.
producer() {
	perl -MTime::HiRes=time,sleep -e '
		my ($rate, $secs) = @ARGV;
		$| = 1;
		$SIG{PIPE} = sub { exit 0 };
		my $tick = 0.01; my $per = $rate * $tick; my $n = 0; my $t0 = time;
		for (my $k = 1; time < $t0 + $secs; $k++) {
			print map { sprintf "record %08d %s\n", ++$n, "x" x 84 } 1 .. $per;
			my $wait = $t0 + $k * $tick - time;
			sleep $wait if $wait > 0;
		}' "$RATE" "$SECS"
}

POLICIES=(block drop drop-oldest timeout fail)
declare -A FLAGS=([block]="-p block" [drop]="-p drop" [drop-oldest]="-p drop-oldest"
	[timeout]="-p timeout -t 50ms" [fail]="-p fail -t 200ms")

has_queue_records=1
for p in "${POLICIES[@]}"; do
	# shellcheck disable=SC2086  # FLAGS holds several words
	producer | "$WEIR" -e sleep:2ms -j 2 -c 200 ${FLAGS[$p]} -i 100ms --stats json \
		>/dev/null 2>"$DIR/$p.err" || true
	grep '^{' "$DIR/$p.err" >"$DIR/$p.jsonl" || true
	if [[ ! -s $DIR/$p.jsonl ]]; then
		echo "plots.sh: weir -p $p printed no JSON snapshot:" >&2
		cat "$DIR/$p.err" >&2
		exit 1
	fi
	last=$(tail -n 1 "$DIR/$p.jsonl")
	want=0
	[[ $p == fail ]] && want=75
	if [[ $(jq -r 'if .final then .exit else "no final summary" end' <<<"$last") != "$want" ]]; then
		echo "plots.sh: weir -p $p did not end with exit $want:" >&2
		grep -v '^{' "$DIR/$p.err" >&2 || true
		tail -n 1 "$DIR/$p.jsonl" >&2
		exit 1
	fi
	jq -e 'has("queue_records")' <<<"$last" >/dev/null || has_queue_records=0
	# t, queued, in_flight, p99, read, done, shed
	jq -r '[.elapsed_s, (.queue_records // "NaN"), .in_flight, .latency_ms.p99, .records_in,
		.records_done, .records_dropped + .records_timed_out + .records_failed] | @tsv' \
		"$DIR/$p.jsonl" >"$DIR/$p.tsv"
	printf 'plots.sh: %-11s %3d snapshots, %s\n' "$p" "$(wc -l <"$DIR/$p.tsv")" \
		"$(jq -r '"\(.records_in) read, \(.records_done) done, \(.records_dropped) dropped, \(.records_timed_out) timed out, \(.records_failed) failed, \(.elapsed_s) s, exit \(.exit // "?")"' <<<"$last")" >&2
done
capacity=$(jq -r '.queue_capacity' <"$DIR/block.jsonl" | tail -n 1)
fail_end=$(tail -n 1 "$DIR/fail.jsonl" | jq -r '"exit \(.exit // "?") at \(.elapsed_s * 100 | round / 100) s"')
if ((has_queue_records)); then
	depth_plot="f using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'queued', \
f using 1:3 with lines lw 1.5 dt 2 lc rgb '#ff7f0e' title 'read, not yet done'"
else # this weir prints no queue_records: in_flight is all there is
	echo "plots.sh: no queue_records in weir's JSON: queue depth shown as in_flight" >&2
	depth_plot="f using 1:3 with lines lw 1.5 dt 2 lc rgb '#ff7f0e' title 'read, not yet done'"
fi

# one scale per column, so that the rows compare
read -r xmax qmax pmax nmax qstep pstep nstep < <(cat "$DIR"/*.tsv | awk -F "\t" '
	function up(x, m) { return x > m ? x : m }
	{ t = up($1, t); q = up($3, up($2 == "NaN" ? 0 : $2, q)); l = up($4, l); n = up($5, n) }
	function step(m,  s) { for (s = 1; ; s *= 10) { if (m / s <= 5) return s; if (m / (2 * s) <= 5) return 2 * s; if (m / (5 * s) <= 5) return 5 * s } }
	END {
		q = q * 1.4 + 1; l = l * 1.1 + 1; n = n * 1.1 + 1
		printf "%d %d %d %d %d %d %d\n", t + 0.999, q, l, n, step(q), step(l), step(n)
	}')

# Row labels: the policy flags; the fail row also says how the run ended.
labels=""
for p in "${POLICIES[@]}"; do labels="$labels, \"${FLAGS[$p]}\""; done
gnuplot <<EOF
set terminal svg size 960,1120 font 'sans,11' background '#ffffff'
set output '$OUT'
set datafile separator '\t'
set datafile missing 'NaN'
set multiplot layout 5,3 rowsfirst margins 0.09,0.98,0.05,0.93 spacing 0.07,0.045 \
    title "weir -e sleep:2ms -j 2 -c $capacity -i 100ms: $RATE records/s offered for $SECS s to a stage that takes at most 1000/s" font 'sans,13'
set grid ytics lc rgb '#e4e4e4'
set border 3 lc rgb '#888888'
set tics nomirror
set xrange [0:$xmax]
set xtics 1
set key Left reverse samplen 2 font 'sans,9'
array P[5] = ["block", "drop", "drop-oldest", "timeout", "fail"]
array L[5] = [${labels#, }]
do for [i = 1:5] {
    f = '$DIR/'.P[i].'.tsv'
    if (i == 5) { set xlabel 'seconds' } else { set xlabel '' }

    set title (i == 1) ? 'queue depth (records)' : ''
    set ylabel L[i] font 'sans,12' offset 0.5,0
    set yrange [0:$qmax]
    set ytics $qstep nomirror
    set key top right horizontal
    if (i > 1) { unset key }
    set arrow 1 from 0,$capacity to $xmax,$capacity nohead dt 3 lc rgb '#999999'
    set label 1 'capacity' at $xmax,$capacity right offset 0,0.5 font 'sans,8' tc rgb '#999999'
    plot $depth_plot
    unset arrow 1
    unset label 1
    set ylabel ''

    set title (i == 1) ? 'latency p99 since the start (ms)' : ''
    set yrange [0:$pmax]
    set ytics $pstep nomirror
    set key bottom right
    if (i > 1) { unset key }
    plot f using 1:4 with lines lw 2 lc rgb '#9467bd' title 'p99'

    set title (i == 1) ? 'records so far' : ''
    set yrange [0:$nmax]
    set ytics $nstep nomirror
    set key top left vertical
    if (i > 1) { unset key }
    if (i == 5) { set label 2 '$fail_end' at graph 0.97,0.85 right font 'sans,10' }
    plot f using 1:5 with lines lw 1.5 lc rgb '#7f7f7f' title 'read', \
         f using 1:6 with lines lw 2 lc rgb '#2ca02c' title 'done', \
         f using 1:7 with lines lw 2 lc rgb '#d62728' title 'shed'
    unset label 2
}
unset multiplot
EOF
# gnuplot leaves hundreds of empty groups; they weigh a third of the file
perl -0pi -e '1 while s{<g [^>]*>\s*</g>\n?}{}g' "$OUT"
echo "plots.sh: wrote $OUT ($(wc -c <"$OUT") bytes)" >&2
