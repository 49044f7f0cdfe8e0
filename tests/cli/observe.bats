#!/usr/bin/env bats
# Watching a run (weir(1), STATISTICS and OPTIONS): -i/--interval snapshots,
# SIGUSR1 snapshots, the --progress line (plain lines, and on a terminal),
# the --metrics file, workers and workers_requested, and bad values.

load helper

# Each tmux test runs its own tmux server on a socket in its directory.
TMUX_SOCK=
teardown() {
    if [[ -n $TMUX_SOCK ]]; then
        tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
    fi
    kill_bg
}

# json_lines FILE: every line of FILE is one whole JSON object, the last one
# ends with a newline.
json_lines() {
    [[ -s $1 ]] || fail "$1 is empty"
    [[ -z $(tail -c 1 "$1") ]] || fail "$1 does not end with a newline"
    jq -R 'fromjson | if type == "object" then empty else error("not an object") end' \
        "$1" >/dev/null 2>"$1.jq" || fail "not JSON objects, one a line: $(head -5 "$1.jq")"
}

# final_count FILE: how many JSON lines of FILE have "final":true.
final_count() {
    jq -s 'map(select(.final == true)) | length' "$1"
}

# metric FILE NAME: the value of sample NAME in metrics file FILE.
metric() {
    awk -v n="$2" '$1 == n { print $2; found = 1 } END { exit !found }' "$1"
}

need_promtool() {
    command -v promtool >/dev/null ||
        skip "promtool is not installed (Debian package prometheus)"
}

# histogram_ok FILE: weir_latency_seconds's buckets have growing bounds and
# cumulative (non-decreasing) counts, end with +Inf, and +Inf == _count.
histogram_ok() {
    awk '
    /^weir_latency_seconds_bucket\{/ {
        match($0, /le="[^"]*"/)
        le = substr($0, RSTART + 4, RLENGTH - 5)
        v = $NF + 0
        if (n && v < prev) { printf "bucket le=%s: %d < %d before it\n", le, v, prev; bad = 1 }
        if (n && last == "+Inf") { print "a bucket after +Inf"; bad = 1 }
        if (n && le != "+Inf" && le + 0 <= last + 0) { print "le " le " after " last; bad = 1 }
        prev = v; last = le; n++
    }
    /^weir_latency_seconds_count / { count = $2 + 0; seen = 1 }
    END {
        if (n < 2 || last != "+Inf") { print "no +Inf bucket"; bad = 1 }
        if (!seen || prev != count) { printf "+Inf %d, _count %d\n", prev, count; bad = 1 }
        exit bad
    }' "$1" >&2 || fail "histogram in $1 is wrong"
}

# --------------------------------------------------------- -i/--interval

@test "-i 100ms --stats json: snapshots with in_flight, counts only grow, then one final summary" {
    seq 1 40 >"$(T in)"
    wrun -i 100ms --stats json -j 2 -e sleep:50ms <"$(T in)" # about 1 s
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    json_lines "$ERR"
    local n elapsed
    n=$(jq -s 'map(select(.final == false)) | length' "$ERR")
    elapsed=$(jget "$ERR" .elapsed_s)
    # one every 100 ms at most, and a 1 s run has a few of them
    [ "$n" -ge 4 ] || fail "$n snapshots in $elapsed s"
    awk -v n="$n" -v e="$elapsed" 'BEGIN { exit !(n <= e * 10 + 2) }' ||
        fail "$n snapshots in $elapsed s: more than one per 100 ms"
    [ "$(final_count "$ERR")" -eq 1 ] || fail "not one final summary: $stderr"
    tail -n 1 "$ERR" | jq -e '.final == true and .exit == 0 and .in_flight == 0 and
                              .records_in == 40 and .records_done == 40' >/dev/null ||
        fail "last line is not the final summary: $(tail -n 1 "$ERR")"
    jq -s -e 'map(select(.final == false)) |
              all(has("in_flight") and (has("exit") | not))' "$ERR" >/dev/null ||
        fail "a snapshot without in_flight, or with exit"
    jq -s -e 'map(select(.final == false)) | any(.in_flight > 0)' "$ERR" >/dev/null ||
        fail "no snapshot saw records in flight"
    # records_in == done + dropped + timed_out + failed + in_flight, always
    jq -s -e 'all(.records_in == .records_done + .records_dropped + .records_timed_out +
                                 .records_failed + .in_flight)' "$ERR" >/dev/null ||
        fail "invariant broken: $(jq -c 'select(.records_in != .records_done +
                .records_dropped + .records_timed_out + .records_failed + .in_flight)' "$ERR")"
    # counts are cumulative: from one line to the next they never go down
    jq -s -e '[range(1; length) as $i | .[$i - 1] as $a | .[$i] as $b |
               ["records_in", "records_out", "records_done", "records_dropped",
                "records_timed_out", "records_failed", "records_retried", "bytes_in",
                "bytes_out", "elapsed_s", "queue_max"] |
               all(. as $k | $b[$k] >= $a[$k])] | all' "$ERR" >/dev/null ||
        fail "a count went down: $stderr"
}

@test "-i 100ms, text summary: snapshot blocks say 'in flight', the final one says 'exit 0'" {
    seq 1 40 >"$(T in)"
    wrun -i 100ms -j 2 -e sleep:50ms <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    local blocks inflight
    blocks=$(grep -cE '^weir: [0-9]+ records? in ' "$ERR")
    inflight=$(grep -cE '^weir:   done .*; in flight [0-9]+$' "$ERR")
    [ "$blocks" -ge 4 ] || fail "$blocks summaries: $stderr"
    [ "$inflight" -eq $((blocks - 1)) ] || fail "$inflight snapshots of $blocks blocks: $stderr"
    [ "$(grep -c '; exit ' "$ERR")" -eq 1 ] || fail "not one final summary: $stderr"
    tail -n 1 "$ERR" | grep -qE '^weir:   workers .*; exit 0$' || fail "last line: $(tail -n 1 "$ERR")"
    grep '^weir:   done ' "$ERR" | tail -n 1 | grep -qv 'in flight' ||
        fail "the final summary has 'in flight'"
    grep '^weir: 40 records in ' "$ERR" | tail -n 1 | grep -q . || fail "no final count"
    [ "$(grep -vc '^weir: ' "$ERR")" -eq 0 ] || fail "a line not from weir: $stderr"
}

@test "-i with -q: no snapshots" {
    seq 1 20 >"$(T in)"
    wrun -q -i 50ms -j 2 -e sleep:20ms <"$(T in)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    [ ! -s "$ERR" ] || fail "stderr: $stderr"
}

# ------------------------------------------------------------------ SIGUSR1

@test "SIGUSR1 storm: 1000 signals while records flow; whole JSON lines, one final, exit 0" {
    start_weir --stats json -j 2 -e upper
    local i
    for ((i = 1; i <= 1000; i++)); do
        kill -USR1 "$PID"
        if ((i % 100 == 0)); then
            seq $((i - 99)) "$i" >&$W
        fi
    done
    exec {W}>&-
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 0 ] || fail "exit $RC: $(tail -c 500 "$(T err)")"
    seq 1 1000 >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    json_lines "$(T err)"
    local n
    n=$(wc -l <"$(T err)")
    # signals pending at once count as one: between 1 and 1000 snapshots
    [ "$n" -ge 2 ] && [ "$n" -le 1001 ] || fail "$n lines on stderr"
    [ "$(final_count "$(T err)")" -eq 1 ] || fail "not one final summary"
    tail -n 1 "$(T err)" | jq -e '.final and .exit == 0 and .records_in == 1000' >/dev/null ||
        fail "last line: $(tail -n 1 "$(T err)")"
    jq -s -e 'all(.records_in == .records_done + .records_dropped + .records_timed_out +
                                 .records_failed + .in_flight)' "$(T err)" >/dev/null ||
        fail "invariant broken in a snapshot"
}

# ---------------------------------------------------------------- --metrics

@test "--metrics: the final file passes promtool and matches the JSON summary" {
    need_promtool
    local m
    m=$(T m.prom)
    seq 1 300 >"$(T in)"
    wrun --metrics "$m" --stats json -c 4 -p drop -j 1 -e sleep:1ms <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    promtool check metrics <"$m" || fail "promtool: $(promtool check metrics <"$m" 2>&1)"
    # each counter weir_K_total is K of the JSON summary
    json_line "$ERR" | jq -r '{records_in, records_out, records_done, records_dropped,
        records_timed_out, records_failed, records_job_timeouts, records_retried, bytes_in, bytes_out,
        limiter_waits} | to_entries[] | "weir_\(.key)_total \(.value)"' >"$(T want)"
    printf '%s\n' "weir_records_in_total 300" "weir_records_in_flight 0" \
        "weir_queue_capacity_records 4" "weir_workers 1" "weir_workers_requested 1" \
        "weir_latency_seconds_count $(jget "$ERR" .records_done)" \
        "weir_latency_seconds_bucket{le=\"+Inf\"} $(jget "$ERR" .records_done)" >>"$(T want)"
    awk 'NR == FNR { want[$1] = $2; next }
         ($1 in want) { got[$1] = $2 }
         END {
             for (k in want)
                 if (!(k in got) || got[k] + 0 != want[k] + 0) {
                     printf "%s: %s in the file, %s expected\n", k, got[k], want[k]
                     bad = 1
                 }
             exit bad
         }' "$(T want)" "$m" >&2 || fail "metrics differ from the summary"
    grep -q '^# TYPE weir_latency_seconds histogram$' "$m"
    histogram_ok "$m"
}

@test "--metrics: rewritten atomically every -i; every read is whole" {
    need_promtool
    local dir m
    dir=$(T mdir) m=$(T mdir)/m.prom
    mkdir "$dir"
    seq 1 400 >"$(T in)"
    "$WEIR" -q -i 50ms --metrics "$m" -j 1 -e sleep:5ms <"$(T in)" >"$(T out)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    wait_until 10 file_nonempty "$m" || fail "no metrics file"
    local i lines r=$BATS_TEST_TMPDIR/read
    lines=$(wc -l <"$m")
    for ((i = 1; i <= 50; i++)); do
        cat "$m" >"$r.$i" # one open and read: the old file or the new one, whole
        sleep 0.02
    done
    # every read: the same number of lines, the last one the histogram's count
    for ((i = 1; i <= 50; i++)); do
        printf '%s\n' "$r.$i"
    done | xargs awk -v lines="$lines" '
        function check() {
            if (file != "" && (n != lines || last !~ /^weir_latency_seconds_count [0-9]/)) {
                printf "%s: %d lines, the last: %s\n", file, n, last
                bad = 1
            }
        }
        FNR == 1 { check(); file = FILENAME; n = 0 }
        { n++; last = $0 }
        END { file = file == "" ? "(no file)" : file; check(); exit bad }' >&2 ||
        fail "a read is partial (the whole file has $lines lines)"
    for ((i = 1; i <= 50; i += 7)); do
        histogram_ok "$r.$i"
    done
    promtool check metrics <"$r.25" || fail "mid-run: $(promtool check metrics <"$r.25" 2>&1)"
    [ "$(cat "$r".* | grep '^weir_elapsed_seconds ' | sort -u | wc -l)" -ge 5 ] ||
        fail "the file was rewritten fewer than 5 times in 50 reads over 1 s"
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 0 ] || fail "exit $RC: $(cat "$(T err)")"
    [ ! -s "$(T err)" ] || fail "stderr: $(cat "$(T err)")"
    [ "$(metric "$m" weir_records_done_total)" -eq 400 ]
    [ "$(ls -A "$dir")" = m.prom ] || fail "left in the directory: $(ls -A "$dir")"
}

@test "--metrics: the first version is there before any input" {
    start_weir -q -j 3 -e upper -c 50 --metrics "$(T m.prom)"
    wait_until 5 file_nonempty "$(T m.prom)" || fail "no metrics file before input"
    [ "$(metric "$(T m.prom)" weir_records_in_total)" -eq 0 ]
    # the gauges are right from the start
    [ "$(metric "$(T m.prom)" weir_workers_requested)" -eq 3 ]
    [ "$(metric "$(T m.prom)" weir_queue_capacity_records)" -eq 50 ]
    [ "$(metric "$(T m.prom)" weir_queue_capacity_bytes)" -eq 67108864 ]
    seq 1 10 >&$W
    exec {W}>&-
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 0 ]
    [ "$(metric "$(T m.prom)" weir_records_in_total)" -eq 10 ]
}

@test "-i: in_flight is never negative, also while over-long records fail" {
    printf 'xx\n%.0s' $(seq 1 100000) >"$(T in)"
    wrun --max-record 1 -i 1ms --stats json <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status"
    grep '^{' "$ERR" | jq -s -e 'length > 1 and all(.in_flight < 1e15)' >/dev/null ||
        fail "$(grep '^{' "$ERR" | jq -c 'select(.in_flight >= 1e15)' | head -3)"
}

# metrics_error PATH ARGS...: weir --metrics PATH ARGS fails with exit 1 and
# one line "weir: --metrics PATH: ..." before reading stdin (as usage_error in
# usage.bats: stdin is a file shared with cat). Runs weir as $RUNNER (a
# command prefix, empty by default).
metrics_error() {
    local path=$1
    shift
    local in out err rc=0
    in=$(T in) out=$(T out) err=$(T err)
    seq 1 1000 >"$in"
    { ${RUNNER:-} "$WEIR" --metrics "$path" "$@" >"$out" 2>"$err" || rc=$?; cat >"$(T rest)"; } <"$in"
    [ "$rc" -eq 1 ] || fail "exit $rc, expected 1; stderr: $(cat "$err")"
    [ ! -s "$out" ] || fail "wrote to stdout: $(head -c 200 "$out")"
    [ "$(wc -l <"$err")" -eq 1 ] || fail "expected one stderr line: $(cat "$err")"
    grep -qF "weir: --metrics $path: " "$err" || fail "stderr does not name the path: $(cat "$err")"
    same_file "$in" "$(T rest)" || fail "read stdin before failing"
}

@test "--metrics in a directory that does not exist: exit 1 before reading stdin" {
    metrics_error "$(T nodir)/m.prom"
    grep -q 'No such file or directory' "$(T err)"
}

@test "--metrics under a path whose directory is a file: exit 1 before reading stdin" {
    : >"$(T plain)"
    metrics_error "$(T plain)/m.prom"
    metrics_error /dev/null/m.prom -e upper
}

@test "--metrics in a read-only directory: exit 1 before reading stdin" {
    mkdir "$(T ro)"
    if [ "$(id -u)" -ne 0 ]; then
        chmod 555 "$(T ro)"
        metrics_error "$(T ro)/m.prom"
        return
    fi
    # root writes through chmod 555: mount a read-only file system there in
    # a mount namespace of weir's own
    unshare -m sh -c 'mount -t tmpfs -o ro,size=64k tmpfs "$1"' sh "$(T ro)" 2>/dev/null ||
        skip "root, and cannot mount a read-only file system (unshare -m)"
    cat >"$(T in-ro)" <<'EOF'
#!/bin/sh
dir=$1
shift
mount -t tmpfs -o ro,size=64k tmpfs "$dir" && exec "$@"
EOF
    chmod +x "$(T in-ro)"
    RUNNER="unshare -m $(T in-ro) $(T ro)" metrics_error "$(T ro)/m.prom"
    grep -q 'Read-only file system' "$(T err)"
}

# remove_dir DIR: removes DIR and what is in it; true once it is gone.
remove_dir() {
    rm -rf "$1" 2>/dev/null
    [ ! -e "$1" ]
}

@test "--metrics: its directory removed mid-run: one warning, the run goes on, exit 0" {
    mkdir "$(T mdir)"
    start_weir -q -i 50ms --metrics "$(T mdir)/m.prom" -e upper
    seq 1 100 >&$W
    wait_until 10 lines_at_least 100 "$(T out)" || fail "no output"
    # weir may create its temporary file there while rm runs: retry
    wait_until 5 remove_dir "$(T mdir)" || fail "cannot remove $(T mdir)"
    wait_until 10 file_nonempty "$(T err)" || fail "no warning"
    sleep 0.3 # more intervals that fail too
    seq 101 200 >&$W
    exec {W}>&-
    RC=0
    wait "$PID" || RC=$?
    [ "$RC" -eq 0 ] || fail "exit $RC: $(cat "$(T err)")"
    seq 1 200 >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
    [ "$(wc -l <"$(T err)")" -eq 1 ] || fail "not one warning: $(cat "$(T err)")"
    grep -qF "weir: --metrics $(T mdir)/m.prom: " "$(T err)" || fail "warning: $(cat "$(T err)")"
}

# ------------------------------------------------------ --progress, no terminal

@test "--progress onto a file: plain lines once a second, no escapes, then the summary" {
    seq 1 200 >"$(T in)"
    wrun --progress -j 1 -e sleep:10ms <"$(T in)" # about 2 s
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    ! grep -q $'[\r\033]' "$ERR" || fail "escape bytes: $(od -c "$ERR" | head)"
    local n first_summary last_progress elapsed
    n=$(grep -c '^weir [0-9]' "$ERR")
    first_summary=$(grep -n '^weir: 200 records in ' "$ERR" | cut -d: -f1)
    last_progress=$(grep -n '^weir [0-9]' "$ERR" | tail -n 1 | cut -d: -f1)
    [ -n "$first_summary" ] || fail "no summary: $stderr"
    [ "$n" -ge 2 ] || fail "$n progress lines in a 2 s run: $stderr"
    [ "$last_progress" -lt "$first_summary" ] || fail "progress after the summary: $stderr"
    # stdin is a regular file: share done and ETA
    grep '^weir [0-9]' "$ERR" | grep -v ' ETA ' | grep -q . && fail "a line without ETA: $stderr"
    # only progress lines and the summary
    [ "$(grep -vcE '^weir( [0-9]|: )' "$ERR")" -eq 0 ] || fail "$stderr"
    elapsed=$(grep -oE 'in [0-9.]+ s:' "$ERR" | grep -oE '[0-9.]+')
    awk -v n="$n" -v e="$elapsed" 'BEGIN { exit !(n <= e + 2) }' ||
        fail "$n lines in $elapsed s: more than one a second"
}

@test "--no-progress, -q, -q --progress with stderr a file" {
    seq 1 20 >"$(T in)"
    wrun --no-progress -j 1 -e sleep:10ms <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(grep -vc '^weir: ' "$ERR")" -eq 0 ] || fail "--no-progress: $stderr"
    grep -q '^weir: 20 records in ' "$ERR"
    wrun -q -j 1 -e sleep:10ms <"$(T in)"
    [ "$status" -eq 0 ]
    [ ! -s "$ERR" ] || fail "-q: $stderr"
    wrun -q --progress -j 1 -e sleep:10ms <"$(T in)"
    [ "$status" -eq 0 ]
    grep -q '^weir [0-9]' "$ERR" || fail "-q --progress: no progress line"
    [ "$(grep -vc '^weir [0-9]' "$ERR")" -eq 0 ] || fail "-q --progress: $stderr"
}

# --------------------------------------------------------- on a terminal (tmux)

# tty_sh WIDTH CMD: runs shell command CMD, which ends with weir's exit
# status, on a WIDTH x 24 tmux pane; $(T raw) gets every byte the terminal
# gets, then "[end]" once CMD is done; $(T rc) gets the exit status.
tty_sh() {
    command -v tmux >/dev/null || skip "tmux is not installed"
    local width=$1 cmd
    TMUX_SOCK=$(T tmux.sock)
    cmd="while [ ! -e '$(T go)' ]; do sleep 0.01; done; $2"
    cmd+="; echo \$? >'$(T rc)'; echo '[end]'; exec sleep 600"
    tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s weir -x "$width" -y 24 "$cmd" 3>&-
    tmux -S "$TMUX_SOCK" pipe-pane -t weir "cat >'$(T raw)'" 3>&-
    touch "$(T go)"
}

# tty_run WIDTH ARGS...: tty_sh WIDTH "weir ARGS <$(T in) >/dev/null": only
# stderr on the pane.
tty_run() {
    local width=$1 a cmd="'$WEIR'"
    shift
    for a in "$@"; do cmd+=" '$a'"; done
    tty_sh "$width" "$cmd <'$(T in)' >/dev/null"
}

pane() { tmux -S "$TMUX_SOCK" capture-pane -p -t weir; }

tty_ended() { grep -qF '[end]' "$(T raw)" 2>/dev/null; }

# tty_wait: waits for the end of the run; checks exit 0.
tty_wait() {
    wait_until 60 tty_ended || fail "weir did not end: $(pane)"
    [ "$(cat "$(T rc)")" -eq 0 ] || fail "exit $(cat "$(T rc)"): $(pane)"
}

# progress_pane MAX TEXT: TEXT (what the pane shows) is one line, weir's
# progress line, at most MAX columns wide: narrow, it may have given up
# all but the queue, shed and failed counts, which always end it. The line
# is in $LINE.
progress_pane() {
    local text
    text=$(grep -v '^$' <<<"$2")
    [ "$(printf '%s\n' "$text" | wc -l)" -eq 1 ] || return 1
    LINE=$text
    [[ $LINE =~ ^(weir\ .*\|\ )?queue\ [0-9]+/[0-9-]+\ \|\ shed\ [0-9]+\ failed\ [0-9]+$ ]] &&
        [ "${#LINE}" -le "$1" ]
}

# one_progress_line MAX: progress_pane MAX on what the pane shows now.
one_progress_line() {
    progress_pane "$1" "$(pane)"
}

# draws FILE: the text of each in-place redraw in raw terminal bytes FILE
# ("\r" line "\033[K"), one a line.
draws() {
    awk 'BEGIN { RS = "\033\\[K" } { n = split($0, p, "\r"); if (p[n] != "") print p[n] }' "$1"
}

@test "terminal: --progress redraws one line in place, never wider than the pane, cleared before the summary" {
    seq 1 2000 >"$(T in)" # -e sleep:1ms -j 1: about 2 s
    tty_run 80 --progress -j 1 -e sleep:1ms
    wait_until 10 one_progress_line 79 || fail "no progress line: $(pane)"
    [[ $LINE =~ ^weir\ [0-9]+:[0-9]{2}\ .*ETA ]] || fail "no elapsed time and ETA at 80: $LINE"
    local i p
    for ((i = 0; i < 5; i++)); do
        sleep 0.2
        p=$(pane)
        # cleared, or the summary: the run is over
        [[ -z ${p//$'\n'/} || $p == *'weir: '* ]] && break
        progress_pane 79 "$p" || fail "not one progress line within 80 columns: $p"
    done
    tty_wait
    wait_until 5 grep -q 'exit 0' "$(T raw)" || fail "no summary: $(pane)"
    # every redraw fits in the pane (less than a whole row: no wrapping)
    draws "$(T raw)" | awk 'length($0) > 79 { print; bad = 1 } END { exit bad }' >&2 ||
        fail "a redraw is wider than 79 columns"
    local n elapsed
    n=$(draws "$(T raw)" | grep -c '^weir [0-9]')
    elapsed=$(grep -aoE 'in [0-9.]+ s:' "$(T raw)" | grep -oE '[0-9.]+')
    [ "$n" -ge 2 ] || fail "$n redraws"
    awk -v n="$n" -v e="$elapsed" 'BEGIN { exit !(n <= e * 10 + 3) }' ||
        fail "$n redraws in $elapsed s: more than 10 a second"
    # the line is erased, then the summary starts at the left margin
    grep -aqF $'\r\033[Kweir: 2000 records in ' "$(T raw)" ||
        fail "the summary does not follow a cleared line: $(od -c "$(T raw)" | tail -20)"
    pane | grep -q '^weir: 2000 records in ' || fail "pane: $(pane)"
    ! pane | grep -qE 'ETA|\|' || fail "progress text left on the pane: $(pane)"
}

@test "terminal: the progress line is on by default and follows a resize" {
    seq 1 2000 >"$(T in)"
    tty_run 80 -j 1 -e sleep:1ms
    wait_until 10 one_progress_line 79 || fail "no progress line by default: $(pane)"
    [ "${#LINE}" -gt 40 ] || fail "the line is short at 80 columns already: $LINE"
    tmux -S "$TMUX_SOCK" resize-window -t weir -x 40 -y 24 ||
        skip "this tmux cannot resize a window (needs tmux 2.9 or later)"
    wait_until 5 one_progress_line 39 || fail "the line does not fit in 40 columns: $(pane)"
    tty_wait
    # once a redraw fits in 40 columns, every later one does too
    draws "$(T raw)" | grep -E '^(weir [0-9|]|queue )' |
        awk 'length($0) < 40 { narrow = 1 } narrow && length($0) >= 40 { print; bad = 1 }
             END { exit bad || !narrow }' >&2 || fail "a redraw after the resize is too wide"
    grep -aqF $'\r\033[Kweir: 2000 records in ' "$(T raw)" || fail "summary: $(pane)"
}

# shed_on_line: the pane shows one progress line within 79 columns, with
# records shed.
shed_on_line() {
    one_progress_line 79 && [[ $LINE =~ \|\ shed\ [1-9][0-9]*\ failed\ 0$ ]]
}

@test "terminal: at 80 columns under -p drop the line gives up byte figures, not the shed count" {
    seq 1 100000 >"$(T in)" # read at once, all but a few shed; the drain takes 2 s or more
    tty_run 80 -p drop -c 10 -j 1 -e sleep:200ms
    wait_until 20 shed_on_line || fail "no shed count on the line: $(pane)"
    [[ $LINE == *ETA* && $LINE == *'| queue '* ]] || fail "ETA or queue missing: $LINE"
    [[ $LINE != *B/s* && $LINE != *iB* ]] || fail "byte figures kept before the shed count: $LINE"
    tty_wait
}

# records_apart RAW N: in terminal bytes RAW, before the summary, the
# records 1..N each start a row of their own: at the start, after a line
# break, or after the progress line was erased ("\r\033[K"), never after
# progress text.
records_apart() {
    N=$2 perl -0777 -ne '
        $_ = substr($_, 0, index($_, "weir: $ENV{N} records in"));
        my ($n, $bad) = (0, 0);
        while (/([0-9]+)\r\n/g) {
            my $before = substr($_, 0, $-[0]);
            $n++;
            next if $before eq "" || $before =~ /(?:\r\033\[K|\n)\z/;
            $bad = 1;
            print STDERR "record $1 after: ", substr($before, -40) =~ s/\033/^[/gr, "\n";
        }
        exit($bad || $n != $ENV{N});
    ' "$1"
}

@test "terminal: stdout on the same terminal: no progress line by default, records each on a row" {
    tty_sh 80 "seq 8 | '$WEIR' -r 4/s"
    tty_wait
    [ "$(pane | head -n 8)" = "$(seq 8)" ] || fail "records: $(pane)"
    pane | sed -n 9p | grep -q '^weir: 8 records in ' || fail "summary: $(pane)"
    ! grep -aq $'\033' "$(T raw)" || fail "a progress line was drawn: $(od -c "$(T raw)" | head)"
    records_apart "$(T raw)" 8 || fail "a record shares a row: $(od -c "$(T raw)" | head -20)"
}

@test "terminal: --progress with stdout on the same terminal: the line never shares a row with a record" {
    tty_sh 80 "seq 8 | '$WEIR' --progress -r 4/s" # about 2 s, a record each 250 ms
    tty_wait
    [ "$(pane | head -n 8)" = "$(seq 8)" ] || fail "records: $(pane)"
    pane | sed -n 9p | grep -q '^weir: 8 records in ' || fail "summary: $(pane)"
    # the line was drawn while the records came, and erased before the summary
    perl -0777 -ne 'exit !/\rweir [0-9]+:[0-9]{2} [^\n]*\033\[K\r\033\[K8\r\n/' "$(T raw)" ||
        fail "no progress line before the last record: $(od -c "$(T raw)" | tail -20)"
    grep -aqF $'\r\033[Kweir: 8 records in ' "$(T raw)" || fail "summary: $(od -c "$(T raw)" | tail)"
    records_apart "$(T raw)" 8 || fail "a record shares a row: $(od -c "$(T raw)" | head -20)"
}

@test "terminal: no progress line with -q, nor with --no-progress" {
    seq 1 300 >"$(T in)"
    tty_run 80 -q -j 1 -e sleep:1ms
    tty_wait
    [ "$(cat "$(T raw)")" = $'[end]\r' ] || fail "-q on a terminal: $(od -c "$(T raw)" | head)"
    tmux -S "$TMUX_SOCK" kill-server
    rm -f "$(T go)" "$(T raw)" "$(T rc)"
    tty_run 80 --no-progress -j 1 -e sleep:1ms
    tty_wait
    # the summary, its newlines as \r\n on a terminal: no other \r, no escape
    ! grep -aq $'\033' "$(T raw)" || fail "escape sequence: $(od -c "$(T raw)" | head)"
    ! grep -aqP '\r(?!\n|$)' "$(T raw)" || fail "a carriage return: $(od -c "$(T raw)" | head)"
    grep -aq '^weir: 300 records in ' "$(T raw)"
}

# ----------------------------------------------------------------- bad values

# usage_error PATTERN ARGS...: as in usage.bats: exit 2, nothing on stdout,
# one stderr line starting "weir: " matching PATTERN and pointing to --help,
# nothing read from stdin.
usage_error() {
    local pattern=$1
    shift
    local in out err rc=0
    in=$(T in) out=$(T out) err=$(T err)
    seq 1 1000 >"$in"
    { "$WEIR" "$@" >"$out" 2>"$err" || rc=$?; cat >"$(T rest)"; } <"$in"
    [ "$rc" -eq 2 ] || fail "weir $*: exit $rc, expected 2; stderr: $(cat "$err")"
    [ ! -s "$out" ] || fail "weir $*: wrote to stdout: $(head -c 200 "$out")"
    [ "$(wc -l <"$err")" -eq 1 ] || fail "weir $*: expected one stderr line: $(cat "$err")"
    grep -q '^weir: ' "$err" || fail "weir $*: stderr does not start with 'weir: ': $(cat "$err")"
    grep -q -e '--help' "$err" || fail "weir $*: no --help hint: $(cat "$err")"
    grep -Eq -e "$pattern" "$err" || fail "weir $*: stderr does not match /$pattern/: $(cat "$err")"
    same_file "$in" "$(T rest)" || fail "weir $*: consumed stdin on a usage error"
}

@test "usage: -i 0" { usage_error '-i|--interval' -i 0; }
@test "usage: -i -1s" { usage_error '-i|--interval' -i -1s; }
@test "usage: -i abc" { usage_error '-i|--interval' -i abc; }
@test "usage: --interval=0s" { usage_error '--interval' --interval=0s; }
@test "usage: --progress --no-progress" {
    usage_error '--progress.*--no-progress|--no-progress.*--progress' --progress --no-progress
}

# ------------------------------------------------------------------ workers

@test "workers: the threads that ran; workers_requested: -j" {
    seq 1 100 >"$(T in)"
    wrun -j 3 --stats json <"$(T in)" # cat: one worker is enough
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    [ "$(jget "$ERR" .workers)" -eq 1 ] || fail "$stderr"
    [ "$(jget "$ERR" .workers_requested)" -eq 3 ] || fail "$stderr"
    wrun -j 3 <"$(T in)"
    grep -q '^weir:   workers 1 of 3 requested, ' "$ERR" || fail "$stderr"
    wrun -j 3 -e upper --stats json --metrics "$(T m.prom)" <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(jget "$ERR" .workers)" -eq 3 ] || fail "$stderr"
    [ "$(jget "$ERR" .workers_requested)" -eq 3 ] || fail "$stderr"
    [ "$(metric "$(T m.prom)" weir_workers)" -eq 3 ]
    [ "$(metric "$(T m.prom)" weir_workers_requested)" -eq 3 ]
    wrun -j 3 -e upper <"$(T in)"
    grep -q '^weir:   workers 3, ' "$ERR" || fail "$stderr"
}
