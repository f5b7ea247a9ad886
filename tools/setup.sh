#!/bin/sh
# setup.sh - install the Debian packages the project needs (if missing), then
# configure and build into build/ (or $RELAY_BUILD). Run as root on Debian 12.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RELAY_BUILD:-$ROOT/build}

PKGS="build-essential cmake pkg-config libnng-dev nng-utils libprotobuf-c-dev
protobuf-c-compiler protobuf-compiler liblmdb-dev lmdb-utils libsodium-dev
libinih-dev libjansson-dev libcmocka-dev python3 python3-nacl python3-lmdb
clang libclang-rt-14-dev libfuzzer-14-dev tcpdump libmicrohttpd-dev
libcurl4-openssl-dev openssl iproute2 util-linux
chromium fonts-wqy-microhei"
# chromium and a CJK font: the console's browser tests (tests/browser) drive
# Debian's chromium and screenshot pages labelled in Chinese

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# node and npm run the browser tests; whatever node the machine has will do,
# Debian's when it has none
command -v node >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q $missing
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${RELAY_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j "$(nproc)"

# promtool (tests check /metrics with `promtool check metrics`): Debian's
# prometheus package unpacked into $BUILD/promtool, never installed, so the
# server is never started. Only usr/bin/promtool is used.
if [ ! -x "$BUILD/promtool/usr/bin/promtool" ]; then
    echo "setup: unpacking promtool from the prometheus package into $BUILD/promtool"
    (cd "$BUILD" && rm -f prometheus_*.deb && apt-get download -q prometheus &&
        dpkg-deb -x prometheus_*.deb promtool && rm -f prometheus_*.deb promtool/usr/bin/prometheus)
fi

# playwright-core for the browser tests, exactly as tests/browser/package-lock.json
# pins it; again only when the lock file changed. It drives /usr/bin/chromium
# and never downloads a browser (no `playwright install`).
BROWSER_TESTS="$ROOT/tests/browser"
if [ ! -d "$BROWSER_TESTS/node_modules" ] ||
    [ "$BROWSER_TESTS/package-lock.json" -nt "$BROWSER_TESTS/node_modules" ]; then
    echo "setup: npm ci in $BROWSER_TESTS"
    (cd "$BROWSER_TESTS" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    touch "$BROWSER_TESTS/node_modules"
fi
