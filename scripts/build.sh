#!/usr/bin/env bash
# Configures and builds karmor and its tests in ./build (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKARMOR_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)"
