#!/usr/bin/env bash
# The main job, end to end: start a throwaway docker-registry on loopback, push the example
# policies, pull them back, show them, stop the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j "$(nproc)" --target karmor >/dev/null

work=$(mktemp -d)
registry_pid=""
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/config.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: 127.0.0.1:0
  secret: karmor-demo
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/registry.log" | head -n1 | sed 's/.*://') || true
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then echo "demo: docker-registry did not start:" >&2; cat "$work/registry.log" >&2; exit 1; fi
echo "demo: docker-registry listening on 127.0.0.1:$port"

set -x
./build/karmor oci push -i "localhost:$port/myimage:latest" -p examples/policies
./build/karmor oci pull -i "localhost:$port/myimage:latest" -o "$work/mydir"
set +x
for f in "$work"/mydir/*.yaml; do
  echo "----- $(basename "$f")"
  cat "$f"
done
echo "demo: done; the registry is stopped and $work removed"
