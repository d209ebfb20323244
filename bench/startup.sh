#!/usr/bin/env bash
# Issues 18 and 26 (start-up): times the commands that do no work (`karmor version`, `--help`,
# `oci --help`, `completion bash` and `zsh`, a sample of commands' `--help`) and `push --dry-run`
# against the floor, a C++ program linking only libstdc++
# (bench/floor_startup.cpp), in one hyperfine run; prints each with its ratio to the floor, the
# number of shared objects it loads (LD_DEBUG=files) and whether it meets the goal (median at
# most 1.5× the floor's). The ratio is the median over STARTUP_ROUNDS rounds of one hyperfine
# run each (every command), of the command's median over the floor's in that round.
#
#   bench/startup.sh [BUILD_DIR]          a Markdown table (header and rows)
#   source bench/startup.sh; startup_rows KARMOR_BINARY
#                                         only the rows "| measure | value | goal |", for bench/run.sh
# Environment: STARTUP_ROUNDS (default 5), STARTUP_RUNS per command and round (default 60),
# STARTUP_WARMUP (default 20), CXX (default c++). Medians, not means: on a shared 2-core machine
# a few preempted runs move the mean a lot. "fastest" is the quickest single run.

# The shared objects a command maps, counted by the dynamic loader (those it dlopens too).
startup_objects() {
  LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -c 'generating link map' || true
}

startup_median() {
  sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
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
  # The commands that do no work (issue 26: each ≤ 1.5× the floor): version, the root's and oci's
  # help (which lists every oci command), the completion script, and a sample of commands' help:
  # push, and apply, follow and verify, which take the longest to define.
  local -a quick=("version" "--help" "oci --help" "completion bash" "completion zsh" "oci push --help"
                  "oci apply --help" "oci follow --help" "oci verify --help")
  local -a names=("floor (libstdc++ only)") commands=("$floor") word
  for word in "${quick[@]}"; do
    names+=("karmor $word")
    commands+=("$karmor $word")
  done
  names+=("karmor oci push --dry-run" "karmor oci push --dry-run (one policy)")
  commands+=("$karmor oci push --dry-run -i localhost:5000/bench/startup:v1 -p $policies"
             "$karmor oci push --dry-run -i localhost:5000/bench/startup:v1 -p $policies/ksp-block-shell.yaml")
  # Several rounds, each timing every command: the load of a shared machine changes while
  # hyperfine times one command after the other, and the median of the rounds evens that out.
  local rounds=${STARTUP_ROUNDS:-5} round
  for round in $(seq "$rounds"); do
    hyperfine -N --warmup "${STARTUP_WARMUP:-20}" --runs "${STARTUP_RUNS:-60}" \
      --export-json "$work/round$round.json" "${commands[@]}" >/dev/null 2>&1
  done
  local i
  for i in "${!commands[@]}"; do
    local medians ratios mins median ratio min objects
    medians=$(for round in $(seq "$rounds"); do jq ".results[$i].median * 1000" "$work/round$round.json"; done)
    ratios=$(for round in $(seq "$rounds"); do
      jq ".results[$i].median / .results[0].median" "$work/round$round.json"; done)
    mins=$(for round in $(seq "$rounds"); do jq ".results[$i].min * 1000" "$work/round$round.json"; done)
    median=$(echo "$medians" | startup_median)
    ratio=$(echo "$ratios" | startup_median)
    min=$(echo "$mins" | sort -g | head -n1)
    # shellcheck disable=SC2086  # the command is words, as hyperfine -N splits it
    objects=$(startup_objects ${commands[$i]})
    if [ "$i" -eq 0 ]; then
      printf '| start-up: %s | median %.2f ms (fastest %.2f), %s objects | the floor |\n' \
        "${names[$i]}" "$median" "$min" "$objects"
    else
      # Issue 26: a command that does no work ≤ 1.5× the floor; push --dry-run of one policy ≤ 3×;
      # of the four example policies (a tar+gzip layer through libarchive), no goal.
      local limit=1.5
      case "${names[$i]}" in *"(one policy)") limit=3 ;; *"--dry-run") limit=- ;; esac
      awk -v name="${names[$i]}" -v median="$median" -v min="$min" -v ratio="$ratio" -v objects="$objects" -v limit="$limit" \
        'BEGIN { printf "| start-up: `%s` | median %.2f ms (fastest %.2f), %.2f× floor, %s objects | %s |\n",
                        name, median, min, ratio, objects,
                        (limit == "-" ? "-" : sprintf("≤ %s× floor: %s", limit, (ratio <= limit + 0 ? "yes" : "no"))) }'
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
