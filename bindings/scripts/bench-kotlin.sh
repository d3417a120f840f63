#!/usr/bin/env bash
# Benchmark: one 640x480 f32 frame pushed through the Kotlin binding vs the core in Rust.
# Needs the Kotlin toolchain (.ci/install) and ../shared/scans. Builds what it needs.
# Usage: bindings/scripts/bench-kotlin.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERS="${1:-30}"
SCAN="$PWD/../shared/scans/td-full-pose-01"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
KOTLIN_HOME="${MANDREL_KOTLIN_HOME:-/opt/mandrel-kotlin-2.4.20}"
JNA_JAR="${JNA_JAR:-/usr/share/java/jna.jar}"
OUT="$TARGET/binding-bench"
# Feature sim as in bindings/tests/run.sh: the same library in the same target directory,
# so neither script's build replaces the other's (the example below rebuilds it too).
cargo build --release --locked -p mandrel-ffi --features sim
cargo build --release --locked -p uniffi-bindgen
rm -rf "$OUT"; mkdir -p "$OUT"
"$TARGET/release/uniffi-bindgen" generate --no-format --library "$TARGET/release/libmandrel_ffi.so" -l kotlin -o "$OUT/gen" >/dev/null
"$KOTLIN_HOME/bin/kotlinc" -Werror -cp "$JNA_JAR" "$OUT/gen" bindings/tests/kotlin/Bench.kt bindings/tests/kotlin/Harness.kt -d "$OUT/bench.jar" 2>&1 | grep -v "^OpenJDK.*warning" || true
echo "== Rust"
cargo run --release --locked -q -p mandrel-ffi --features sim --example bench_push_frame -- "$SCAN" "$ITERS"
echo "== Kotlin (JVM + JNA)"
java -Djna.library.path="$TARGET/release" -cp "$OUT/bench.jar:$JNA_JAR:$KOTLIN_HOME/lib/kotlin-stdlib.jar" BenchKt "$SCAN" "$ITERS"
