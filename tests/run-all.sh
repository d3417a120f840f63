#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (unit, integration, shared-scan tests)
# and, when present, the cross-language binding tests. Prints a closing
# "N passed, N failed" line per suite and exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust workspace tests"
cargo test --workspace --release --locked
# mandrel-ffi's virtual sensor is behind its `sim` feature (off in the workspace run above):
# build and test the crate with it too.
cargo test --release --locked -p mandrel-ffi --features sim

if [ -x bindings/tests/run.sh ]; then
  echo "== Binding tests (Kotlin, Python, Swift)"
  bindings/tests/run.sh
fi

echo "== Fitted bands (mandrel cad) checked with trimesh and ezdxf"
tests/cad/run.sh 24
