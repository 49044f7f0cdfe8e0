# nats_helper.bash - a private JetStream server per test, and natstool.
#
#     load helper
#     load nats_helper    # also gives each test its own server (setup/teardown)
#
# NATSTOOL is tests/nats/natstool.c built next to the weir under test
# ($(dirname "$WEIR")/natstool, e.g. build/check/natstool); for the release
# build, WEIR=./weir, that is build/release/natstool. Set NATSTOOL to use
# another. `make check-cli` builds it; by hand:
#     make VARIANT=check build/check/natstool
#
# nats_start [DIR] starts `nats-server -js` on a free loopback port with its
# store in DIR ($BATS_TEST_TMPDIR/nats by default), log in DIR.log, and
# exports NATS_URL, NATS_PORT, NATS_PID, NATS_DIR and NATS_LOG.
# nats_stop stops it (SIGTERM, then waits; idempotent); nats_restart stops
# it and starts it again on the same port and store (the data is kept).
# The server is also in BG_PIDS, so helper.bash's kill_bg kills it if a
# test forgets nats_stop.

if [[ -z ${NATSTOOL:-} ]]; then
    NATSTOOL=$(dirname "$WEIR")/natstool
    [[ -x $NATSTOOL ]] || NATSTOOL=$BATS_TEST_DIRNAME/../../build/release/natstool
fi
case $NATSTOOL in /*) ;; *) NATSTOOL=$PWD/$NATSTOOL ;; esac
export NATSTOOL

# nats_skip_unless_available: not a skip; fails, saying what to do, unless
# nats-server and an up-to-date natstool are there.
nats_skip_unless_available() {
    command -v nats-server >/dev/null 2>&1 ||
        fail "nats-server not found: run \`make deps\` (Debian package nats-server)" || return 1
    [[ -x $NATSTOOL ]] ||
        fail "natstool not found at $NATSTOOL: run \`make VARIANT=check build/check/natstool\`" \
            "(or the variant of $WEIR), or set NATSTOOL" || return 1
    local src=$BATS_TEST_DIRNAME/../nats/natstool.c
    [[ ! -f $src || ! $src -nt $NATSTOOL ]] ||
        fail "$NATSTOOL is older than tests/nats/natstool.c: rebuild it with make" || return 1
}

# _nats_alive PID: the process exists and is not a zombie.
_nats_alive() {
    local st
    st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z ]]
}

# _nats_ready SKIP: the server logged "Server is ready" after line SKIP of
# its log and accepts connections; fails the wait at once (status 2) if
# the server has exited.
_nats_ready() {
    _nats_alive "$NATS_PID" || return 2
    tail -n +$(($1 + 1)) "$NATS_LOG" 2>/dev/null | grep -q 'Server is ready' || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null
}

# _nats_launch PORT: starts the server on PORT and waits up to 10 s for it.
# Status 1 if it exited (e.g. the port was taken), 2 if it was not ready in
# time (then it is stopped).
_nats_launch() {
    local skip i rc
    NATS_PORT=$1
    skip=$(wc -l <"$NATS_LOG")
    nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$NATS_DIR" >>"$NATS_LOG" 2>&1 3>&- &
    NATS_PID=$!
    BG_PIDS+=("$NATS_PID")
    export NATS_PID NATS_PORT NATS_URL=nats://127.0.0.1:$NATS_PORT
    for ((i = 0; i < 1000; i++)); do
        rc=0
        _nats_ready "$skip" || rc=$?
        ((rc == 0)) && return 0
        if ((rc == 2)); then
            wait "$NATS_PID" 2>/dev/null || true
            NATS_PID=
            return 1
        fi
        sleep 0.01
    done
    nats_stop
    return 2
}

# _nats_free_port: a loopback TCP port nobody listens on now.
_nats_free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        [[ -z $(ss -Htln "sport = :$p" 2>/dev/null) ]] || continue
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
        echo "$p"
        return 0
    done
}

# nats_start [DIR]: a fresh server for this test (see the header).
nats_start() {
    nats_skip_unless_available || return 1
    [[ -z ${NATS_PID:-} ]] || fail "nats_start: a server is already running ($NATS_PID)" || return 1
    NATS_DIR=${1:-$BATS_TEST_TMPDIR/nats}
    NATS_LOG=$NATS_DIR.log
    export NATS_DIR NATS_LOG
    mkdir -p "$NATS_DIR"
    : >>"$NATS_LOG"
    local rc
    for _ in 1 2 3 4 5; do # another process may take the port first
        rc=0
        _nats_launch "$(_nats_free_port)" || rc=$?
        ((rc == 1)) || break
    done
    ((rc == 0)) && return 0
    fail "nats-server did not start; the end of $NATS_LOG:" "$(tail -n 5 "$NATS_LOG")"
}

# nats_stop: SIGTERM (a clean shutdown that keeps the store), then waits
# up to 10 s before SIGKILL. Does nothing without a server.
nats_stop() {
    local pid=${NATS_PID:-} i p keep=()
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 1000; i++)); do
        _nats_alive "$pid" || break
        sleep 0.01
    done
    if _nats_alive "$pid"; then
        echo "# nats-server $pid ignored SIGTERM for 10 s, killing it" >&3
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    for p in "${BG_PIDS[@]}"; do
        [[ $p == "$pid" ]] || keep+=("$p")
    done
    BG_PIDS=("${keep[@]}")
    NATS_PID=
}

# nats_restart: the same server again: same port, same store.
nats_restart() {
    [[ -n ${NATS_PORT:-} && -n ${NATS_DIR:-} ]] || fail "nats_restart: no nats_start before" || return 1
    nats_stop
    _nats_launch "$NATS_PORT" ||
        fail "nats-server did not restart on port $NATS_PORT; the end of $NATS_LOG:" \
            "$(tail -n 5 "$NATS_LOG")"
}

# nt ARGS...: natstool against this test's server; stdout to $(T nt.out),
# stderr to $(T nt.err); sets $status.
nt() {
    status=0
    "$NATSTOOL" "$NATS_URL" "$@" >"$(T nt.out)" 2>"$(T nt.err)" || status=$?
}

# ok ARGS...: nt that must succeed.
ok() {
    nt "$@"
    [ "$status" -eq 0 ] || fail "natstool $* exited $status: $(cat "$(T nt.err)")"
}

# 1000 lines, some empty, with spaces, tabs, quotes, backslashes, UTF-8, CR.
make_lines() {
    awk 'BEGIN {
        for (i = 1; i <= 1000; i++) {
            if (i % 97 == 0) print ""
            else if (i % 31 == 0) printf "tab\there \"q\" \\ %d\r\n", i
            else if (i % 13 == 0) printf "  caf\303\251 %d  \n", i
            else print "line " i
        }
    }' >"$(T in)"
}

# Every test has a server of its own.
setup() {
    nats_skip_unless_available
    nats_start
}

teardown() {
    nats_stop
    kill_bg
}
