#!/usr/bin/env bash
# Issue 20 acceptance: fitted bands from measurements, checked by independent readers.
#   1. `mandrel simulate` N virtual hands (seeds 1..N, full coverage, TrueDepth model) and,
#      when ../shared is present, the shared TrueDepth scans (td-*);
#   2. `mandrel measure --json`, then `mandrel cad` (standard fit, 4 mm x 1.8 mm; every
#      third band comfort fit) for each measurement with status ok;
#   3. tests/cad/check_bands.py (trimesh, ezdxf) on every band.
# A Python venv with trimesh and ezdxf is made under target/ on first use (idempotent).
# Usage: tests/cad/run.sh [N]   (N virtual hands, default 24). CAD_OUT sets the work folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-24}"
OUT="${CAD_OUT:-target/cad-acceptance}"
VENV=target/cad-venv

if ! "$VENV/bin/python" -c 'import trimesh, ezdxf, rtree, scipy' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet trimesh ezdxf numpy rtree scipy networkx
fi

cargo build --release --locked -p mandrel-cli
BIN=target/release/mandrel
mkdir -p "$OUT"
rm -rf "${OUT:?}"/*

band() { # measurement.json band-base name
  local m="$1" base="$2" extra=()
  if [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$m")" != ok ]; then
    echo "$3: measurement not ok, no band"
    return 0
  fi
  [ "$4" = comfort ] && extra=(--comfort)
  "$BIN" cad "$m" --width 4 --thickness 1.8 --fit standard "${extra[@]}" -o "$base" --json > "$base.json"
}

for s in $(seq 1 "$N"); do
  d="$OUT/virtual-$s"
  "$BIN" simulate "$d/scan" --seed "$s" > /dev/null
  "$BIN" measure "$d/scan" --json > "$d/measurement.json" || true
  style=plain; [ $((s % 3)) = 0 ] && style=comfort
  band "$d/measurement.json" "$d/band" "virtual $s" "$style"
done

if [ -d ../shared/scans ]; then
  for scan in ../shared/scans/td-*; do
    name=$(basename "$scan")
    d="$OUT/shared-$name"
    mkdir -p "$d"
    "$BIN" measure "$scan" --json > "$d/measurement.json" || true
    band "$d/measurement.json" "$d/band" "$name" plain
  done
else
  echo "../shared is absent: shared TrueDepth scans skipped"
  [ "${CI:-}" = true ] && { echo "CI=true needs ../shared"; exit 1; }
fi

"$VENV/bin/python" tests/cad/check_bands.py "$OUT"
