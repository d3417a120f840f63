#!/usr/bin/env bash
# Builds libmandrel_ffi.so for Android (arm64-v8a, x86_64; armeabi-v7a with ALL_ABIS=1)
# into jniLibs/ with 16 KB page alignment (required on Android 15+ devices with 16 KB
# pages), plus the Kotlin bindings. Output: bindings/out/android/.
#   jniLibs/<abi>/libmandrel_ffi.so -> app/src/main/jniLibs/
#   kotlin/app/mandrel/mandrel_ffi.kt -> app/src/main/java/ (needs net.java.dev.jna:jna:5.13.0@aar)
# Usage: ANDROID_NDK_HOME=/path/to/ndk bindings/scripts/build-android.sh
# Needs: NDK r28+ (16 KB alignment by default; the flag below covers r26/r27 too),
#        cargo-ndk (cargo install cargo-ndk), rustup.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to an NDK (r28+ recommended)}"
command -v cargo-ndk >/dev/null || { echo "cargo-ndk missing: cargo install cargo-ndk"; exit 1; }
PROFILE=release-mobile
# Cargo features of mandrel-ffi: `sim` (the virtual sensor) for the demo shell's demo mode;
# MANDREL_FFI_FEATURES= (empty) builds a production library without it.
FEATURES="${MANDREL_FFI_FEATURES-sim}"
OUT=bindings/out/android
API="${ANDROID_API:-24}"
ABIS=(-t arm64-v8a -t x86_64)
if [ "${ALL_ABIS:-0}" = 1 ]; then ABIS+=(-t armeabi-v7a); fi
rustup target add aarch64-linux-android x86_64-linux-android $([ "${ALL_ABIS:-0}" = 1 ] && echo armv7-linux-androideabi)
rm -rf "$OUT"; mkdir -p "$OUT/jniLibs"

# 16 KB ELF segment alignment for every shared object we link.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384 -C link-arg=-Wl,-z,common-page-size=16384"
cargo ndk "${ABIS[@]}" --platform "$API" -o "$OUT/jniLibs" \
  build --locked -p mandrel-ffi --lib --profile "$PROFILE" --features "$FEATURES"

# Check the alignment of every LOAD segment (2**14 = 16 KB).
READELF="$(ls "$ANDROID_NDK_HOME"/toolchains/llvm/prebuilt/*/bin/llvm-readelf | head -1)"
for so in "$OUT"/jniLibs/*/libmandrel_ffi.so; do
  if "$READELF" -lW "$so" | awk '/LOAD/ { if ($NF != "0x4000" && $NF+0 < 16384) bad=1 } END { exit bad }'; then
    echo "$so: 16 KB aligned, $(du -h "$so" | cut -f1)"
  else
    echo "ERROR: $so is not 16 KB aligned"; exit 1
  fi
done

# Kotlin bindings from a host build (library mode reads the metadata).
TD="${CARGO_TARGET_DIR:-target}"
cargo build --locked -p mandrel-ffi --lib --profile "$PROFILE" --features "$FEATURES"
cargo run --locked -p uniffi-bindgen -- generate --library "$TD/$PROFILE/libmandrel_ffi.so" \
  --language kotlin --out-dir "$OUT/kotlin"
echo "built $OUT/jniLibs and $OUT/kotlin"
