#!/usr/bin/env bash
# Builds the peer programs that the tests check karmor against, from pinned Go module versions,
# into a cache this script owns, once; later runs reuse them (SPEC §13):
#   oras                 oras.land/oras/cmd/oras@v1.3.6
#   cosign               github.com/sigstore/cosign/v3/cmd/cosign@v3.1.2
#   cosign-v2            github.com/sigstore/cosign/v2/cmd/cosign@v2.6.4 (reads only .sig tags)
#   referrers-registry   tests/support/referrers_registry (go-containerregistry v0.22.1 with the
#                        referrers API on)
#   sigstore-verify      tests/support/sigstore_verify: @sigstore/verify 3.1.1 (Sigstore's
#                        JavaScript verifier) run by node >= 20.17 from the npm registry
#   timestamp-server     github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server@v2.1.3
#   rekor-server-posix   github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix@v2.3.0 (Rekor v2)
#   apiextensions-apiserver  k8s.io/apiextensions-apiserver@v0.37.2: the Kubernetes API server of
#                        custom resources, for `apply --kube` (with Debian's etcd)
# The cache is $KARMOR_PEERS_DIR, default ~/.cache/karmor-peers. Prints the bin directory on the
# last line of stdout; tests find the programs there through KARMOR_PEERS_BIN.
# Needs Go >= 1.25 and the Go module proxy the first time (a few minutes, most of it cosign);
# later runs take well under a second. scripts/test.sh runs it; KARMOR_SKIP_PEERS=1 opts out
# there, and the run then says loudly which tests did not run.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${KARMOR_PEERS_DIR:-$HOME/.cache/karmor-peers}
bin=$cache/bin
mkdir -p "$bin"
# One build at a time per cache (two worktrees, or CI and a developer, may start it together).
exec 9>"$cache/.lock"
if ! flock -n 9; then
  echo "peers: another scripts/peers.sh is building into $cache; waiting for it" >&2
  flock 9
fi

if ! command -v go >/dev/null 2>&1; then
  echo "peers: Go is not installed; the ORAS, cosign and referrers-registry tests need Go >= 1.25" >&2
  echo "peers: install it (https://go.dev/doc/install) or set KARMOR_SKIP_PEERS=1 to run without them" >&2
  exit 1
fi
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$go_minor" ] || [ "$go_minor" -lt 25 ]; then
  echo "peers: $(go env GOVERSION) is too old; the peers need Go >= 1.25 (or KARMOR_SKIP_PEERS=1)" >&2
  exit 1
fi

# install NAME MODULE@VERSION: builds into $cache/NAME-VERSION unless it is there, links bin/NAME.
install_module() {
  local name=$1 module=$2 version=${2##*@}
  local dir=$cache/$name-$version
  if [ ! -x "$dir/$(basename "${module%@*}")" ]; then
    echo "peers: building $name from $module (first run only; this takes a few minutes)" >&2
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    GOBIN=$dir.tmp GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "$module" >&2 || return 1
    rm -rf "$dir" && mv "$dir.tmp" "$dir" || return 1
  fi
  ln -sfn "$dir/$(basename "${module%@*}")" "$bin/$name"
}

install_module oras oras.land/oras/cmd/oras@v1.3.6
install_module cosign github.com/sigstore/cosign/v3/cmd/cosign@v3.1.2
# The older verifier is optional: when it does not build, the tests that use it say so, and
# later runs do not try again (minutes each) unless KARMOR_PEERS_RETRY=1.
cosign_v2_failed=$cache/cosign-v2-v2.6.4.failed
if [ -e "$cosign_v2_failed" ] && [ "${KARMOR_PEERS_RETRY:-}" != 1 ]; then
  echo "peers: cosign v2.6.4 did not build before ($cosign_v2_failed); the cosign v2 checks will not run" >&2
  rm -f "$bin/cosign-v2"
elif install_module cosign-v2 github.com/sigstore/cosign/v2/cmd/cosign@v2.6.4; then
  rm -f "$cosign_v2_failed"
else
  date -u > "$cosign_v2_failed"
  rm -f "$bin/cosign-v2"
  echo "peers: cosign v2.6.4 did not build; the cosign v2 checks will not run" >&2
fi

# The referrers registry is built from this tree; rebuilt when its sources change.
source_dir=tests/support/referrers_registry
stamp=$(cat "$source_dir"/go.mod "$source_dir"/go.sum "$source_dir"/*.go | sha256sum | cut -c1-16)
dir=$cache/referrers-registry-$stamp
if [ ! -x "$dir/referrers-registry" ]; then
  echo "peers: building referrers-registry" >&2
  mkdir -p "$dir"
  (cd "$source_dir" && GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -o "$dir/referrers-registry" .) >&2
fi
ln -sfn "$dir/referrers-registry" "$bin/referrers-registry"

# The Kubernetes API server of the `apply --kube` tests (shared/KUBE-TEST-SERVER.md): the
# standalone server of custom resources, the code that serves them inside kube-apiserver. Its own
# block: a cold build takes about 9 minutes on 2 cores (a 120 MB binary); later runs reuse it.
install_module apiextensions-apiserver k8s.io/apiextensions-apiserver@v0.37.2

# Sigstore's JavaScript verifier, installed from the npm registry into the cache (versions pinned
# in its package.json), reinstalled when that directory changes. Optional like cosign-v2: without
# node or npm the test that uses it says so.
source_dir=tests/support/sigstore_verify
stamp=$(cat "$source_dir"/package.json "$source_dir"/verify-bundle.mjs | sha256sum | cut -c1-16)
dir=$cache/sigstore-verify-$stamp
node_ok=0
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  # @sigstore/verify 3.1.1 needs node ^20.17 or >= 22.9.
  node -e 'const [a, b] = process.versions.node.split(".").map(Number);
           process.exit((a === 20 && b >= 17) || (a === 22 && b >= 9) || a > 22 ? 0 : 1)' && node_ok=1
fi
if [ "$node_ok" != 1 ]; then
  echo "peers: node >= 20.17 and npm are needed for the @sigstore/verify check; it will not run" >&2
  rm -f "$bin/sigstore-verify"
else
  if [ ! -e "$dir/.installed" ]; then
    echo "peers: installing @sigstore/verify with npm" >&2
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$source_dir"/package.json "$source_dir"/verify-bundle.mjs "$dir"/
    if (cd "$dir" && npm install --no-audit --no-fund --omit=dev >&2); then
      printf '#!/bin/sh\nexec node "%s/verify-bundle.mjs" "$@"\n' "$dir" > "$dir/sigstore-verify"
      chmod +x "$dir/sigstore-verify"
      touch "$dir/.installed"
    else
      echo "peers: npm install of @sigstore/verify failed; the @sigstore/verify check will not run" >&2
    fi
  fi
  if [ -e "$dir/.installed" ]; then ln -sfn "$dir/sigstore-verify" "$bin/sigstore-verify"; else rm -f "$bin/sigstore-verify"; fi
fi

# Sigstore's RFC 3161 timestamp authority and Rekor v2 log (issue 24), which the tests run on
# loopback with keys they make (tests/support/sigstore_services.hpp). timestamp-server serves its
# metrics on port 2112 whatever its flags say; the tests that start it take turns on a lock.
install_module timestamp-server github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server@v2.1.3
install_module rekor-server-posix github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix@v2.3.0

echo "$bin"
