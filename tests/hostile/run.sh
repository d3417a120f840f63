#!/usr/bin/env bash
# Runs the hostile inputs of issue 16 through a `mandrel` binary and prints one table row
# per case: exit code, first line of the message, peak RSS and wall time, and whether the
# case behaved as required (its expected exit code, peak RSS within the CLI's 512 MB).
# Exits non-zero when any case did not.
#   tests/hostile/run.sh [MANDREL_BIN] [WORK_DIR]
# Defaults: target/release/mandrel and a fresh temporary directory. Needs python3 and
# GNU time (/usr/bin/time). Each case runs under a 4 GiB address-space cap and a 90 s
# timeout, so a regression cannot take the machine down; exit 124 is the timeout.
# The inputs take about 1 GB of disk while the script runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN="$(realpath "${1:-target/release/mandrel}")"
WORK="${2:-$(mktemp -d)}"
HOSTILE_ENVELOPE="${HOSTILE_ENVELOPE:-target/release/examples/hostile_envelope}"
if [ ! -x "$HOSTILE_ENVELOPE" ]; then
  cargo build --release --locked -p mandrel-core --example hostile_envelope >&2
fi
SHARED="../shared/scans/td-full-pose-01"
[ -d "$SHARED" ] || SHARED=""
if [ ! -f "$WORK/.made" ]; then
  python3 tests/hostile/make_cases.py "$WORK" $SHARED >&2 && touch "$WORK/.made"
  "$BIN" keygen "$WORK/k" --force >/dev/null
  for kind in not-object mesh-not-ply bad-scan-id created-yesterday consent-after-creation; do
    "$HOSTILE_ENVELOPE" "$kind" "$WORK/k.pub" "$WORK/env-$kind.json"
  done
  python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
env = {"format": "mandrel-sealed", "version": 1,
       "suite": "X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20Poly1305",
       "recipient_key_id": "0123456789abcdef", "header": "{}", "enc": "A" * 43}
with open(w + "/env-300mb.json", "w") as f:
    f.write(json.dumps(env)[:-1] + ', "ciphertext": "' + "B" * 300_000_000 + '"}')
open(w + "/measurement.json", "w").write('{"version":1,"status":"ok"}')
PY
fi

failed=0
run() { # name, expected exit code(s) (e.g. 2, or 0|2), then the command; CASES (a regex) selects cases
  local name="$1" want="$2"; shift 2
  if [ -n "${CASES:-}" ] && ! [[ "$name" =~ $CASES ]]; then return; fi
  local t0 t1 rc rss
  t0=$(date +%s.%N)
  ( ulimit -v 4194304; /usr/bin/time -f "%M" -o "$WORK/$name.time" timeout 90 "$@" \
      >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null )
  rc=$?
  t1=$(date +%s.%N)
  rss=$(tail -n 1 "$WORK/$name.time" 2>/dev/null | grep -E '^[0-9]+$' || echo "?")
  local msg
  msg=$( (grep -E '^error' "$WORK/$name.err"; grep -v -E '^(Command|\s)' "$WORK/$name.err") | head -n 1 | cut -c1-150 | sed 's/|/\\|/g' | cat -v)
  [ -n "$msg" ] || msg="(stdout) $(head -n 1 "$WORK/$name.out" | cut -c1-100 | cat -v)"
  local verdict=ok
  if ! [[ "$rc" =~ ^($want)$ ]]; then verdict="FAIL: exit $want expected"; fi
  if [ "$rss" = "?" ] || [ "$rss" -gt $((512 * 1024)) ]; then verdict="FAIL: peak RSS over 512 MB"; fi
  [ "$verdict" = ok ] || failed=1
  printf '| %s | %s | %s | %s | %.1f | %s |\n' "$name" "$rc" "$msg" \
    "$( [ "$rss" = "?" ] && echo "?" || echo "$((rss / 1024)) MB")" "$(echo "$t1 - $t0" | bc)" "$verdict"
}

echo "| case | exit | message | peak RSS | time (s) | verdict |"
echo "|---|---|---|---|---|---|"
run huge-8192-x1 2 "$BIN" measure "$WORK/huge-8192-x1"
run huge-8192-x3 2 "$BIN" measure "$WORK/huge-8192-x3"
run plane-1920x1440-x10 2 "$BIN" measure "$WORK/plane-1920x1440-x10"
run entries-100k 2 "$BIN" measure "$WORK/entries-100k"
if [ -n "$SHARED" ]; then
  run replay-x3 2 "$BIN" measure --json "$WORK/replay-x3"
  run replay-x3-copies 0 "$BIN" measure --json "$WORK/replay-x3-copies"
  run fx-1e-300 2 "$BIN" measure "$WORK/fx-1e-300"
  run bad-last-frame 2 "$BIN" measure "$WORK/bad-last-frame"
fi
run symlink-outside 2 "$BIN" measure "$WORK/symlink-outside"
run dev-zero 2 "$BIN" measure "$WORK/dev-zero"
run fifo 2 "$BIN" measure "$WORK/fifo"
run voxel-cap 3 "$BIN" measure "$WORK/voxel-cap"
# Since frames are cut to the hand before fusion the scene fits the volume (exit 0, mesh
# written); reaching the cap would be exit 2. Never 1.
run voxel-cap-fuse "0|2" "$BIN" fuse "$WORK/voxel-cap-posed" -o "$WORK/voxel-cap.ply"
run voxel-cap-measure-posed 3 "$BIN" measure "$WORK/voxel-cap-posed"
run control-bytes 2 "$BIN" measure "$WORK/control-bytes"
run pose-200mb 2 "$BIN" measure "$WORK/pose-200mb"
run pose-17 2 "$BIN" measure "$WORK/pose-17"
run open-300mb 2 "$BIN" open "$WORK/env-300mb.json" --key "$WORK/k.key"
for kind in not-object mesh-not-ply bad-scan-id created-yesterday consent-after-creation; do
  run "open-$kind" 2 "$BIN" open "$WORK/env-$kind.json" --key "$WORK/k.key" --mesh-out "$WORK/mesh-$kind.ply"
  # A refused envelope writes nothing.
  if [ -e "$WORK/mesh-$kind.ply" ]; then echo "FAIL: open-$kind wrote $WORK/mesh-$kind.ply"; failed=1; fi
done
run seal-200mb 2 "$BIN" seal "$WORK/numbers-200mb.json" --to "$WORK/k.pub" --purpose p --scope measurement -o "$WORK/s.json"
run seal-to-private-key 2 "$BIN" seal "$WORK/measurement.json" --to "$WORK/k.key" --purpose p --scope measurement -o "$WORK/s2.json"
for k in key-binary key-utf16 key-dir; do
  run "open-$k" 2 "$BIN" open "$WORK/env-not-object.json" --key "$WORK/$k"
done
exit $failed
