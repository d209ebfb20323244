#!/usr/bin/env bash
# Installs what building and testing karmor needs on Debian 12, and nothing when it is all
# there already (so it also works without a network once installed).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git clang libclang-rt-14-dev
  libcli11-dev libcurl4-openssl-dev nlohmann-json3-dev libyaml-dev libyaml-cpp-dev libarchive-dev libssl-dev
  libgtest-dev libgmock-dev
  docker-registry skopeo apache2-utils openssl ca-certificates jq hyperfine time tinyproxy
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# The docker-registry package enables a system service on port 5000; tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  $sudo systemctl stop docker-registry || true
fi
