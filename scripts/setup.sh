#!/usr/bin/env bash
# Installs what building and testing karmor needs on Debian 12, and nothing when it is all
# there already (so it also works without a network once installed): the GCC build, the Clang
# sanitizer and libFuzzer stage (clang, libclang-rt-14-dev), clang-format, ccache, and the
# programs the tests run (docker-registry, skopeo, tinyproxy, ...). The peers built with Go
# (ORAS, cosign, the referrers registry) are scripts/peers.sh's: Debian's Go is too old for them.
set -euo pipefail

packages=(
  zsh fish  # the completion tests run the generated scripts in every shell they are for
  build-essential cmake pkg-config git clang libclang-rt-14-dev clang-format ccache
  libcli11-dev libcurl4-openssl-dev nlohmann-json3-dev libyaml-dev libyaml-cpp-dev libarchive-dev libssl-dev libsodium-dev
  libgtest-dev libgmock-dev
  libtomlplusplus-dev  # registries.conf and containerd's hosts.toml (src/mirrors/), header only
  docker-registry skopeo apache2-utils openssl ca-certificates jq hyperfine time tinyproxy
  python3-grpcio  # the test double of the KubeArmor daemon's gRPC PolicyService (tests/support/kubearmor_daemon.py)
  etcd-server  # the storage of the real Kubernetes API server of the `apply --kube` tests
  dpkg-dev libnghttp2-dev  # karmor's own libcurl, built from Debian's source package (scripts/libcurl.sh)
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
# The docker-registry, tinyproxy and etcd-server packages enable system services (ports 5000,
# 8888, 2379); tests start their own on ports the kernel picks.
for service in docker-registry tinyproxy etcd; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    $sudo systemctl stop "$service" || true
  fi
done
