#!/usr/bin/env bash
# JVM tests of the Android shell core (android-demo/core) against the real mandrel library:
# builds mandrel-ffi (feature sim: the virtual sensor), uniffi-bindgen and the mandrel CLI,
# generates the Kotlin bindings, makes a retailer key pair with `mandrel keygen`, compiles
# core/ and its tests with kotlinc -Werror and runs them through JNA. The simulated scan's
# sealed envelope is opened with `mandrel open` inside the run.
# Prints "N passed, N failed"; exits non-zero on any failure. Without kotlinc or JNA it skips
# with a message, unless CI=true (then it fails: run .ci/install).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
export CARGO_TARGET_DIR="$TARGET"
KOTLIN_HOME="${MANDREL_KOTLIN_HOME:-/opt/mandrel-kotlin-2.4.20}"
JNA_JAR="${JNA_JAR:-/usr/share/java/jna.jar}"
OUT="$TARGET/android-demo/jvm"
t0=$(date +%s)
step() { echo "[android-demo +$(( $(date +%s) - t0 ))s] $*"; }

if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ] || [ ! -f "$JNA_JAR" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "ERROR: kotlinc ($KOTLIN_HOME) or JNA ($JNA_JAR) not found (CI=true: run .ci/install)"; exit 1
  fi
  echo "SKIP: kotlinc ($KOTLIN_HOME) or JNA ($JNA_JAR) not found (run .ci/install)"; exit 0
fi

step "building mandrel-ffi (feature sim), uniffi-bindgen and mandrel-cli (release)"
# Separate invocations so the bindgen CLI's features do not leak into the library build.
cargo build --release --locked -p mandrel-ffi --features sim || exit 1
cargo build --release --locked -p uniffi-bindgen || exit 1
cargo build --release --locked -p mandrel-cli || exit 1
LIB="$TARGET/release/libmandrel_ffi.so"
rm -rf "$OUT"; mkdir -p "$OUT/scratch"
"$TARGET/release/uniffi-bindgen" generate --no-format --library "$LIB" -l kotlin -o "$OUT/gen" >/dev/null || exit 1
"$TARGET/release/mandrel" keygen "$OUT/retailer" >/dev/null || exit 1

step "compiling android-demo/core and its tests with kotlinc -Werror"
"$KOTLIN_HOME/bin/kotlinc" -Werror -cp "$JNA_JAR" "$OUT/gen" android-demo/core/src android-demo/core/tests \
  -d "$OUT/core-tests.jar" 2>&1 | grep -v "^OpenJDK.*warning"
[ -f "$OUT/core-tests.jar" ] || { echo "android-demo: compilation failed"; echo "0 passed, 1 failed"; exit 1; }

step "running on the JVM"
java -Djna.library.path="$TARGET/release" -cp "$OUT/core-tests.jar:$JNA_JAR:$KOTLIN_HOME/lib/kotlin-stdlib.jar" \
  MainKt "$TARGET/release/mandrel" "$OUT/retailer" "$OUT/scratch"
rc=$?
step "done"
exit $rc
