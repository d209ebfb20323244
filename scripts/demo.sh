#!/usr/bin/env bash
# The main job, end to end: start a throwaway docker-registry on loopback, push the example
# policies, pull them back, show them, stop the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
libcurl=$(scripts/libcurl.sh | tail -n 1) || {
  echo "demo: !! karmor's own libcurl could not be built (above): using the system's libcurl.so.4" >&2
  libcurl=""
}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKARMOR_LIBCURL="$libcurl" >/dev/null &&
  cmake --build build -j "$(nproc)" --target karmor >/dev/null

source scripts/local-registry.sh
work=$(mktemp -d)
cleanup() { stop_local_registry; rm -rf "$work"; }
trap cleanup EXIT
start_local_registry "$work/registry"
port=$REGISTRY_PORT
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
