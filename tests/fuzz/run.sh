#!/bin/sh
# run.sh SECONDS TARGET... - runs each libFuzzer target for SECONDS on a
# copy of its seed corpus (tests/fuzz/corpus/NAME), with its dictionary
# (tests/fuzz/NAME.dict) when there is one. Nothing is written into the
# repository: the working corpus is a temporary directory, crashing inputs
# go to build/fuzz/artifacts/NAME-*, the log to build/fuzz/NAME.log.
# Prints one summary line per target; exits 1 when any target failed.
set -u

secs=$1
shift
here=$(dirname "$0")
out=build/fuzz
mkdir -p "$out/artifacts"
status=0

# Extra flags per target: the zstd source may allocate a 2 GiB window for
# a frame that declares one (SOURCE_WINDOW_LOG_MAX), which is allowed.
flags_for() { # name
    case $1 in
    fuzz_zstd_source) echo "-max_len=16384 -malloc_limit_mb=2560 -rss_limit_mb=2560" ;;
    fuzz_parse) echo "-max_len=512" ;;
    fuzz_cli) echo "-max_len=512" ;;
    *) echo "-max_len=8192" ;;
    esac
}

summary() { # log: the last status line's figures
    grep -E '^#[0-9]+' "$1" | tail -n 1 |
        sed -n 's/^#\([0-9]*\).*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([^ ]*\).*exec\/s: \([0-9]*\).*/runs \1, cov \2, ft \3, corpus \4, exec\/s \5/p'
}

for bin in "$@"; do
    name=$(basename "$bin")
    work=$(mktemp -d "${TMPDIR:-/tmp}/weir-$name.XXXXXX")
    [ -d "$here/corpus/$name" ] && cp "$here/corpus/$name"/* "$work"/ 2>/dev/null
    dict=""
    [ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
    log="$out/$name.log"
    # shellcheck disable=SC2046,SC2086 # separate words; $dict may be empty
    "$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$name-" $dict $(flags_for "$name") \
        "$work" >"$log" 2>&1
    rc=$?
    rm -rf "$work"
    if [ "$rc" -eq 0 ]; then
        printf '%s: ok: %s\n' "$name" "$(summary "$log")"
    else
        status=1
        printf '%s: FAILED (exit %s), see %s:\n' "$name" "$rc" "$log"
        grep -E 'ERROR|SUMMARY|fuzz_[a-z_]*:|Test unit written' "$log" | head -n 20
    fi
done
exit $status
