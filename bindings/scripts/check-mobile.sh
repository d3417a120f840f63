#!/usr/bin/env bash
# CI check that the FFI crate (with the `sim` feature, as the demo shells build it; and
# ring's C/assembly) compiles for the phone targets and yields the iOS and Android static
# libraries, with no NDK or Xcode: Debian clang compiles
# ring's C freestanding, a stub TargetConditionals.h stands in for the iOS SDK header.
# Real device builds: build-ios.sh (on a Mac) and build-android.sh (with an NDK).
# Unoptimised (profile mobile-check) to keep CI short: phone release builds use
# release-mobile. Prints the size of each static library; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
TARGETS=(aarch64-apple-ios aarch64-linux-android x86_64-linux-android)

for t in "${TARGETS[@]}"; do
  if ! rustup target list --installed 2>/dev/null | grep -qx "$t"; then
    if [ "${CI:-}" = "true" ]; then echo "ERROR: rust target $t missing (run .ci/install)"; exit 1; fi
    echo "SKIP: rust target $t missing (run .ci/install)"; exit 0
  fi
done
for tool in clang llvm-ar; do
  command -v "$tool" >/dev/null || { echo "ERROR: $tool missing (run .ci/install)"; exit 1; }
done

STUB="$TARGET_DIR/xc-stub"
mkdir -p "$STUB/include" "$STUB/iPhoneOS.sdk"
printf '#pragma once\n#define TARGET_OS_MAC 1\n#define TARGET_OS_OSX 0\n#define TARGET_OS_IPHONE 1\n#define TARGET_OS_IOS 1\n' \
  > "$STUB/include/TargetConditionals.h"
RING_CFLAGS="-nostdlibinc -ffreestanding -DRING_CORE_NOSTDLIBINC=1"
for t in aarch64_linux_android x86_64_linux_android aarch64_apple_ios; do
  export "CC_$t=clang" "AR_$t=llvm-ar" "CFLAGS_$t=$RING_CFLAGS"
done
export CFLAGS_aarch64_apple_ios="$RING_CFLAGS -isystem $STUB/include" SDKROOT="$STUB/iPhoneOS.sdk"

target_args=()
for t in "${TARGETS[@]}"; do target_args+=(--target "$t"); done
echo "[mobile] cargo check -p mandrel-ffi ${target_args[*]}"
cargo check --locked --profile mobile-check -p mandrel-ffi --lib --features sim "${target_args[@]}"

for t in "${TARGETS[@]}"; do
  echo "[mobile] static library for $t"
  cargo rustc --locked --profile mobile-check -p mandrel-ffi --lib --features sim --crate-type staticlib --target "$t"
  lib="$TARGET_DIR/$t/mobile-check/libmandrel_ffi.a"
  [ -f "$lib" ] || { echo "ERROR: $lib was not produced"; exit 1; }
  echo "[mobile] $t: $(du -h "$lib" | cut -f1) $lib"
done
echo "[mobile] 3 targets ok"
