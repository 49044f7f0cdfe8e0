#!/bin/sh
# fnlen.sh [LIMIT] - lists the functions in src/ longer than LIMIT lines
# (default 80), body braces included; exits 1 when there is one. Relies on
# the tree's format: a function's braces sit alone in column 0.
limit=${1:-80}
awk -v limit="$limit" '
    /^{$/ { start = FNR; name = prev }
    /^}/ && start { n = FNR - start + 1; if (n > limit) { print FILENAME ": " name " (" n " lines)"; bad = 1 } start = 0 }
    { prev = $0 }
    END { exit bad }
' src/*.c
