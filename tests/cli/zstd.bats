#!/usr/bin/env bats
# zstd on both ends (weir(1), COMPRESSION): zstd input decoded by its magic
# (--decompress), -z/--level/--compress-threads/-f writing zstd, FILE.zst
# rejects; interop with the zstd CLI both ways, the compressed byte counts,
# damaged input, usage errors, and a complete frame on every way out.

load helper

setup() {
    command -v zstd >/dev/null || skip "the zstd CLI is not installed"
}

# ------------------------------------------------------------------ helpers

# errors FILE: the stderr lines that are not the JSON summary.
errors() {
    grep -v '^{' "$1" || true
}

# one_error FILE PATTERN: exactly one such line, "weir: ..." matching the ERE.
one_error() {
    local n
    n=$(errors "$1" | wc -l)
    [ "$n" -eq 1 ] || fail "expected one error line, got $n: $(cat "$1")"
    errors "$1" | grep -Eq "^weir: .*$2" || fail "error line does not match /$2/: $(errors "$1")"
}

# named_byte FILE: N from the error line's "compressed byte N".
named_byte() {
    errors "$1" | sed -n 's/.*compressed byte \([0-9][0-9]*\).*/\1/p'
}

# is_prefix FILE WHOLE: FILE is the first bytes of WHOLE.
is_prefix() {
    cmp -s "$1" <(head -c "$(stat -c %s "$1")" "$2") ||
        fail "$1 is not a prefix of $2"
}

# byte FILE OFF: the byte at OFF, as a number.
byte() {
    od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' '
}

# poke FILE OFF VALUE: overwrites the byte at OFF.
poke() {
    printf "\\x$(printf %02x "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# block_at FILE K: the offset of block K's header (0: the first) in the
# frame that starts FILE (RFC 8878: frame header, then 3-byte block headers).
block_at() {
    local f=$1 k=$2 fhd off h i
    fhd=$(byte "$f" 4)
    local single=$(((fhd >> 5) & 1)) fcs=$((fhd >> 6)) did_size=(0 1 2 4) fcs_size=(0 2 4 8)
    off=$((5 + 1 - single + did_size[fhd & 3] + fcs_size[fcs]))
    ((fcs == 0 && single)) && off=$((off + 1))
    for ((i = 0; i < k; i++)); do
        h=$(($(byte "$f" "$off") | $(byte "$f" $((off + 1))) << 8 | $(byte "$f" $((off + 2))) << 16))
        if ((((h >> 1) & 3) == 1)); then off=$((off + 4)); else off=$((off + 3 + (h >> 3))); fi
    done
    ((off + 3 <= $(stat -c %s "$f"))) || fail "$f has no block $k"
    echo "$off"
}

# skippable PAYLOAD: a skippable frame (magic 0x184D2A50 little-endian, 4-byte
# little-endian size, payload) on stdout.
skippable() {
    local n=${#1}
    printf '\x50\x2a\x4d\x18'
    printf "\\x$(printf %02x $((n & 255)))\\x$(printf %02x $((n >> 8 & 255)))\\x00\\x00"
    printf '%s' "$1"
}

# decodes_to N FILE: zstd -dc of what FILE holds so far (an unfinished frame
# is fine) gives at least N lines.
decodes_to() {
    [ "$(zstd -dc "$2" 2>/dev/null | wc -l)" -ge "$1" ]
}

finish_weir() {
    RC=0
    wait "$PID" || RC=$?
    if [ -n "${W:-}" ]; then exec {W}>&-; fi
}

# zusage PATTERN ARGS...: weir ARGS exits 2 with one stderr line "weir: ..."
# matching PATTERN, writes nothing and reads nothing of stdin (a file shared
# with cat: whatever weir read would be missing from cat's copy).
zusage() {
    local pattern=$1 rc=0
    shift
    seq 1 1000 >"$(T in)"
    { "$WEIR" "$@" >"$(T out)" 2>"$(T err)" || rc=$?; cat >"$(T rest)"; } <"$(T in)"
    [ "$rc" -eq 2 ] || fail "weir $*: exit $rc: $(cat "$(T err)")"
    [ ! -s "$(T out)" ] || fail "weir $*: wrote to stdout"
    [ "$(wc -l <"$(T err)")" -eq 1 ] || fail "weir $*: stderr: $(cat "$(T err)")"
    grep -Eq "^weir: .*$pattern" "$(T err)" || fail "weir $*: not /$pattern/: $(cat "$(T err)")"
    same_file "$(T in)" "$(T rest)" || fail "weir $*: read stdin"
}

# on_tty COMMAND: runs the sh command COMMAND on a new terminal (script(1),
# else tmux); what the terminal shows goes to $(T tty) (not with tmux).
# Sets $status.
on_tty() {
    status=0
    if command -v script >/dev/null; then
        timeout 30 script -qec "$1" /dev/null >"$(T tty)" </dev/null || status=$?
    elif command -v tmux >/dev/null; then
        local sock="weir-test-$$"
        : >"$(T tty)"
        tmux -L "$sock" new-session -d "$1; echo \$? >'$(T tty.rc)'"
        wait_until 30 test -s "$(T tty.rc)" || status=124
        tmux -L "$sock" kill-server 2>/dev/null || true
        [ "$status" -ne 0 ] || status=$(cat "$(T tty.rc)")
    else
        skip "neither script(1) nor tmux to give weir a terminal"
    fi
}

# ---------------------------------------------------------- zstd -> weir

@test "interop in: what zstd -1, -3, -19 and -T2 wrote, weir reads as the plain input" {
    seq 1 40000 >"$(T in)" # 229 KiB: two blocks
    local opts
    for opts in -1 -3 -19 "-3 -T2"; do
        # shellcheck disable=SC2086 # opts are words
        zstd -q $opts -c <"$(T in)" >"$(T in.zst)"
        wrun --stats json <"$(T in.zst)"
        [ "$status" -eq 0 ] || fail "zstd $opts: exit $status: $stderr"
        same_file "$(T in)" "$OUT" || fail "zstd $opts"
        [ "$(jget "$ERR" .records_in)" -eq 40000 ]
    done
}

@test "interop in: zstd --long=31 (a 2 GiB window, which zstd -d itself only takes with --long=31)" {
    seq 1 100000 >"$(T in)"
    # from a pipe the size is unknown, so the frame declares the whole window
    zstd -q --long=31 -c <"$(T in)" >"$(T in.zst)"
    ! zstd -q -dc "$(T in.zst)" >/dev/null 2>&1 || fail "zstd decoded it without --long=31"
    zstd -q -dc --long=31 "$(T in.zst)" | cmp -s - "$(T in)"
    wrun <"$(T in.zst)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
}

@test "interop in: concatenated frames with a skippable frame between; a record spans the frames" {
    seq 1 30000 >"$(T in)"
    head -c 100001 "$(T in)" >"$(T a)" # ends inside a line
    tail -c +100002 "$(T in)" >"$(T b)"
    zstd -q -c "$(T a)" >"$(T a.zst)"
    zstd -q -1 -c "$(T b)" >"$(T b.zst)"
    { skippable "first"; cat "$(T a.zst)"; skippable "metadata"; cat "$(T b.zst)"; } >"$(T in.zst)"
    wrun --stats json <"$(T in.zst)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in)" "$OUT"
    [ "$(jget "$ERR" .records_in)" -eq 30000 ]
    [ "$(jget "$ERR" .compressed_bytes_in)" -eq "$(stat -c %s "$(T in.zst)")" ]
    # cat a.zst b.zst, as zstd's docs suggest for appending
    cat "$(T a.zst)" "$(T b.zst)" | "$WEIR" -q >"$(T out2)"
    same_file "$(T in)" "$(T out2)"
}

# ---------------------------------------------------------- weir -> zstd

@test "interop out: -z at levels -5, 1, 3 and 19, and with --compress-threads 2: zstd -t is clean, zstd -dc gives the input" {
    seq 1 40000 >"$(T in)"
    local opts
    for opts in "--level -5" "--level 1" "" "--level 19" "--compress-threads 2"; do
        # shellcheck disable=SC2086 # opts are words
        wrun -z $opts <"$(T in)"
        [ "$status" -eq 0 ] || fail "-z $opts: exit $status: $stderr"
        zstd -q -t "$OUT" || fail "-z $opts: zstd -t"
        zstd -q -dc "$OUT" >"$(T dec)"
        same_file "$(T in)" "$(T dec)" || fail "-z $opts"
    done
}

@test "interop out: -z -j4 --op upper: the upper-cased records, in order" {
    seq -f 'record %g' 1 50000 >"$(T in)"
    wrun -z -j4 --op upper <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    tr a-z A-Z <"$(T in)" >"$(T exp)"
    zstd -q -dc "$OUT" >"$(T dec)"
    same_file "$(T exp)" "$(T dec)"
}

# ------------------------------------------------------------------ counts

@test "counts: bytes and records are decompressed figures; compressed_bytes_in is the .zst's size" {
    seq 1 100000 >"$(T in)"
    zstd -q -c "$(T in)" >"$(T in.zst)"
    wrun --stats json <"$(T in.zst)"
    [ "$status" -eq 0 ]
    [ "$(jget "$ERR" .records_in)" -eq 100000 ]
    [ "$(jget "$ERR" .bytes_in)" -eq "$(stat -c %s "$(T in)")" ]
    [ "$(jget "$ERR" .bytes_out)" -eq "$(stat -c %s "$(T in)")" ]
    [ "$(jget "$ERR" .compressed_bytes_in)" -eq "$(stat -c %s "$(T in.zst)")" ]
    [ "$(jget "$ERR" 'has("compressed_bytes_out")')" = false ]
    check_invariant "$ERR"
    # the text summary shows both sizes
    wrun <"$(T in.zst)"
    grep -Eq '^weir: 100000 records in \([0-9.]+ KiB; [0-9.]+ KiB zstd\)' "$ERR" ||
        fail "text summary: $stderr"
}

@test "counts: with -z, compressed_bytes_out is the output's size and bytes_out the size before" {
    seq 1 100000 >"$(T in)"
    wrun -z --stats json <"$(T in)"
    [ "$status" -eq 0 ]
    [ "$(jget "$ERR" .compressed_bytes_out)" -eq "$(stat -c %s "$OUT")" ]
    [ "$(jget "$ERR" .bytes_out)" -eq "$(stat -c %s "$(T in)")" ]
    [ "$(jget "$ERR" .bytes_in)" -eq "$(stat -c %s "$(T in)")" ]
    [ "$(jget "$ERR" 'has("compressed_bytes_in")')" = false ]
    wrun -z <"$(T in)"
    grep -Eq '^weir: +out 100000 records \([0-9.]+ KiB; [0-9.]+ KiB zstd\)' "$ERR" ||
        fail "text summary: $stderr"
    # neither key when nothing is compressed
    wrun --stats json <"$(T in)"
    [ "$(jget "$ERR" '[has("compressed_bytes_in"), has("compressed_bytes_out")] | any')" = false ]
}

# -------------------------------------------------------------- --decompress

@test "--decompress no passes a .zst through byte for byte" {
    seq 1 10000 | zstd -q -c >"$(T in.zst)"
    wrun --decompress no --stats json <"$(T in.zst)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    same_file "$(T in.zst)" "$OUT"
    [ "$(jget "$ERR" .bytes_in)" -eq "$(stat -c %s "$(T in.zst)")" ]
    [ "$(jget "$ERR" 'has("compressed_bytes_in")')" = false ]
}

@test "--decompress yes: a .zst is decoded; plain text or empty input is exit 1 with one line" {
    seq 1 1000 >"$(T in)"
    zstd -q -c "$(T in)" >"$(T in.zst)"
    wrun --decompress yes <"$(T in.zst)"
    [ "$status" -eq 0 ]
    same_file "$(T in)" "$OUT"
    wrun --decompress yes --stats json <"$(T in)"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    one_error "$ERR" 'not zstd'
    [ ! -s "$OUT" ]
    [ "$(jget "$ERR" .records_in)" -eq 0 ]
    wrun --decompress yes --stats json </dev/null
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    one_error "$ERR" 'zstd'
}

@test "auto: empty input and an empty zstd frame are 0 records, exit 0" {
    wrun --stats json </dev/null
    [ "$status" -eq 0 ]
    [ "$(jget "$ERR" .records_in)" -eq 0 ]
    printf '' | zstd -q -c >"$(T empty.zst)"
    wrun --stats json <"$(T empty.zst)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [ ! -s "$OUT" ]
    [ "$(jget "$ERR" .records_in)" -eq 0 ]
    [ "$(jget "$ERR" .compressed_bytes_in)" -eq "$(stat -c %s "$(T empty.zst)")" ]
}

# ------------------------------------------------------------ damaged input

# A multi-block .zst of 2 MB of numbers (16 blocks of 128 KiB), with a checksum.
big_zst() {
    seq 1 300000 >"$(T in)"
    zstd -q -1 --check -c "$(T in)" >"$(T in.zst)"
}

@test "damaged: a truncated .zst is exit 1, one line naming the byte it ends at, every record before written" {
    big_zst
    local n=$(($(stat -c %s "$(T in.zst)") / 2))
    head -c "$n" "$(T in.zst)" >"$(T cut.zst)"
    wrun --stats json <"$(T cut.zst)"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    one_error "$ERR" "truncated.*compressed byte $n\$"
    zstd -dc "$(T cut.zst)" >"$(T exp)" 2>/dev/null || true
    [ -s "$(T exp)" ]
    same_file "$(T exp)" "$OUT"
    check_invariant "$ERR"
    [ "$(jget "$ERR" .bytes_in)" -eq "$(stat -c %s "$(T exp)")" ]
}

# A flipped byte inside a block's content is usually noticed only by the
# checksum at the end; a block header of the reserved type is noticed where
# it is. Flip that (dd conv=notrunc) in the middle of the file.
@test "damaged: a corrupt block is exit 1, one line naming a byte not after it, records before it written" {
    big_zst
    local off
    off=$(block_at "$(T in.zst)" 8)
    head -c "$off" "$(T in.zst)" | zstd -dc 2>/dev/null >"$(T exp)" || true # all before it
    poke "$(T in.zst)" "$off" $(($(byte "$(T in.zst)" "$off") | 6))
    wrun --stats json <"$(T in.zst)"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    one_error "$ERR" 'corrupt zstd input.*compressed byte [0-9]+$'
    [ "$(named_byte "$ERR")" -le $((off + 2)) ]
    is_prefix "$OUT" "$(T in)"
    check_invariant "$ERR"
    same_file "$(T exp)" "$OUT"
}

@test "damaged: a checksum mismatch is exit 1, one line naming a byte, records before written" {
    big_zst
    local size
    size=$(stat -c %s "$(T in.zst)")
    poke "$(T in.zst)" $((size - 2)) $(($(byte "$(T in.zst)" $((size - 2))) ^ 255))
    wrun --stats json <"$(T in.zst)"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    one_error "$ERR" 'checksum.*compressed byte [0-9]+$'
    [ "$(named_byte "$ERR")" -lt "$size" ]
    is_prefix "$OUT" "$(T in)" # the content itself is intact
    check_invariant "$ERR"
    same_file "$(T in)" "$OUT"
}

@test "damaged: garbage after a valid frame is exit 1, one line naming where it starts, the frame written" {
    seq 1 10000 >"$(T in)"
    zstd -q -c "$(T in)" >"$(T in.zst)"
    local size
    size=$(stat -c %s "$(T in.zst)")
    printf 'garbage here\n' >>"$(T in.zst)"
    wrun --stats json <"$(T in.zst)"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    one_error "$ERR" "corrupt zstd input.*compressed byte $size\$"
    same_file "$(T in)" "$OUT"
    check_invariant "$ERR"
}

# ------------------------------------------------------------- usage errors

@test "usage: --level 99" { zusage '--level' -z --level 99; }
@test "usage: --level abc" { zusage '--level' -z --level abc; }
@test "usage: --level -101" { zusage '--level' -z --level -101; }
@test "usage: --compress-threads -1" { zusage '--compress-threads' -z --compress-threads=-1; }
@test "usage: --level 3 without -z" { zusage '--level.*-z' --level 3; }
@test "usage: --compress-threads 2 without -z" { zusage '--compress-threads.*-z' --compress-threads 2; }
@test "usage: --decompress maybe" { zusage '--decompress' --decompress maybe; }

@test "-z onto a terminal is refused (exit 2, one line) unless -f" {
    seq 1 1000 >"$(T in)"
    on_tty "'$WEIR' -z <'$(T in)' 2>'$(T err)'"
    [ "$status" -eq 2 ] || fail "exit $status: $(cat "$(T err)")"
    [ "$(wc -l <"$(T err)")" -eq 1 ]
    grep -q 'terminal' "$(T err)"
    [ ! -s "$(T tty)" ] || fail "wrote to the terminal: $(head -c 100 "$(T tty)" | od -c | head -3)"
    # -f: written (raw, so the terminal passes the bytes as they are)
    on_tty "stty raw -echo; '$WEIR' -z -f --stats json <'$(T in)' 2>'$(T err)'"
    [ "$status" -eq 0 ] || fail "-f: exit $status: $(cat "$(T err)")"
    [ "$(jget "$(T err)" .compressed_bytes_out)" -gt 0 ]
    if [ -s "$(T tty)" ]; then # script(1) keeps what the terminal showed
        zstd -q -dc "$(T tty)" >"$(T dec)"
        same_file "$(T in)" "$(T dec)"
    fi
}

# ---------------------------------------------- the frame ends on every exit

# frame_ends SIG STATUS N ARGS...: weir -z ARGS gets N records through the
# fifo and SIG once they decode from what it wrote; it exits STATUS, and
# its output is a complete .zst of the N records.
frame_ends() {
    local sig=$1 code=$2 n=$3
    shift 3
    start_weir -z --stats json "$@"
    seq 1 "$n" >&$W
    # the idle flush ends a block: what the file holds decodes already
    wait_until 10 decodes_to "$n" "$(T out)" || fail "records not written"
    kill -"$sig" "$PID"
    finish_weir
    [ "$RC" -eq "$code" ] || fail "exit $RC: $(cat "$(T err)")"
    zstd -q -t "$(T out)"
    zstd -q -dc "$(T out)" >"$(T dec)"
    seq 1 "$n" >"$(T exp)"
    same_file "$(T exp)" "$(T dec)"
    [ "$(jget "$(T err)" .compressed_bytes_out)" -eq "$(stat -c %s "$(T out)")" ]
}

@test "SIGINT: exit 130, the output is a complete .zst of the records fed" {
    frame_ends INT 130 500
}

@test "SIGTERM: exit 143, the output is a complete .zst of the records fed" {
    frame_ends TERM 143 1000 -j 2 --compress-threads 2
}

@test "-p fail overload: exit 75, the output is a complete .zst of the records done" {
    seq 1 100000 >"$(T in)"
    wrun -z -p fail -c 1 -j 1 --op sleep:20ms --stats json <"$(T in)"
    [ "$status" -eq 75 ] || fail "exit $status: $stderr"
    zstd -q -t "$OUT"
    zstd -q -dc "$OUT" >"$(T dec)"
    [ "$(wc -l <"$(T dec)")" -eq "$(jget "$ERR" .records_out)" ]
    is_prefix "$(T dec)" "$(T in)"
    check_invariant "$ERR"
}

@test "--on-error fail with a COMMAND: exit 1, the output is a complete .zst of the records done" {
    seq 1 200 >"$(T in)"
    wrun -z --on-error fail --stats json sh -c 'read x; [ "$x" -ne 20 ] && echo "$x"' <"$(T in)"
    [ "$status" -eq 1 ] || fail "exit $status: $stderr"
    zstd -q -t "$OUT"
    zstd -q -dc "$OUT" >"$(T dec)"
    local n
    n=$(wc -l <"$(T dec)")
    [ "$n" -eq "$(jget "$ERR" .records_out)" ]
    [ "$n" -ge 19 ]
    grep -vx 20 "$(T in)" | head -n "$n" >"$(T exp)"
    same_file "$(T exp)" "$(T dec)"
}

@test "EPIPE with -z: exit 141 quietly (with --stats json, only the summary)" {
    seq 1 1000000 >"$(T in)" # compresses to far more than a pipe holds
    local st
    "$WEIR" -z -q <"$(T in)" 2>"$(T err)" | head -c 100 >/dev/null
    st=("${PIPESTATUS[@]}")
    [ "${st[0]}" -eq 141 ] || fail "weir exit ${st[0]}: $(cat "$(T err)")"
    [ ! -s "$(T err)" ] || fail "stderr: $(cat "$(T err)")"
    "$WEIR" -z --stats json <"$(T in)" 2>"$(T err)" | head -c 100 >/dev/null
    st=("${PIPESTATUS[@]}")
    [ "${st[0]}" -eq 141 ]
    [ "$(wc -l <"$(T err)")" -eq 1 ] || fail "stderr: $(cat "$(T err)")"
    jq -e '.exit == 141' "$(T err)" >/dev/null
}

# ------------------------------------------------------------------ trickle

@test "trickle: with -z each record reaches a decoding weir at once, while weir keeps running" {
    mkfifo "$(T fifo)" "$(T zpipe)"
    "$WEIR" -z -q <"$(T fifo)" >"$(T zpipe)" 2>"$(T err)" 3>&- &
    PID=$!
    BG_PIDS+=("$PID")
    "$WEIR" -q <"$(T zpipe)" >"$(T out)" 2>"$(T err2)" 3>&- &
    local pid2=$!
    BG_PIDS+=("$pid2")
    exec {W}>"$(T fifo)"
    printf 'first\n' >&$W
    wait_until 10 grep -qx first "$(T out)" || fail "first record not through"
    kill -0 "$PID"
    printf 'second\n' >&$W
    wait_until 10 grep -qx second "$(T out)" || fail "second record not through"
    kill -0 "$PID"
    exec {W}>&- # end of input
    W=
    finish_weir
    [ "$RC" -eq 0 ] || fail "weir -z exit $RC: $(cat "$(T err)")"
    wait "$pid2" || fail "decoding weir: $(cat "$(T err2)")"
    printf 'first\nsecond\n' >"$(T exp)"
    same_file "$(T exp)" "$(T out)"
}

# ------------------------------------------------------------------ rejects

@test "--rejects r.zst with -p drop: zstd -dc r.zst gives exactly the shed records" {
    seq 1 5000 >"$(T in)"
    wrun -p drop -c 2 --op sleep:1ms --stats json --rejects "$(T r.zst)" <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    zstd -q -t "$(T r.zst)"
    zstd -q -dc "$(T r.zst)" >"$(T rej)"
    local dropped
    dropped=$(jget "$ERR" .records_dropped)
    [ "$dropped" -gt 0 ]
    [ "$(wc -l <"$(T rej)")" -eq "$dropped" ]
    cat "$OUT" "$(T rej)" | sort -n >"$(T all)"
    same_file "$(T in)" "$(T all)"
}

@test "--rejects r.zst with a failing COMMAND: the failed records; appending keeps both runs" {
    seq 1 20 >"$(T in)"
    wrun --rejects "$(T r.zst)" sh -c 'read x; [ $((x % 3)) -ne 0 ] && echo "$x"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    zstd -q -dc "$(T r.zst)" >"$(T rej)"
    seq 3 3 18 >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
    # a second run appends a second frame
    seq 21 30 >"$(T in)"
    wrun --rejects "$(T r.zst)" sh -c 'read x; [ $((x % 3)) -ne 0 ] && echo "$x"' <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    zstd -q -t "$(T r.zst)"
    zstd -q -dc "$(T r.zst)" >"$(T rej)"
    seq 3 3 30 >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
}

@test "--rejects r.zst after SIGINT: a complete .zst of the records failed so far" {
    start_weir --rejects "$(T r.zst)" sh -c 'exit 1'
    seq 1 5 >&$W
    wait_until 10 decodes_to 5 "$(T r.zst)" || fail "rejects not written: $(cat "$(T err)")"
    kill -INT "$PID"
    finish_weir
    [ "$RC" -eq 130 ] || fail "exit $RC: $(cat "$(T err)")"
    zstd -q -t "$(T r.zst)"
    zstd -q -dc "$(T r.zst)" >"$(T rej)"
    seq 1 5 >"$(T exp)"
    same_file "$(T exp)" "$(T rej)"
}

@test "-z --compress-threads 2: flushes are put off, so jobs stay large and the output small" {
    ((SANITIZED)) && skip "timing of flushes differs too much under sanitizers"
    seq 1 3000000 >"$(T in)"
    wrun -q -z --compress-threads 2 <"$(T in)"
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    zstd -dc <"$OUT" | cmp -s - "$(T in)" || fail "does not decode to the input"
    local ours theirs
    ours=$(stat -c %s "$OUT")
    theirs=$(zstd -3 -T2 -c <"$(T in)" | wc -c)
    echo "# weir $ours bytes, zstd -T2 $theirs bytes" >&3
    ((ours * 10 <= theirs * 16)) || fail "weir wrote $ours bytes, zstd -T2 $theirs"
}
