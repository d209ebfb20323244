#!/usr/bin/env bash
# Issue 18, goal 1 (start-up): times `karmor version`, `--help`, `completion bash` and
# `push --dry-run` against the floor, a C++ program linking only libstdc++
# (bench/floor_startup.cpp), in one hyperfine run; prints each with its ratio to the floor, the
# number of shared objects it loads (LD_DEBUG=files) and whether it meets the goal (median at
# most 1.5× the floor's).
#
#   bench/startup.sh [BUILD_DIR]          a Markdown table (header and rows)
#   source bench/startup.sh; startup_rows KARMOR_BINARY
#                                         only the rows "| measure | value | goal |", for bench/run.sh
# Environment: STARTUP_RUNS (default 300), STARTUP_WARMUP (default 30), CXX (default c++).
# The ratio uses medians: on a shared 2-core machine a few preempted runs move the mean a lot.

# The shared objects a command maps, counted by the dynamic loader (those it dlopens too).
startup_objects() {
  LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -c 'generating link map' || true
}

startup_rows() {
  local karmor=$1
  local source_dir
  source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local work
  work=$(mktemp -d)
  local floor="$work/floor_startup"
  "${CXX:-c++}" -O2 -o "$floor" "$source_dir/bench/floor_startup.cpp"
  local policies="$source_dir/examples/policies"
  local -a names=("floor (libstdc++ only)" "karmor version" "karmor --help" "karmor completion bash"
                  "karmor oci push --dry-run")
  local -a commands=("$floor" "$karmor version" "$karmor --help" "$karmor completion bash"
                     "$karmor oci push --dry-run -i localhost:5000/bench/startup:v1 -p $policies")
  hyperfine -N --warmup "${STARTUP_WARMUP:-30}" --runs "${STARTUP_RUNS:-300}" \
    --export-json "$work/startup.json" "${commands[@]}" >/dev/null 2>&1
  local floor_median
  floor_median=$(jq '.results[0].median * 1000' "$work/startup.json")
  local i
  for i in "${!commands[@]}"; do
    local median mean objects
    median=$(jq ".results[$i].median * 1000" "$work/startup.json")
    mean=$(jq ".results[$i].mean * 1000" "$work/startup.json")
    # shellcheck disable=SC2086  # the command is words, as hyperfine -N splits it
    objects=$(startup_objects ${commands[$i]})
    if [ "$i" -eq 0 ]; then
      printf '| start-up: %s | median %.2f ms (mean %.2f), %s objects | the floor |\n' \
        "${names[$i]}" "$median" "$mean" "$objects"
    else
      awk -v name="${names[$i]}" -v median="$median" -v mean="$mean" -v floor="$floor_median" -v objects="$objects" \
        'BEGIN { ratio = median / floor
                 printf "| start-up: `%s` | median %.2f ms (mean %.2f), %.2f× floor, %s objects | ≤ 1.5× floor: %s |\n",
                        name, median, mean, ratio, objects, (ratio <= 1.5 ? "yes" : "no") }'
    fi
  done
  rm -rf "$work"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  build=${1:-build}
  case "$build" in /*) karmor="$build/karmor" ;; *) karmor="$PWD/$build/karmor" ;; esac
  [ -x "$karmor" ] || { echo "startup: build first (scripts/build.sh); no $karmor" >&2; exit 1; }
  for tool in hyperfine jq; do
    command -v "$tool" >/dev/null || { echo "startup: $tool is missing (apt-get install $tool)" >&2; exit 1; }
  done
  echo "| measure | value | goal |"
  echo "|---|---|---|"
  startup_rows "$karmor"
fi
