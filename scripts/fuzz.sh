#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on a copy of its seed corpus.
# Usage: scripts/fuzz.sh BUILD_DIR [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in reference_fuzz www_authenticate_fuzz manifest_fuzz policy_fuzz archive_fuzz key_envelope_fuzz keyless_material_fuzz mirror_config_fuzz; do
  corpus="fuzz/corpus/${target%_fuzz}"
  mkdir -p "$work/$target"
  cp -r "$corpus"/. "$work/$target"/
  echo "fuzz: $target for ${seconds}s"
  "$build/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/$target" 2>"$work/$target.log" || {
      echo "fuzz: $target FAILED"; tail -n 60 "$work/$target.log"; mkdir -p fuzz-artifacts; cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* fuzz-artifacts/ 2>/dev/null || true; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$target.log" | sed "s/^/fuzz: $target /"
done
echo "fuzz: all targets ran clean"
