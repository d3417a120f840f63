#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (unit, integration, shared-scan tests)
# and, when present, the cross-language binding tests. Prints a closing
# "N passed, N failed" line per suite and exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs what this machine lacks for the binding tests, the mobile checks and the fuzz
# smoke (idempotent: about a second when everything is there).
bash .ci/install

echo "== Rust workspace tests"
cargo test --workspace --release --locked
# mandrel-ffi's virtual sensor is behind its `sim` feature (off in the workspace run above):
# build and test the crate with it too.
cargo test --release --locked -p mandrel-ffi --features sim

if [ -x bindings/tests/run.sh ]; then
  echo "== Binding tests (Kotlin, Python, Swift)"
  bindings/tests/run.sh
fi

if [ -x ios-demo/test.sh ]; then
  echo "== iOS shell (ScanKit: swift build + swift test; App/ parse, manifests, symbol scan)"
  ios-demo/test.sh
fi

if [ -x android-demo/test.sh ]; then
  echo "== Android shell: core tests on the JVM, then a framework-only APK"
  android-demo/test.sh
  android-demo/build-apk.sh target/android-demo/mandrel-demo.apk
fi

echo "== Fuzz smoke (each target 20 s)"
bash fuzz/smoke.sh

echo "== Fitted bands (mandrel cad) checked with trimesh and ezdxf"
tests/cad/run.sh 12
