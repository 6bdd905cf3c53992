/**
 * Istio's CRD schemas, read from @kubernetes-models/istio (Istio 1.18's generated JSON schemas:
 * the newest the package ships for Node 20). The package keeps each schema in a module constant,
 * so it is read from the module's text. Istio serves one schema for every version of a kind; the
 * package lacks some versions (networking v1, security v1 PeerAuthentication, telemetry v1) and
 * all of TrafficExtension (new in 1.30): the caller uses the kind's other version, or an open schema.
 *
 * istioctl's bundle replaces this module with the extracted data (release/bundle.ts), so it does
 * not need node_modules at run time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelsPackageDir, stripNullable } from './model-package.js';

export type JsonSchema = Record<string, unknown>;

/** group/Kind → the files to read, best first. */
const SOURCES: Record<string, string[]> = {
  'networking.istio.io/DestinationRule': ['networking.istio.io/v1beta1/DestinationRule'],
  'networking.istio.io/EnvoyFilter': ['networking.istio.io/v1alpha3/EnvoyFilter'],
  'networking.istio.io/Gateway': ['networking.istio.io/v1beta1/Gateway'],
  'networking.istio.io/ProxyConfig': ['networking.istio.io/v1beta1/ProxyConfig'],
  'networking.istio.io/ServiceEntry': ['networking.istio.io/v1beta1/ServiceEntry'],
  'networking.istio.io/Sidecar': ['networking.istio.io/v1beta1/Sidecar'],
  'networking.istio.io/VirtualService': ['networking.istio.io/v1beta1/VirtualService'],
  'networking.istio.io/WorkloadEntry': ['networking.istio.io/v1beta1/WorkloadEntry'],
  'networking.istio.io/WorkloadGroup': ['networking.istio.io/v1beta1/WorkloadGroup'],
  'security.istio.io/AuthorizationPolicy': ['security.istio.io/v1/AuthorizationPolicy'],
  'security.istio.io/PeerAuthentication': ['security.istio.io/v1beta1/PeerAuthentication'],
  'security.istio.io/RequestAuthentication': ['security.istio.io/v1/RequestAuthentication'],
  'telemetry.istio.io/Telemetry': ['telemetry.istio.io/v1alpha1/Telemetry'],
  'extensions.istio.io/WasmPlugin': ['extensions.istio.io/v1alpha1/WasmPlugin'],
};



let cache: Record<string, JsonSchema> | undefined;

/** group/Kind → the `spec` property's schema. */
export function istioSpecSchemas(): Record<string, JsonSchema> {
  if (cache) return cache;
  const dir = modelsPackageDir('istio');
  const out: Record<string, JsonSchema> = {};
  for (const [key, files] of Object.entries(SOURCES)) {
    for (const f of files) {
      const file = join(dir, `${f}.mjs`);
      if (!existsSync(file)) continue;
      const text = readFileSync(file, 'utf8');
      const start = text.indexOf('const schema = ');
      const end = text.indexOf('};\nexport class', start);
      if (start < 0 || end < 0) throw new Error(`unexpected layout of ${file}`);
      const schema = JSON.parse(text.slice(start + 'const schema = '.length, end + 1)) as { properties: { spec?: JsonSchema } };
      if (schema.properties.spec) out[key] = stripNullable(schema.properties.spec) as JsonSchema;
      break;
    }
  }
  cache = out;
  return out;
}
