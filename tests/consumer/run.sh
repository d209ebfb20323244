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
echo "consumer: built and ran against the installed package"
