#!/usr/bin/env bash
# The performance benchmark of issue 7: prints a Markdown table of request counts, cold start,
# one-policy push/pull next to skopeo, and large policy sets (wall time, peak RSS), all against
# a throwaway docker-registry on loopback. Usage: bench/run.sh [BUILD_DIR] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
quick=${2:-}
case "$build" in /*) karmor="$build/karmor" ;; *) karmor="$PWD/$build/karmor" ;; esac
[ -x "$karmor" ] || { echo "bench: build first (scripts/build.sh); no $karmor" >&2; exit 1; }
for tool in docker-registry skopeo hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install docker-registry skopeo hyperfine time)" >&2; exit 1; }
done

source scripts/local-registry.sh
work=$(mktemp -d)
cleanup() { stop_local_registry; rm -rf "$work"; }
trap cleanup EXIT
start_local_registry "$work/registry"
reg="localhost:$REGISTRY_PORT"
runs=15
[ "$quick" = "--quick" ] && runs=5

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns/1e6}'; }
requests() { count_registry_requests "$work/registry"; }

mkdir -p "$work/one"
cat > "$work/one/policy.yaml" <<'YAML'
apiVersion: security.kubearmor.com/v1
kind: KubeArmorPolicy
metadata:
  name: block-shell
  namespace: shop
spec:
  severity: 7
  selector:
    matchLabels:
      app: nginx
  process:
    matchPaths:
      - path: /bin/sh
      - path: /bin/bash
  action: Block
YAML

echo "| measure | value | goal |"
echo "|---|---|---|"

# HTTP requests per operation, from the registry's access log.
before=$(requests); "$karmor" oci push -i "$reg/req:v1" -p "$work/one/policy.yaml" >/dev/null 2>&1; fresh=$(( $(requests) - before ))
before=$(requests); "$karmor" oci push -i "$reg/req:v1" -p "$work/one/policy.yaml" >/dev/null 2>&1; repush=$(( $(requests) - before ))
before=$(requests); "$karmor" oci pull -i "$reg/req:v1" -o "$work/req-out" >/dev/null 2>&1; pulls=$(( $(requests) - before ))
echo "| requests: fresh push of one policy | $fresh | ≤ 8 |"
echo "| requests: unchanged re-push | $repush | ≤ 3 |"
echo "| requests: pull | $pulls | ≤ 3 |"

# Cold start.
hyperfine -N --warmup 5 --runs 50 --export-json "$work/version.json" "$karmor version" >/dev/null 2>&1
version_ms=$(jq '.results[0].median * 1000' "$work/version.json")
printf '| `karmor version` median | %.2f ms | ≤ 5 ms |\n' "$version_ms"

# One policy: karmor push/pull next to skopeo copy moving the same artifact, median of $runs.
# Every run pushes to a new tag (blobs already there), every pull goes to a new directory.
"$karmor" oci push -i "$reg/one:src" -p "$work/one/policy.yaml" >/dev/null 2>&1
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$REGISTRY_PORT/one:src" "oci:$work/layout:v1" >/dev/null
kp=(); kl=(); sp=(); sl=()
for i in $(seq 1 "$runs"); do
  t=$(now_ns); "$karmor" oci push -i "$reg/one:k$i" -p "$work/one/policy.yaml" >/dev/null 2>&1; kp+=($(( $(now_ns) - t )))
  t=$(now_ns); "$karmor" oci pull -i "$reg/one:src" -o "$work/kpull$i" >/dev/null 2>&1; kl+=($(( $(now_ns) - t )))
  t=$(now_ns); skopeo copy -q --dest-tls-verify=false "oci:$work/layout:v1" "docker://127.0.0.1:$REGISTRY_PORT/one:s$i" >/dev/null 2>&1; sp+=($(( $(now_ns) - t )))
  t=$(now_ns); skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$REGISTRY_PORT/one:src" "oci:$work/spull$i:v1" >/dev/null 2>&1; sl+=($(( $(now_ns) - t )))
done
kpm=$(printf '%s\n' "${kp[@]}" | median); klm=$(printf '%s\n' "${kl[@]}" | median)
spm=$(printf '%s\n' "${sp[@]}" | median); slm=$(printf '%s\n' "${sl[@]}" | median)
echo "| one policy push: karmor / skopeo (median of $runs) | $(ms "$kpm") ms / $(ms "$spm") ms = $(awk -v a="$kpm" -v b="$spm" 'BEGIN{printf "%.2f", a/b}')× | ≤ 0.5× |"
echo "| one policy pull: karmor / skopeo (median of $runs) | $(ms "$klm") ms / $(ms "$slm") ms = $(awk -v a="$klm" -v b="$slm" 'BEGIN{printf "%.2f", a/b}')× | ≤ 0.5× |"

# Large policy sets: wall time and peak RSS of one push and one pull. Pulls write into
# KARMOR_BENCH_OUT (default /dev/shm when writable): on a disk, creating 10,000 files can
# cost the file system seconds that say nothing about karmor, so the floor of that directory
# (bash writing the same number of files) is printed next to it.
out_root=${KARMOR_BENCH_OUT:-/dev/shm}
[ -d "$out_root" ] && [ -w "$out_root" ] || out_root=$work
out_root=$(mktemp -d "$out_root/karmor-bench-XXXXXX")
trap 'cleanup; rm -rf "$out_root"' EXIT
sizes="1000 10000 100000"
[ "$quick" = "--quick" ] && sizes="1000 10000"
for n in $sizes; do
  bench/generate_policies.sh "$n" "$work/gen$n"
  /usr/bin/time -f "%e %M" -o "$work/push$n.time" "$karmor" oci push -i "$reg/bulk:n$n" -p "$work/gen$n" >/dev/null 2>"$work/push$n.err" \
    || { cat "$work/push$n.err" >&2; exit 1; }
  /usr/bin/time -f "%e %M" -o "$work/pull$n.time" "$karmor" oci pull -i "$reg/bulk:n$n" -o "$out_root/out$n" >/dev/null 2>"$work/pull$n.err" \
    || { cat "$work/pull$n.err" >&2; exit 1; }
  read -r push_s push_kb < "$work/push$n.time"
  read -r pull_s pull_kb < "$work/pull$n.time"
  goal_time="≤ 1.0 s"; goal_rss="≤ 100 MB"
  [ "$n" = 100000 ] && goal_time="≤ 12× the 10,000 figure" && goal_rss="≤ 300 MB"
  [ "$n" = 1000 ] && goal_time="-" && goal_rss="-"
  echo "| push $n policies: wall, peak RSS | $push_s s, $((push_kb / 1024)) MB | $goal_time, $goal_rss |"
  echo "| pull $n policies: wall, peak RSS | $pull_s s, $((pull_kb / 1024)) MB | $goal_time, $goal_rss |"
  mkdir "$out_root/floor$n"
  t=$(now_ns); for ((i = 0; i < n; i++)); do printf '%450s' x > "$out_root/floor$n/f$i.yaml"; done
  echo "| floor: bash writing $n files of 450 bytes into $out_root | $(ms $(( $(now_ns) - t ))) ms | - |"
  rm -rf "$work/gen$n" "$out_root/out$n" "$out_root/floor$n"
done
echo
echo "Pull output directory: $out_root ($(df -T "$out_root" | awk 'NR==2 {print $2}'))"
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), karmor $("$karmor" version | head -n1)"
