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
libcurl4-openssl-dev openssl iproute2 util-linux"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q $missing
fi

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${RELAY_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
