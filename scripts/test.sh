#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. GCC build with warnings as errors: unit, registry and end-to-end tests;
#   1b. Release (-O3) builds of the library and the binary with GCC and with Clang, warnings
#       as errors: optimizers warn about things (-Wrestrict, -Wmaybe-uninitialized) that
#       RelWithDebInfo does not show;
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

echo "== Release builds with GCC and Clang (compile only)"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
for compiler in g++ clang++; do
  dir="build-release-${compiler%++}"
  CXX=$compiler cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DKARMOR_WERROR=ON -DKARMOR_BUILD_TESTS=OFF \
    "${launcher[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs" --target karmor karmor_lib
done

echo "== Clang build with ASan + UBSan, and the fuzz targets"
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKARMOR_WERROR=ON \
  -DKARMOR_SANITIZE=ON -DKARMOR_FUZZ=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900

echo "== Fuzzing"
scripts/fuzz.sh build-asan "${KARMOR_FUZZ_SECONDS:-20}"
