/**
 * The offline stand-in for https://istio.io/downloadIstio (istio/istio release/downloadIstioCandidate.sh):
 * a POSIX sh script honouring ISTIO_VERSION and TARGET_ARCH, which downloads the release
 * tarball from the playground with curl, unpacks istio-<version>/ and prints the real script's
 * messages and advice.
 */
import { ISTIO_VERSION } from '../version.js';

/** `base` is the playground's URL as the learner's curl reached it (already validated). */
export function downloadScript(base: string): string {
  return `#!/bin/sh

# Copyright Istio Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
#
# This is istio-playground's offline stand-in for https://istio.io/downloadIstio: it fetches the
# release from the playground (${base}) instead of GitHub. Use it as you would the real one:
#   curl -L <this URL> | ISTIO_VERSION=${ISTIO_VERSION} TARGET_ARCH=x86_64 sh -

set -e

# Determines the operating system.
OS="\${TARGET_OS:-$(uname)}"
if [ "\${OS}" = "Darwin" ] ; then
  OSEXT="osx"
else
  OSEXT="linux"
fi

# The playground serves one release: the one its lessons use.
if [ "\${ISTIO_VERSION}" = "" ] ; then
  ISTIO_VERSION="${ISTIO_VERSION}"
fi

LOCAL_ARCH=$(uname -m)
if [ "\${TARGET_ARCH}" ]; then
    LOCAL_ARCH=\${TARGET_ARCH}
fi

case "\${LOCAL_ARCH}" in
  x86_64|amd64)
    ISTIO_ARCH=amd64
    ;;
  armv8*|aarch64*|arm64)
    ISTIO_ARCH=arm64
    ;;
  armv*)
    ISTIO_ARCH=armv7
    ;;
  *)
    echo "This system's architecture, \${LOCAL_ARCH}, isn't supported"
    exit 1
    ;;
esac

NAME="istio-$ISTIO_VERSION"
URL="${base}/istio/releases/\${ISTIO_VERSION}/istio-\${ISTIO_VERSION}-\${OSEXT}-\${ISTIO_ARCH}.tar.gz"
filename="istio-\${ISTIO_VERSION}-\${OSEXT}-\${ISTIO_ARCH}.tar.gz"

printf "\\nDownloading %s from %s ...\\n" "$NAME" "$URL"
if ! curl -o /dev/null -sIf "$URL"; then
  printf "\\n%s is not found, please specify a valid ISTIO_VERSION and TARGET_ARCH\\n" "$URL"
  exit 1
fi
curl -fsL -o "\${filename}" "$URL"
tar -xzf "\${filename}"
rm "\${filename}"

printf "\\n"
printf "Istio %s download complete!\\n" "$ISTIO_VERSION"
printf "\\n"
printf "The Istio release archive has been downloaded to the %s directory.\\n" "$NAME"
printf "\\n"
BINDIR="$(cd "$NAME/bin" && pwd)"
printf "To configure the istioctl client tool for your workstation,\\n"
printf "add the %s directory to your environment path variable with:\\n" "$BINDIR"
printf "\\t export PATH=\\"\\$PATH:%s\\"\\n" "$BINDIR"
printf "\\n"
printf "Begin the Istio pre-installation check by running:\\n"
printf "\\t istioctl x precheck \\n"
printf "\\n"
printf "Try Istio in ambient mode\\n"
printf "\\thttps://istio.io/latest/docs/ambient/getting-started/\\n"
printf "Try Istio in sidecar mode\\n"
printf "\\thttps://istio.io/latest/docs/setup/getting-started/\\n"
printf "Install guides for ambient mode\\n"
printf "\\thttps://istio.io/latest/docs/ambient/install/\\n"
printf "Install guides for sidecar mode\\n"
printf "\\thttps://istio.io/latest/docs/setup/install/\\n"
printf "\\n"
printf "Need more information? Visit https://istio.io/latest/docs/ \\n"
`;
}
