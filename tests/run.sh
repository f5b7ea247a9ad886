#!/bin/sh
# run.sh - the whole test suite: install what is missing, build, run ctest in
# three build trees, in this order:
#   1. build-asan/: the whole suite built with ASan and UBSan (RELAY_SANITIZE);
#   2. build-fuzz/: clang, RELAY_FUZZ=ON: every fuzz target of tests/fuzz
#      replays its saved crash inputs, then fuzzes its seed corpus for
#      RELAY_FUZZ_SECONDS seconds (default 10);
#   3. build/ ($RELAY_BUILD): the whole suite, as built by tools/setup.sh.
# Arguments go to ctest in runs 1 and 3. RELAY_QUICK=1 does run 3 only.
# The exit status is non-zero when any run failed; the last line printed is
# ctest's summary line of run 3 ("N% tests passed, M tests failed out of K"),
# just after a line naming runs 1 and 2 if they failed.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RELAY_BUILD:-$ROOT/build}
ASAN=${RELAY_ASAN_BUILD:-$ROOT/build-asan}
FUZZ=${RELAY_FUZZ_BUILD:-$ROOT/build-fuzz}
JOBS=$(nproc)
"$ROOT/tools/setup.sh"

failed=""
# note_failure - remember that run $1 failed, for the line before the summary
note_failure() {
    failed="$failed $1;"
    echo "run.sh: $1 FAILED"
}

if [ "${RELAY_QUICK:-0}" != 1 ]; then
    echo "run.sh: [1/3] ASan/UBSan build in $ASAN"
    if cmake -S "$ROOT" -B "$ASAN" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DRELAY_SANITIZE=ON -DRELAY_PROMTOOL="$BUILD/promtool/usr/bin/promtool" >/dev/null &&
        cmake --build "$ASAN" -j "$JOBS"; then
        (cd "$ASAN" && ctest --output-on-failure -j "$JOBS" "$@") ||
            note_failure "the ASan/UBSan run (1/3, $ASAN)"
    else
        note_failure "the ASan/UBSan build (1/3, $ASAN)"
    fi

    echo "run.sh: [2/3] fuzz targets (clang, libFuzzer) in $FUZZ"
    if CC=clang cmake -S "$ROOT" -B "$FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DRELAY_FUZZ=ON -DRELAY_FUZZ_SECONDS="${RELAY_FUZZ_SECONDS:-10}" >/dev/null &&
        cmake --build "$FUZZ" -j "$JOBS" --target fuzz; then
        (cd "$FUZZ" && ctest --output-on-failure -j "$JOBS" -R '^fuzz\.') ||
            note_failure "the fuzz run (2/3, $FUZZ)"
    else
        note_failure "the fuzz build (2/3, $FUZZ)"
    fi
    echo "run.sh: [3/3] the whole suite in $BUILD"
fi

# Run 3. ctest prints its summary line before "Total Test time" and the
# list of failed tests; hold it back so that it is the last line.
cd "$BUILD"
status=$(mktemp)
{
    rc=0
    ctest --output-on-failure -j "$JOBS" "$@" 2>&1 || rc=$?
    echo "$rc" >"$status"
} | {
    # line by line (not awk, which may hold a pipe's input back), so the
    # output stays live
    summary=""
    while IFS= read -r line; do
        case $line in
        [0-9]*"% tests passed, "*" tests failed out of "[0-9]*) summary=$line ;;
        *) printf '%s\n' "$line" ;;
        esac
    done
    if [ -n "$failed" ]; then
        echo "run.sh: also failed:$failed see above"
    fi
    if [ -n "$summary" ]; then
        printf '%s\n' "$summary"
    fi
}
rc=$(cat "$status")
rm -f "$status"
if [ "$rc" -ne 0 ]; then
    exit "$rc"
fi
[ -z "$failed" ]
