#!/usr/bin/env bash
# Configures and builds karmor and its tests in ./build (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
# karmor's own libcurl (scripts/libcurl.sh); the system's libcurl when it cannot be built.
libcurl=$(scripts/libcurl.sh | tail -n 1) || {
  echo "build: !! karmor's own libcurl could not be built (above): this build loads the system's libcurl.so.4" >&2
  libcurl=""
}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKARMOR_WERROR=ON -DKARMOR_LIBCURL="$libcurl" >/dev/null
cmake --build build -j "$(nproc)"
