#!/usr/bin/env bash
# Compiles and runs the Swift binding test (Swift 6 language mode) inside the Debian trixie
# chroot made by .ci/install. Usage: run.sh REPO OUT SWIFT_ROOT
# The repository, the build output and ../shared are bind-mounted at the same absolute paths
# inside the chroot, so every path is the same on both sides; all mounts are undone on exit.
set -uo pipefail
REPO="$1"; OUT="$2"; ROOT="$3"
SHARED="$(cd "$REPO/.." && pwd)/shared"
LIB="$(dirname "$OUT")/release/libmandrel_ffi.so"
SW="$OUT/swift"
mkdir -p "$SW"
cp "$OUT"/gen/swift/*.swift "$OUT"/gen/swift/*.h "$SW/"
cp "$OUT"/gen/swift/*.modulemap "$SW/module.modulemap"
cp "$LIB" "$SW/"

mounted=()
cleanup() {
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null; done
}
trap cleanup EXIT
bind() { # host-path
  local target="$ROOT$1"
  mkdir -p "$target"
  if ! mountpoint -q "$target"; then mount --bind "$1" "$target" && mounted+=("$target"); fi
}
if ! mountpoint -q "$ROOT/proc"; then mount -t proc proc "$ROOT/proc" && mounted+=("$ROOT/proc"); fi
bind "$REPO"
bind "$OUT"
[ -d "$SHARED" ] && bind "$SHARED"

echo "[swift] compiling the Mandrel module and the tests (Swift 6 language mode, warnings as errors)"
SWIFTC=(chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp swiftc -swift-version 6 -warnings-as-errors)
"${SWIFTC[@]}" -emit-library -emit-module -module-name Mandrel -parse-as-library \
  -Xcc -fmodule-map-file="$SW/module.modulemap" -I "$SW" -L "$SW" -lmandrel_ffi \
  "$SW/Mandrel.swift" -o "$SW/libMandrel.so" -emit-module-path "$SW/Mandrel.swiftmodule" \
  || { echo "[swift] compiling the generated bindings failed"; exit 1; }
"${SWIFTC[@]}" -module-name MandrelTests \
  -Xcc -fmodule-map-file="$SW/module.modulemap" -I "$SW" -L "$SW" -lMandrel -lmandrel_ffi \
  "$REPO"/bindings/tests/swift/*.swift -o "$SW/mandrel-tests" || { echo "[swift] compiling the tests failed"; exit 1; }
echo "[swift] running"
chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp LD_LIBRARY_PATH="$SW" CI="${CI:-}" \
  MANDREL_TRUEDEPTH_SCAN="${MANDREL_TRUEDEPTH_SCAN:-}" MANDREL_ACCEPTANCE="${MANDREL_ACCEPTANCE:-}" \
  "$SW/mandrel-tests" "$REPO"
