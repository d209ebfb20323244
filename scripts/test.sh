#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. GCC build with warnings as errors: unit, registry and end-to-end tests;
#   1b. Release (-O3) builds of the library and the binary with GCC and with Clang, warnings
#       as errors: optimizers warn about things (-Wrestrict, -Wmaybe-uninitialized) that
#       RelWithDebInfo does not show;
#   2. Clang build with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests;
#   3. every libFuzzer target for a bounded time (KARMOR_FUZZ_SECONDS, default 20 each).
# Tests that need docker-registry, skopeo, htpasswd or openssl fail (they do not skip) when one
# is missing. The peers (ORAS, cosign, a registry with the referrers API) are built once by
# scripts/peers.sh with Go >= 1.25 and cached; a machine without Go may opt out with
# KARMOR_SKIP_PEERS=1, and the run then says loudly which tests did not run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
unset KARMOR_TESTS_ALLOW_SKIP
jobs=$(nproc)

# With KARMOR_SKIP_PEERS=1, on the way out (also after a failure): which tests did not run,
# from what each skipped test printed ("PEER TEST NOT RUN: Suite.Test needs 'oras' ...").
peers_banner() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  echo "!! KARMOR_SKIP_PEERS=1: these tests against ORAS, cosign and the referrers-API registry" >&2
  echo "!! did NOT run:" >&2
  cat build/Testing/Temporary/LastTest.log build-asan/Testing/Temporary/LastTest.log 2>/dev/null |
    grep -o 'PEER TEST NOT RUN: [^ ]*' | sed 's/PEER TEST NOT RUN: /!!   /' | sort -u >&2 || true
  echo "!! Get Go >= 1.25 (https://go.dev/doc/install), run scripts/peers.sh, unset KARMOR_SKIP_PEERS." >&2
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
}

echo "== Peers (ORAS, cosign, referrers-API registry)"
if [ "${KARMOR_SKIP_PEERS:-}" = 1 ]; then
  echo "!! KARMOR_SKIP_PEERS=1: the peers are not built and the tests that need them will not run" >&2
  trap peers_banner EXIT
else
  unset KARMOR_SKIP_PEERS
  if ! peers_out=$(scripts/peers.sh); then
    echo "test: scripts/peers.sh could not build the peer programs (see above): the ORAS, cosign and" >&2
    echo "test: referrers-registry tests need them. Install Go >= 1.25 with access to the Go module" >&2
    echo "test: proxy, or set KARMOR_SKIP_PEERS=1 to run without those tests." >&2
    exit 1
  fi
  KARMOR_PEERS_BIN=$(printf '%s\n' "$peers_out" | tail -n 1)
  export KARMOR_PEERS_BIN
  echo "peers: $KARMOR_PEERS_BIN"
fi

echo "== karmor's own libcurl (HTTP and HTTPS only, from Debian's curl source package)"
if [ "${KARMOR_SYSTEM_LIBCURL:-}" = 1 ]; then
  echo "!! KARMOR_SYSTEM_LIBCURL=1: every build loads the system's libcurl.so.4" >&2
  libcurl=""
elif ! libcurl=$(scripts/libcurl.sh | tail -n 1); then
  echo "test: scripts/libcurl.sh could not build karmor's libcurl (see above); it needs the Debian" >&2
  echo "test: mirror's source index. KARMOR_SYSTEM_LIBCURL=1 builds with the system's libcurl instead." >&2
  exit 1
fi
if [ -n "$libcurl" ]; then echo "libcurl: $libcurl"; else echo "libcurl: the system's libcurl.so.4"; fi

# ccache (from setup.sh) makes a second run on the same machine rebuild only what changed; the
# base directory makes hits independent of where the clone is.
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
fi

echo "== GCC build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKARMOR_WERROR=ON -DKARMOR_LIBCURL="$libcurl" >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

echo "== Release builds with GCC and Clang (compile only)"
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
for compiler in g++ clang++; do
  dir="build-release-${compiler%++}"
  CXX=$compiler cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DKARMOR_WERROR=ON -DKARMOR_BUILD_TESTS=OFF \
    -DKARMOR_LIBCURL="$libcurl" \
    "${launcher[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs" --target karmor karmor_lib
done

echo "== Clang build with ASan + UBSan, and the fuzz targets"
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKARMOR_WERROR=ON -DKARMOR_LIBCURL="$libcurl" \
  -DKARMOR_SANITIZE=ON -DKARMOR_FUZZ=ON >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900

echo "== Fuzzing"
scripts/fuzz.sh build-asan "${KARMOR_FUZZ_SECONDS:-20}"
