#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. GCC build with warnings as errors: unit, registry and end-to-end tests;
#   2. Clang build with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests;
#   3. every libFuzzer target for a bounded time (KARMOR_FUZZ_SECONDS, default 20 each).
# Tests that need docker-registry, skopeo, htpasswd or openssl fail (they do not skip) when one
# is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
unset KARMOR_TESTS_ALLOW_SKIP
jobs=$(nproc)

echo "== GCC build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKARMOR_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

echo "== Clang build with ASan + UBSan, and the fuzz targets"
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKARMOR_WERROR=ON \
  -DKARMOR_SANITIZE=ON -DKARMOR_FUZZ=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900

echo "== Fuzzing"
scripts/fuzz.sh build-asan "${KARMOR_FUZZ_SECONDS:-20}"
