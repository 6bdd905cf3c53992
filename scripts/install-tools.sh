#!/usr/bin/env bash
# Installs the command-line tools the playground's terminal uses, from their official release
# locations, into .tools/bin of this project (no root needed). Linux and macOS, amd64 and arm64.
#
#   scripts/install-tools.sh                 install what is missing (kubectl)
#   scripts/install-tools.sh --check-only    only report what is there
#   scripts/install-tools.sh --with kind,istioctl   also kind and istioctl (for the kind backend)
#   scripts/install-tools.sh --force         reinstall even if found
#
# Versions can be pinned with KUBECTL_VERSION (e.g. v1.32.4), KIND_VERSION, ISTIO_VERSION.
# The install_* functions are called by name ("install_$tool"), which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
tools="kubectl"
check_only=false
force=false

while [ $# -gt 0 ]; do
  case "$1" in
    --check-only) check_only=true ;;
    --force) force=true ;;
    --with) shift; tools="kubectl,${1:?--with needs a list such as kind,istioctl}" ;;
    --with=*) tools="kubectl,${1#--with=}" ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install-tools: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "install-tools: unsupported OS $(uname -s) (Linux and macOS are supported)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "install-tools: unsupported CPU $(uname -m)" >&2; exit 1 ;;
esac

have() { PATH="$bin:$PATH" command -v "$1" >/dev/null 2>&1; }

fetch() { # url dest
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"
  else echo "install-tools: need curl or wget" >&2; return 1; fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'
  else shasum -a 256 "$1" | awk '{print $1}'; fi
}

verify() { # file expected-sha256
  local got; got="$(sha256_of "$1")"
  if [ "$got" != "$2" ]; then
    echo "install-tools: checksum mismatch for $1 (expected $2, got $got)" >&2
    return 1
  fi
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

install_kubectl() {
  local version="${KUBECTL_VERSION:-}"
  if [ -z "$version" ]; then
    fetch "https://dl.k8s.io/release/stable.txt" "$tmp/stable.txt"
    version="$(cat "$tmp/stable.txt")"
  fi
  local url="https://dl.k8s.io/release/$version/bin/$os/$arch/kubectl"
  fetch "$url" "$tmp/kubectl"
  fetch "$url.sha256" "$tmp/kubectl.sha256"
  verify "$tmp/kubectl" "$(awk '{print $1}' "$tmp/kubectl.sha256")"
  install -m 0755 "$tmp/kubectl" "$bin/kubectl"
}

install_kind() {
  # The kind the server's pinned node image (server/cluster/kind/config.ts) was built for.
  local version="${KIND_VERSION:-v0.27.0}"
  local url="https://kind.sigs.k8s.io/dl/$version/kind-$os-$arch"
  fetch "$url" "$tmp/kind"
  fetch "$url.sha256sum" "$tmp/kind.sha256"
  verify "$tmp/kind" "$(awk '{print $1}' "$tmp/kind.sha256")"
  install -m 0755 "$tmp/kind" "$bin/kind"
}

install_istioctl() {
  local version="${ISTIO_VERSION:-1.30.3}"
  local platform="$os-$arch"
  [ "$os" = darwin ] && platform="osx-$arch"
  local name="istioctl-$version-$platform.tar.gz"
  local url="https://github.com/istio/istio/releases/download/$version/$name"
  fetch "$url" "$tmp/$name"
  fetch "$url.sha256" "$tmp/$name.sha256"
  verify "$tmp/$name" "$(awk '{print $1}' "$tmp/$name.sha256")"
  tar -xzf "$tmp/$name" -C "$tmp"
  install -m 0755 "$tmp/istioctl" "$bin/istioctl"
}

mkdir -p "$bin"
status=0
IFS=',' read -r -a wanted <<<"$tools"
for tool in "${wanted[@]}"; do
  [ -n "$tool" ] || continue
  case "$tool" in kubectl|kind|istioctl) ;; *) echo "install-tools: unknown tool $tool" >&2; exit 2 ;; esac
  if have "$tool" && [ "$force" = false ]; then
    echo "install-tools: $tool found at $(PATH="$bin:$PATH" command -v "$tool")"
    continue
  fi
  if [ "$check_only" = true ]; then
    echo "install-tools: $tool is missing; run: bash scripts/install-tools.sh"
    status=1
    continue
  fi
  echo "install-tools: installing $tool into $bin"
  if "install_$tool"; then
    echo "install-tools: $tool installed: $("$bin/$tool" version --client 2>/dev/null | head -1 || true)"
  else
    echo "install-tools: could not install $tool (no network access to its release location?)" >&2
    status=1
  fi
done
exit $status
