#!/usr/bin/env bash
# Installs the build into a temporary prefix, builds tests/consumer against it with
# find_package(karmor), runs it, and checks the pkg-config file, completions and man page.
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
out=$("$work/consumer/consumer" "$source/examples/policies")
[ "$out" = "localhost:5000/team/policies:v1 4" ] || { echo "consumer printed: $out"; exit 1; }
include_dir=$(PKG_CONFIG_PATH=$(dirname "$(find "$work/prefix" -name karmor.pc)") pkg-config --cflags karmor | sed 's/^-I//; s/ .*//')
[ -f "$include_dir/karmor/oci.hpp" ] || { echo "pkg-config points to $include_dir"; exit 1; }
for f in bin/karmor share/man/man1/karmor-oci.1 share/bash-completion/completions/karmor \
         share/zsh/vendor-completions/_karmor share/fish/vendor_completions.d/karmor.fish include/karmor/oci.hpp; do
  [ -e "$work/prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
"$work/prefix/bin/karmor" completion bash | cmp - "$work/prefix/share/bash-completion/completions/karmor"
# A build with karmor's own libcurl installs it in lib/karmor/, and the installed karmor opens it
# there (not the system's): the loader's trace of a command that reaches for a registry.
if [ -f "$build/libkarmor-curl.so" ]; then
  [ -f "$work/prefix/lib/karmor/libkarmor-curl.so" ] || { echo "not installed: lib/karmor/libkarmor-curl.so"; exit 1; }
  loaded=$( (LD_DEBUG=files "$work/prefix/bin/karmor" oci tags --plain-http 127.0.0.1:1/none 2>&1 || true) | grep -o 'file=[^ ]*curl[^ ]*' | sort -u)
  [ "$loaded" = "file=$work/prefix/lib/karmor/libkarmor-curl.so" ] || { echo "the installed karmor loaded: $loaded"; exit 1; }
fi
echo "consumer: built and ran against the installed package"
