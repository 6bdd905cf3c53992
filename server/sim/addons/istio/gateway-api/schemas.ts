/**
 * The Kubernetes Gateway API's schemas, read from @kubernetes-models/gateway-api 0.5.1 (the newest
 * that runs on Node 20; its schemas are Gateway API v1.0's shapes, defaults included, without the
 * CEL validation rules). Like crd-schemas.ts for Istio, each schema is read from its module's text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonSchema } from '../manifests/crd-schemas.js';
import { modelsPackageDir, stripNullable } from '../manifests/model-package.js';

/** Kind → the module to read (GRPCRoute is v1alpha2 in the package: v1 kept its shape when it graduated). */
const SOURCES: Record<string, string> = {
  GatewayClass: 'v1/GatewayClass',
  Gateway: 'v1/Gateway',
  HTTPRoute: 'v1/HTTPRoute',
  GRPCRoute: 'v1alpha2/GRPCRoute',
  ReferenceGrant: 'v1beta1/ReferenceGrant',
};



let cache: Record<string, { spec: JsonSchema; status?: JsonSchema }> | undefined;

/** Kind → its `spec` and `status` schemas. */
export function gatewayApiSchemas(): Record<string, { spec: JsonSchema; status?: JsonSchema }> {
  if (cache) return cache;
  const dir = join(modelsPackageDir('gateway-api'), 'gateway.networking.k8s.io');
  const out: Record<string, { spec: JsonSchema; status?: JsonSchema }> = {};
  for (const [kind, file] of Object.entries(SOURCES)) {
    const path = join(dir, `${file}.mjs`);
    const text = readFileSync(path, 'utf8');
    const start = text.indexOf('const schema = ');
    const end = text.indexOf('\n};\n', start);
    if (start < 0 || end < 0) throw new Error(`unexpected layout of ${path}`);
    const schema = JSON.parse(text.slice(start + 'const schema = '.length, end + 2)) as { properties: { spec: JsonSchema; status?: JsonSchema } };
    out[kind] = {
      spec: stripNullable(schema.properties.spec) as JsonSchema,
      ...(schema.properties.status ? { status: stripNullable(schema.properties.status) as JsonSchema } : {}),
    };
  }
  // The generator drops every `description` key, GatewayClass's `spec.description` field among them.
  const gc = out.GatewayClass!.spec as { properties: Record<string, unknown> };
  gc.properties.description = { maxLength: 64, type: 'string' };
  cache = out;
  return out;
}
