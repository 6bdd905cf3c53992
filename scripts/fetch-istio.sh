#!/usr/bin/env bash
# Downloads the pinned Istio release for this machine, verifies it against the release's published
# .sha256, and unpacks it under the playground's data dir, where shells on real clusters (the kind
# and kubeconfig backends) find its bin/istioctl on their PATH. Running it again does nothing.
#
#   scripts/fetch-istio.sh                      Istio 1.30.3 into ./data/istio/1.30.3/istio-1.30.3
#   scripts/fetch-istio.sh --data-dir /srv/pg   (or PLAYGROUND_DATA_DIR, as the server reads it)
#   ISTIO_VERSION=1.30.2 scripts/fetch-istio.sh another release
#
# ISTIO_RELEASE_BASE_URL replaces https://github.com/istio/istio/releases/download (a mirror).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="${ISTIO_VERSION:-1.30.3}"
data_dir="${PLAYGROUND_DATA_DIR:-$root/data}"
base_url="${ISTIO_RELEASE_BASE_URL:-https://github.com/istio/istio/releases/download}"

while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) shift; data_dir="${1:?--data-dir needs a directory}" ;;
    --data-dir=*) data_dir="${1#--data-dir=}" ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "fetch-istio: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "fetch-istio: ISTIO_VERSION must look like 1.30.3 (got \"$version\")" >&2; exit 2 ;;
esac
case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=osx ;;
  *) echo "fetch-istio: unsupported OS $(uname -s) (Linux and macOS are supported)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "fetch-istio: unsupported CPU $(uname -m)" >&2; exit 1 ;;
esac

name="istio-$version-$os-$arch.tar.gz"
dest="$data_dir/istio/$version"
release="$dest/istio-$version"
if [ -x "$release/bin/istioctl" ] && [ -f "$dest/$name.verified" ]; then
  echo "fetch-istio: Istio $version is already in $release"
  echo "$release/bin"
  exit 0
fi

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'
  else shasum -a 256 "$1" | awk '{print $1}'; fi
}

mkdir -p "$dest"
# Work beside the destination, so the final move is a rename on one file system.
tmp="$(mktemp -d "$dest/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

url="$base_url/$version/$name"
echo "fetch-istio: downloading $url"
curl -fsSL --retry 3 -o "$tmp/$name" "$url" || { echo "fetch-istio: could not download $url" >&2; exit 1; }
curl -fsSL --retry 3 -o "$tmp/$name.sha256" "$url.sha256" || { echo "fetch-istio: could not download the checksum $url.sha256" >&2; exit 1; }

expected="$(awk 'NR == 1 {print $1}' "$tmp/$name.sha256")"
case "$expected" in
  *[!0-9a-f]*|'') echo "fetch-istio: $url.sha256 holds no sha256 (got \"$expected\")" >&2; exit 1 ;;
esac
[ "${#expected}" -eq 64 ] || { echo "fetch-istio: $url.sha256 holds no sha256 (got \"$expected\")" >&2; exit 1; }
actual="$(sha256_of "$tmp/$name")"
if [ "$actual" != "$expected" ]; then
  echo "fetch-istio: checksum mismatch for $name: expected $expected (from $url.sha256), got $actual. Nothing was installed." >&2
  exit 1
fi

tar -xzf "$tmp/$name" -C "$tmp"
[ -x "$tmp/istio-$version/bin/istioctl" ] || { echo "fetch-istio: $name has no istio-$version/bin/istioctl" >&2; exit 1; }
rm -rf "$release"
mv "$tmp/istio-$version" "$release"
mv "$tmp/$name" "$dest/$name"
echo "$actual  $name" > "$dest/$name.verified"
echo "fetch-istio: Istio $version for $os-$arch verified (sha256 $actual) and unpacked in $release"
echo "$release/bin"
