#!/usr/bin/env bash
# Builds the iOS device static library of mandrel-ffi (feature sim, as the demo app links
# it) without Xcode, the way bindings/scripts/check-mobile.sh does (Debian clang compiles
# ring's C freestanding; a stub TargetConditionals.h stands in for the SDK header), so CI can
# scan its undefined symbols for required-reason APIs. Prints the library's path on the
# last line. Same profile and flags as check-mobile.sh, so the two share one build.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
T=aarch64-apple-ios
STUB="$TARGET_DIR/xc-stub"
mkdir -p "$STUB/include" "$STUB/iPhoneOS.sdk"
printf '#pragma once\n#define TARGET_OS_MAC 1\n#define TARGET_OS_OSX 0\n#define TARGET_OS_IPHONE 1\n#define TARGET_OS_IOS 1\n' \
  > "$STUB/include/TargetConditionals.h"
RING_CFLAGS="-nostdlibinc -ffreestanding -DRING_CORE_NOSTDLIBINC=1"
export CC_aarch64_apple_ios=clang AR_aarch64_apple_ios=llvm-ar
export CFLAGS_aarch64_apple_ios="$RING_CFLAGS -isystem $STUB/include" SDKROOT="$STUB/iPhoneOS.sdk"
cargo rustc --locked --profile mobile-check -p mandrel-ffi --lib --features sim --crate-type staticlib --target "$T" >&2
echo "$TARGET_DIR/$T/mobile-check/libmandrel_ffi.a"
