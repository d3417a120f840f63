#!/usr/bin/env bash
# Builds Mandrel.xcframework (device + simulator static libraries, headers, module map) and
# the Swift bindings, on a Mac with Xcode. Output: bindings/out/ios/.
#   Mandrel.xcframework  -> add to the app target (Frameworks, Libraries, and Embedded Content)
#   Mandrel.swift        -> add to the app target (or a local Swift package)
# Usage: bindings/scripts/build-ios.sh   (needs: Xcode, rustup)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname)" = "Darwin" ] || { echo "build-ios.sh runs on macOS with Xcode (here: $(uname))"; exit 1; }
PROFILE=release-mobile
# Cargo features of mandrel-ffi: `sim` (the virtual sensor) for the demo shell's demo mode;
# MANDREL_FFI_FEATURES= (empty) builds a production library without it.
FEATURES="${MANDREL_FFI_FEATURES-sim}"
OUT=bindings/out/ios
TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${TARGETS[@]}"
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
for t in "${TARGETS[@]}"; do
  cargo build --locked -p mandrel-ffi --lib --profile "$PROFILE" --target "$t" --features "$FEATURES"
done
TD="${CARGO_TARGET_DIR:-target}"
rm -rf "$OUT"; mkdir -p "$OUT/headers" "$OUT/sim"

# Bindings from the host build of the same crate (library mode reads the metadata).
cargo build --locked -p mandrel-ffi --lib --profile "$PROFILE" --features "$FEATURES"
cargo run --locked -p uniffi-bindgen -- generate --library "$TD/$PROFILE/libmandrel_ffi.dylib" \
  --language swift --out-dir "$OUT/gen"
cp "$OUT/gen/Mandrel.swift" "$OUT/"
cp "$OUT/gen/MandrelFFI.h" "$OUT/headers/"
# The xcframework's module map must be called module.modulemap.
cp "$OUT/gen/MandrelFFI.modulemap" "$OUT/headers/module.modulemap"

# One fat simulator library (arm64 + x86_64), then the xcframework.
lipo -create "$TD/aarch64-apple-ios-sim/$PROFILE/libmandrel_ffi.a" "$TD/x86_64-apple-ios/$PROFILE/libmandrel_ffi.a" \
  -output "$OUT/sim/libmandrel_ffi.a"
xcodebuild -create-xcframework \
  -library "$TD/aarch64-apple-ios/$PROFILE/libmandrel_ffi.a" -headers "$OUT/headers" \
  -library "$OUT/sim/libmandrel_ffi.a" -headers "$OUT/headers" \
  -output "$OUT/Mandrel.xcframework"
echo "built $OUT/Mandrel.xcframework and $OUT/Mandrel.swift"
du -sh "$TD/aarch64-apple-ios/$PROFILE/libmandrel_ffi.a"
