#!/usr/bin/env bash
# Cross-language binding tests: builds the FFI library, generates the Kotlin, Swift and
# Python bindings in library mode, and runs one test program per language against the real
# library (Kotlin on the JVM via JNA, Python via ctypes, Swift 6 inside the trixie chroot
# that .ci/install caches), then the mobile cross-compilation check.
# Each suite prints "N passed, N failed"; the script exits non-zero if any suite fails.
# Skips a language (with a message) when its toolchain is missing, unless CI=true.
set -uo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
export CARGO_TARGET_DIR="$TARGET"
KOTLIN_HOME="${MANDREL_KOTLIN_HOME:-/opt/mandrel-kotlin-2.4.20}"
SWIFT_ROOT="${MANDREL_SWIFT_ROOT:-/opt/mandrel-swift-trixie}"
JNA_JAR="${JNA_JAR:-/usr/share/java/jna.jar}"
OUT="$TARGET/binding-tests"
ONLY="${MANDREL_BINDING_TESTS:-kotlin python swift mobile}"
failures=0
summary=()

t0=$(date +%s)
step() { echo "[bindings +$(( $(date +%s) - t0 ))s] $*"; }
missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "ERROR: $1 (CI=true: run .ci/install)"; failures=$((failures + 1)); summary+=("$2: toolchain missing")
  else
    echo "SKIP: $1 (run .ci/install)"; summary+=("$2: skipped")
  fi
}
record() { # name rc
  if [ "$2" -eq 0 ]; then summary+=("$1: ok"); else summary+=("$1: FAILED"); failures=$((failures + 1)); fi
}

step "building mandrel-ffi (feature sim) and uniffi-bindgen (release)"
# Two invocations: building both at once would unify uniffi features and pull the
# bindgen CLI (clap, templates) into the library build.
# The tests use demo mode (VirtualSensor), so the library is built with the `sim` feature;
# every later cargo call that rebuilds mandrel-ffi (the Swift step's example) passes it
# too, or it would overwrite $LIB with a library without the virtual sensor.
cargo build --release --locked -p mandrel-ffi --features sim || exit 1
cargo build --release --locked -p uniffi-bindgen || exit 1
LIB="$TARGET/release/libmandrel_ffi.so"
BINDGEN="$TARGET/release/uniffi-bindgen"
rm -rf "$OUT"; mkdir -p "$OUT"
for lang in kotlin swift python; do
  "$BINDGEN" generate --no-format --library "$LIB" -l "$lang" -o "$OUT/gen/$lang" >/dev/null || exit 1
done
step "generated bindings in $OUT/gen"

if [[ " $ONLY " == *" kotlin "* ]]; then
  if [ -x "$KOTLIN_HOME/bin/kotlinc" ] && [ -f "$JNA_JAR" ]; then
    step "kotlin: compiling with -Werror"
    if "$KOTLIN_HOME/bin/kotlinc" -Werror -cp "$JNA_JAR" \
        "$OUT/gen/kotlin" bindings/tests/kotlin/*.kt -d "$OUT/kotlin-tests.jar" 2>&1 | grep -v "^OpenJDK.*warning" ; then :; fi
    if [ -f "$OUT/kotlin-tests.jar" ]; then
      step "kotlin: running"
      java -Djna.library.path="$TARGET/release" \
        -cp "$OUT/kotlin-tests.jar:$JNA_JAR:$KOTLIN_HOME/lib/kotlin-stdlib.jar" MainKt "$REPO"
      record kotlin $?
    else
      echo "kotlin: compilation failed"; record kotlin 1
    fi
  else
    missing "kotlinc ($KOTLIN_HOME) or JNA ($JNA_JAR) not found" kotlin
  fi
fi

if [[ " $ONLY " == *" python "* ]]; then
  if command -v python3 >/dev/null; then
    step "python: running"
    cp "$LIB" "$OUT/gen/python/"
    PYTHONPATH="$OUT/gen/python" python3 bindings/tests/python/test_bindings.py "$REPO"
    record python $?
  else
    missing "python3 not found" python
  fi
fi

if [[ " $ONLY " == *" swift "* ]]; then
  if [ -x "$SWIFT_ROOT/usr/bin/swiftc" ]; then
    SCAN="$REPO/../shared/scans/td-full-pose-01"
    if [ -d "$SCAN" ]; then
      step "swift: exporting $SCAN as TrueDepth buffers + ARKit poses"
      cargo run --release --locked -q -p mandrel-ffi --features sim --example export_truedepth_scan -- "$SCAN" "$OUT/truedepth-scan" \
        && export MANDREL_TRUEDEPTH_SCAN="$OUT/truedepth-scan"
    fi
    bindings/tests/swift/run.sh "$REPO" "$OUT" "$SWIFT_ROOT"
    record swift $?
  else
    missing "Swift chroot ($SWIFT_ROOT) not found" swift
  fi
fi

if [[ " $ONLY " == *" mobile "* ]]; then
  step "mobile: cross-compiling for iOS and Android"
  bindings/scripts/check-mobile.sh
  record mobile $?
fi

step "done"
printf '  %s\n' "${summary[@]}"
[ "$failures" -eq 0 ]
