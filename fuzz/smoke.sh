#!/usr/bin/env bash
# CI smoke of the fuzz targets: builds them (cargo-fuzz, nightly; .ci/install provides
# both) and runs each for SMOKE_SECONDS (default 20, at most 30) from the committed seeds,
# with the campaign's memory limits. Exits non-zero on any crash.
set -euo pipefail
cd "$(dirname "$0")"
secs="${SMOKE_SECONDS:-20}"
if [ "$secs" -gt 30 ]; then secs=30; fi
start=$(date +%s)
./run-targets.sh "$secs"
echo "fuzz smoke: $(( $(date +%s) - start )) s including the build"
