#!/bin/sh
# demo.sh - install what is missing, build, and run the demo federation on
# loopback with its data under a temporary folder (removed afterwards).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/tools/setup.sh"
exec /usr/bin/python3 "$ROOT/deployments/demo/demo.py" "$@"
