#!/usr/bin/env bash
# The iOS shell's CI: builds the FFI library (feature sim) and the mandrel CLI, generates the
# Swift bindings into the package (Sources/Mandrel/Mandrel.swift, Sources/MandrelFFI/
# MandrelFFI.h: generated, not committed), checks the app's manifests and the privacy
# manifest against a symbol scan of the iOS static library, parses every App/ file with
# swiftc, then runs `swift build` and `swift test` (warnings as errors) in the Swift chroot
# of .ci/install. Ends with XCTest's own summary line ("Executed N tests, with N failures").
# The Swift steps run in a private mount namespace (unshare), so their bind mounts vanish
# with the script and never touch another run's chroot mounts.
# Skips a part whose toolchain is missing (with a message), unless CI=true.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
export CARGO_TARGET_DIR="$TARGET"
SWIFT_ROOT="${MANDREL_SWIFT_ROOT:-/opt/mandrel-swift-trixie}"
OUT="$TARGET/ios-demo"
PKG="$REPO/ios-demo"
t0=$(date +%s)
step() { echo "[ios-demo +$(( $(date +%s) - t0 ))s] $*"; }
missing() {
  if [ "${CI:-}" = "true" ]; then echo "ERROR: $1 (CI=true: run .ci/install)"; exit 1; fi
  echo "SKIP: $1 (run .ci/install)"
}

step "building mandrel-ffi (feature sim), uniffi-bindgen and mandrel-cli (release)"
# Separate invocations, as in bindings/tests/run.sh: together they would unify features.
cargo build --release --locked -p mandrel-ffi --features sim || exit 1
cargo build --release --locked -p uniffi-bindgen || exit 1
cargo build --release --locked -p mandrel-cli || exit 1
LIB="$TARGET/release/libmandrel_ffi.so"
rm -rf "$OUT/gen" "$OUT/lib"; mkdir -p "$OUT/gen" "$OUT/lib"
"$TARGET/release/uniffi-bindgen" generate --no-format --library "$LIB" -l swift -o "$OUT/gen" >/dev/null || exit 1
# Copied only when changed, so an unchanged API does not rebuild the Swift module. A fresh
# checkout has no Sources/Mandrel (its only file is generated).
mkdir -p "$PKG/Sources/Mandrel" "$PKG/Sources/MandrelFFI"
cmp -s "$OUT/gen/Mandrel.swift" "$PKG/Sources/Mandrel/Mandrel.swift" || cp "$OUT/gen/Mandrel.swift" "$PKG/Sources/Mandrel/Mandrel.swift" || exit 1
cmp -s "$OUT/gen/MandrelFFI.h" "$PKG/Sources/MandrelFFI/MandrelFFI.h" || cp "$OUT/gen/MandrelFFI.h" "$PKG/Sources/MandrelFFI/MandrelFFI.h" || exit 1
cp "$LIB" "$OUT/lib/"
step "generated the Swift bindings into ios-demo/Sources"

step "ScanKit imports no Apple UI or camera framework"
if grep -rnE '^[[:space:]]*(@testable[[:space:]]+)?import[[:space:]]+(UIKit|SwiftUI|ARKit|Vision|AVFoundation|CoreVideo)\b' "$PKG/Sources" "$PKG/Tests"; then
  echo "ERROR: ScanKit must stay platform-independent (the imports above belong in App/)"; exit 1
fi

step "app manifests and the required-reason symbol scan"
lib_args=()
if rustup target list --installed 2>/dev/null | grep -qx aarch64-apple-ios && command -v clang >/dev/null && command -v llvm-nm >/dev/null; then
  IOS_LIB=$(ios-demo/scripts/ios-staticlib.sh | tail -n 1) || { echo "ERROR: the iOS static library did not build"; exit 1; }
  lib_args=(--lib "$IOS_LIB" --nm llvm-nm)
else
  missing "aarch64-apple-ios rust target, clang or llvm-nm not found: no symbol scan"
fi
python3 ios-demo/scripts/check-manifests.py "$PKG/App" "${lib_args[@]}" || exit 1

# (usr/bin/swift is an absolute symlink inside the chroot: test swiftc, as bindings/tests do)
if [ ! -x "$SWIFT_ROOT/usr/bin/swiftc" ]; then
  missing "Swift chroot ($SWIFT_ROOT) not found: swift build/test skipped"
  exit 0
fi

# Everything below runs inside the chroot at the same absolute paths as outside.
cat > "$OUT/in-namespace.sh" <<'INNER'
set -uo pipefail
ROOT="$1"; REPO="$2"; TARGET="$3"; OUT="$4"
bind() { mkdir -p "$ROOT$1" && mount --bind "$1" "$ROOT$1"; }
mount -t proc proc "$ROOT/proc" || exit 1
bind "$REPO" || exit 1
case "$TARGET/" in "$REPO"/*) ;; *) bind "$TARGET" || exit 1 ;; esac
RUN=(chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME="$OUT/home" CI="${CI:-}"
     MANDREL_CLI="$TARGET/release/mandrel" MANDREL_ENVELOPE_OUT="$OUT/simulated-scan.sealed.json" LD_LIBRARY_PATH="$OUT/lib")
mkdir -p "$OUT/home"

echo "[ios-demo] swiftc -parse on every App/ file"
mapfile -t app_files < <(find "$REPO/ios-demo/App" -name '*.swift' | sort)
[ "${#app_files[@]}" -gt 0 ] || { echo "no App/ Swift files"; exit 1; }
"${RUN[@]}" swiftc -parse -swift-version 6 "${app_files[@]}" || { echo "[ios-demo] swiftc -parse failed"; exit 1; }
echo "[ios-demo] ${#app_files[@]} App/ files parse"

FLAGS=(--package-path "$REPO/ios-demo" --scratch-path "$OUT/build" -c debug
       -Xswiftc -warnings-as-errors -Xlinker -L"$OUT/lib" -Xlinker -rpath -Xlinker "$OUT/lib")
echo "[ios-demo] swift build (warnings as errors)"
"${RUN[@]}" swift build "${FLAGS[@]}" --build-tests || exit 1
echo "[ios-demo] swift test"
"${RUN[@]}" swift test "${FLAGS[@]}" --skip-build --disable-swift-testing 2>&1
INNER
step "swift build + swift test in the chroot"
unshare --mount --propagation private bash "$OUT/in-namespace.sh" "$SWIFT_ROOT" "$REPO" "$TARGET" "$OUT"
