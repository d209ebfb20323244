#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Tests that need docker-registry,
# skopeo, htpasswd or openssl fail (they do not skip) when one is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
unset KARMOR_TESTS_ALLOW_SKIP
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
