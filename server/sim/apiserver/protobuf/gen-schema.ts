/**
 * Builds schema.json (message → field number → name/type/label) from Kubernetes' generated.proto
 * files. Run: `npx tsx server/sim/apiserver/protobuf/gen-schema.ts FILE.proto... > schema.json`
 * (the files come from the k8s.io/api and k8s.io/apimachinery sources: k8s.io/api's
 * {admissionregistration,apps,authentication,authorization,autoscaling,batch,coordination,core,
 * discovery,networking,policy,rbac,scheduling,storage}/v1, autoscaling/v2 and events/v1, and
 * apimachinery's api/resource, apis/meta/v1, runtime, runtime/schema and util/intstr).
 */
import { readFileSync } from 'node:fs';

type Field = [name: string, type: string, label: 'o' | 'r' | 'm', valueType?: string];
const schema: Record<string, Record<string, Field>> = {};
const SCALARS = new Set(['string', 'bytes', 'int32', 'int64', 'uint32', 'uint64', 'bool', 'double', 'float', 'sint32', 'sint64', 'fixed32', 'fixed64']);

for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const pkg = text.match(/^package\s+([\w.]+);/m)![1];
  const resolve = (t: string) => (SCALARS.has(t) ? t : t.startsWith('.') ? t.slice(1) : t.includes('.') ? t : `${pkg}.${t}`);
  for (const m of text.matchAll(/message\s+(\w+)\s*\{([^{}]*)\}/g)) {
    const fields: Record<string, Field> = {};
    for (const f of m[2].matchAll(/(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)/g)) {
      fields[f[4]] = [f[3], resolve(f[2]), f[1] === 'repeated' ? 'r' : 'o'];
    }
    for (const f of m[2].matchAll(/map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)/g)) {
      fields[f[4]] = [f[3], resolve(f[1]), 'm', resolve(f[2])];
    }
    schema[`${pkg}.${m[1]}`] = fields;
  }
}
process.stdout.write(JSON.stringify(schema));
