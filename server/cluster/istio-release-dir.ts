/**
 * Where scripts/fetch-istio.sh leaves the real Istio release (under the data dir), so shells on
 * real clusters find the real istioctl: the embedded cluster's istioctl refuses them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ISTIO_VERSION } from '../sim/addons/istio/version.js';

/** `<dataDir>/istio/<version>/istio-<version>`: the layout fetch-istio.sh writes. */
export function istioReleaseDir(dataDir: string, version = ISTIO_VERSION): string {
  return path.join(dataDir, 'istio', version, `istio-${version}`);
}

/** The fetched release's `bin`, when fetch-istio.sh has run. */
export function fetchedIstioBin(dataDir: string, version = ISTIO_VERSION): string | undefined {
  const bin = path.join(istioReleaseDir(dataDir, version), 'bin');
  try {
    fs.accessSync(path.join(bin, 'istioctl'), fs.constants.X_OK);
    return bin;
  } catch {
    return undefined;
  }
}
