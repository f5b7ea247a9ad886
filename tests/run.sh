#!/bin/sh
# run.sh - the whole test suite: install what is missing, build, run ctest.
# Ends with ctest's summary line ("N% tests passed, M tests failed out of K").
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RELAY_BUILD:-$ROOT/build}
"$ROOT/tools/setup.sh"
cd "$BUILD"
exec ctest --output-on-failure -j "$(nproc)" "$@"
