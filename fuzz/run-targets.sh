#!/usr/bin/env bash
# Runs each fuzz target in turn for SECONDS seconds (TARGET=SECONDS overrides one target) (one process, one job at a time), with
# the memory limits of issue 16: -rss_limit_mb=1024 -malloc_limit_mb=512, so a memory
# blow-up counts as a crash. Builds the targets first (cargo-fuzz, nightly), then runs the
# built binaries, so editing the sources while it runs changes nothing.
#   fuzz/run-targets.sh SECONDS [TARGET...]
# Corpora grow in fuzz/corpus/TARGET (seeded from fuzz/seeds/TARGET), crashes land in
# fuzz/artifacts/TARGET, logs in fuzz/logs/TARGET.log. Prints one summary line per target
# (runs, coverage, features, crashes) and exits non-zero if any target crashed.
set -uo pipefail
cd "$(dirname "$0")"
secs="${1:?usage: run-targets.sh SECONDS [TARGET...]}"; shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(envelope bundle depth_buffers manifest session store)
fi
# SKIP_BUILD=1 runs the binaries already built.
[ "${SKIP_BUILD:-0}" = 1 ] || cargo +nightly fuzz build || exit 1
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir="target/$triple/release"
mkdir -p logs
failed=0
for spec in "${targets[@]}"; do
  t="${spec%%=*}"
  secs_t="$secs"
  [ "$spec" = "$t" ] || secs_t="${spec#*=}"
  mkdir -p "corpus/$t" "artifacts/$t"
  start=$(date +%s)
  "$bin_dir/$t" -rss_limit_mb=1024 -malloc_limit_mb=512 -max_total_time="$secs_t" \
    -timeout=30 -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
    "corpus/$t" "seeds/$t" >"logs/$t.log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  last=$(grep -a -E '^#[0-9]+' "logs/$t.log" | tail -n 1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -n 1)
  crashes=$(find "artifacts/$t" -type f | wc -l)
  echo "$t: exit $rc in ${took}s, ${runs:-?} execs; last: ${last:-?}; crash files: $crashes"
  [ "$rc" -eq 0 ] || failed=1
done
exit $failed
