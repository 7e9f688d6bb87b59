#!/usr/bin/env bash
# herdsman's two entry points on a fresh Debian machine (run as root, or with sudo for apt):
#   ./run.sh demo [--port N] [--duration S]   set up, then run the demonstration
#   ./run.sh test [pytest arguments]           set up everything the tests need, then lint,
#                                              type-check and run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3}
VENV=.venv

apt_install() {
    # install the given Debian packages when one of them is missing
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "run.sh: installing Debian packages: ${missing[*]}" >&2
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update -qq || true
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

setup_python() {
    if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
        echo "run.sh: Python 3.11 or newer is required ($PY)" >&2
        exit 1
    fi
    if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c 'import ensurepip' 2>/dev/null; then
        apt_install python3-venv
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        "$PY" -m venv "$VENV"
    fi
    # reinstall only when the project metadata changed
    local stamp="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
    if [ ! -e "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
}

build_compiled() {
    # the hot modules compiled with mypyc (src/herdsman/_accel.py): a C compiler and
    # Python's headers; skipped when the sources did not change since the last build
    command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
    "$VENV/bin/python" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' ||
        apt_install python3-dev
    "$VENV/bin/python" -m herdsman.accel build
}

case "${1:-}" in
demo)
    shift
    setup_python
    build_compiled || echo "run.sh: the demo runs interpreted" >&2
    exec "$VENV/bin/python" -m herdsman.demo "$@"
    ;;
test)
    shift
    setup_python
    build_compiled  # the suite runs what users run: a build that fails stops it
    # real peers and the reference binary the tests compare against, the real
    # servers of the protocol checks (tests/servers/), and the stats socket's
    # third-party clients; the stats page's browser and the exporter's scraper
    apt_install haproxy iproute2 procps redis-server mariadb-server postgresql slapd \
        ldap-utils openssl exim4-daemon-light socat tmux hatop chromium prometheus
    lint=(src tests)
    [ -d bench ] && lint+=(bench)
    "$VENV/bin/ruff" check "${lint[@]}"
    "$VENV/bin/ruff" format --check "${lint[@]}"
    "$VENV/bin/mypy"
    exec "$VENV/bin/python" -bb -m pytest -n 2 "$@"
    ;;
*)
    echo "usage: $0 demo [--port N] [--duration S] | test [pytest args]" >&2
    exit 2
    ;;
esac
