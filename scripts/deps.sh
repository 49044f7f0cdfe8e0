#!/bin/sh
# deps.sh - install what building and testing weir needs, if it is missing.
#
# Debian/Ubuntu: asks dpkg which packages are installed and apt-get installs
# only the missing ones (through sudo when not root). Prints nothing and
# exits 0 when everything is there. Elsewhere: checks the commands and
# pkg-config modules, and when something is missing prints one line naming
# it and exits 1.
set -u

# package:command pairs; the command (if any) also counts as present, so a
# tool installed some other way is not installed again.
PKGS="pkg-config:pkg-config
libargtable2-dev:
libzstd-dev:
libnats-dev:
nats-server:nats-server
openssl:openssl
bats:bats
mandoc:mandoc
clang:clang
jq:jq
zstd:zstd
prometheus:promtool
tmux:tmux
make:make
gcc:gcc
perl:prove"

say() {
    printf 'weir: deps: %s\n' "$*" >&2
}

installed() { # package
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

# The sanitizer runtime matching the installed clang (libclang-rt-14-dev on
# Debian 12). Prints nothing when clang is absent.
clang_rt_pkg() {
    command -v clang >/dev/null 2>&1 || return 0
    major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
    [ -n "$major" ] && printf 'libclang-rt-%s-dev\n' "$major"
}

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    missing=""
    for cmd in pkg-config bats mandoc clang jq zstd promtool tmux make gcc prove; do
        command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
    done
    for mod in argtable2 libzstd libnats; do
        pkg-config --exists "$mod" 2>/dev/null || missing="$missing $mod(dev)"
    done
    [ -z "$missing" ] && exit 0
    say "not a Debian system; install:$missing (and clang's sanitizer runtime for check-sanitize)"
    exit 1
fi

missing_pkgs() { # list of package:command lines on stdin
    while IFS=: read -r pkg cmd; do
        [ -n "$pkg" ] || continue
        installed "$pkg" && continue
        [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1 && continue
        printf '%s ' "$pkg"
    done
}

install_pkgs() { # packages...; returns non-zero when apt-get fails
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        say "not root and no sudo; install as root: $*"
        return 1
    fi
    say "installing: $*"
    # The package lists may be stale or absent (fresh container): update
    # only when the first attempt fails.
    # shellcheck disable=SC2086 # $SUDO is empty or one word
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$@" && return 0
    # shellcheck disable=SC2086
    $SUDO apt-get update || return 1
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$@"
}

todo=$(printf '%s\n' "$PKGS" | missing_pkgs)
if [ -n "$todo" ]; then
    # shellcheck disable=SC2086 # one word per package
    install_pkgs $todo || exit 1
fi

# Second pass: the sanitizer runtime depends on which clang is now
# installed. Only check-sanitize needs it, so failing to get it is a warning.
# (Before clang 14 the runtime shipped in libclang-common-N-dev, which clang
# depends on, and no libclang-rt-N-dev package exists.)
rt=$(clang_rt_pkg)
if [ -n "$rt" ] && ! installed "$rt"; then
    # Known lists that lack the package: an older clang, nothing to do.
    if apt-cache show clang >/dev/null 2>&1 && ! apt-cache show "$rt" >/dev/null 2>&1; then
        exit 0
    fi
    install_pkgs "$rt" || say "could not install $rt; make check-sanitize needs it"
fi
exit 0
