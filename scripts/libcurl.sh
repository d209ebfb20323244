#!/usr/bin/env bash
# Builds karmor's private libcurl, libkarmor-curl.so, once, and prints its path on the last line
# of stdout; CMake takes it with -DKARMOR_LIBCURL=PATH and puts it beside the karmor binary.
#
# Why: Debian's libcurl4 (the OpenSSL flavour) pulls in 32 shared objects (LDAP, Kerberos,
# GnuTLS through LDAP, SSH, RTMP, IDN, PSL, ...) and initialises libssh2 and GnuTLS on every
# run, which was a quarter of the CPU of pulling one policy (docs/benchmarks.md, round three).
# This is the same libcurl, built from Debian's own source package of the version installed
# (so with Debian's security patches, and the ABI of the headers karmor compiles against), with
# HTTP and HTTPS only: OpenSSL, nghttp2 (gRPC), zlib and the threaded resolver. Without it,
# karmor loads the system's libcurl.so.4 as before. One patch (scripts/libcurl-lazy-tls.patch)
# moves OpenSSL's initialisation from curl_global_init to the first TLS connection.
#
# The source comes from the Debian mirror in /etc/apt/sources.list.d/debian.sources (or
# sources.list), through a private apt state: the system's apt configuration is not changed.
# apt checks the source package against the signed Sources index. The result is cached in
# $KARMOR_PEERS_DIR (default ~/.cache/karmor-peers)/libcurl-VERSION; later runs take
# milliseconds. A first build takes about a minute on two cores.
set -euo pipefail

cache=${KARMOR_PEERS_DIR:-$HOME/.cache/karmor-peers}
mkdir -p "$cache"

version=$(dpkg-query -W -f='${Version}' libcurl4-openssl-dev 2>/dev/null || true)
if [ -z "$version" ]; then
  echo "libcurl: libcurl4-openssl-dev is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
# karmor's changes to the source, each with its reason in the patch: the cache is keyed on them.
patches=("$(dirname "$0")/libcurl-lazy-tls.patch")
patch_key=$(cat "${patches[@]}" | sha256sum | cut -c1-12)
dir=$cache/libcurl-$version-$patch_key
library=$dir/libkarmor-curl.so
if [ -f "$library" ]; then
  echo "$library"
  exit 0
fi

exec 8>"$cache/.libcurl.lock"
flock 8
if [ -f "$library" ]; then
  echo "$library"
  exit 0
fi

for tool in dpkg-source make cc patch; do
  command -v "$tool" >/dev/null || {
    echo "libcurl: $tool is missing (scripts/setup.sh installs dpkg-dev and build-essential)" >&2
    exit 1
  }
done
[ -f /usr/include/nghttp2/nghttp2.h ] || {
  echo "libcurl: libnghttp2-dev is missing (scripts/setup.sh installs it)" >&2
  exit 1
}

work=$(mktemp -d "$cache/libcurl-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "libcurl: building libkarmor-curl.so from Debian's curl $version source package (first run only)" >&2

# A deb-src twin of each deb entry of the system's Debian sources, in a private apt state.
mkdir -p "$work/apt/lists/partial" "$work/apt/archives/partial" "$work/apt/sources.list.d"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$work/apt/sources.list.d/debian-src.sources"
fi
if [ -f /etc/apt/sources.list ]; then
  sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list >"$work/apt/sources.list.d/debian-src.list"
fi
apt_options=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache::Archives=$work/apt/archives"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
if ! apt-get "${apt_options[@]}" -q update >"$work/apt.log" 2>&1; then
  cat "$work/apt.log" >&2
  echo "libcurl: cannot read the Debian mirror's source index (see above)" >&2
  exit 1
fi
# The installed version first; a mirror that has moved on serves the newest of the release.
(cd "$work" && { apt-get "${apt_options[@]}" -q --download-only source "curl=$version" ||
  apt-get "${apt_options[@]}" -q --download-only source curl; } >>"$work/apt.log" 2>&1) || {
  cat "$work/apt.log" >&2
  echo "libcurl: cannot download Debian's curl source package (see above)" >&2
  exit 1
}
(cd "$work" && dpkg-source -x ./curl_*.dsc src >>"$work/apt.log" 2>&1) || {
  cat "$work/apt.log" >&2
  echo "libcurl: cannot unpack Debian's curl source package (see above)" >&2
  exit 1
}

for p in "${patches[@]}"; do
  patch -d "$work/src" -p1 --quiet <"$p" >>"$work/apt.log" 2>&1 || {
    cat "$work/apt.log" >&2
    echo "libcurl: $p does not apply to Debian's curl $version source" >&2
    exit 1
  }
done

# Debian's own configure choices where karmor uses them (versioned symbols, threaded resolver,
# the CA locations); everything an OCI, Sigstore or Kubernetes client does not speak is off.
(cd "$work/src" && ./configure --disable-dependency-tracking --enable-versioned-symbols \
  --enable-threaded-resolver --with-openssl --with-nghttp2 --with-zlib \
  --with-ca-path=/etc/ssl/certs --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt \
  --enable-shared --disable-static --disable-manual --disable-docs \
  --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
  --disable-pop3 --disable-imap --disable-smtp --disable-gopher --disable-mqtt --disable-ftp \
  --disable-file --disable-smb --disable-ntlm --disable-kerberos-auth --disable-negotiate-auth \
  --without-libssh2 --without-libssh --without-gssapi --without-librtmp --without-libidn2 \
  --without-libpsl --without-brotli --without-zstd --without-libgsasl >"$work/build.log" 2>&1 &&
  make -C lib -j "$(nproc)" >>"$work/build.log" 2>&1) || {
  tail -n 40 "$work/build.log" >&2
  echo "libcurl: building Debian's curl source failed (log above)" >&2
  exit 1
}
rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp"
cp "$work/src/lib/.libs/libcurl.so.4."*[0-9] "$dir.tmp/libkarmor-curl.so"
grep -A40 '^  curl version' "$work/build.log" >"$dir.tmp/configure-summary.txt" || true
mv "$dir.tmp" "$dir"
echo "libcurl: built $library" >&2
echo "$library"
