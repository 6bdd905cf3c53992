import type { CheckSpec } from '../schema.js';
import { evaluateCommand } from './command.js';
import { evaluateHttp } from './http.js';
import { evaluateOutput } from './output.js';
import { evaluateResource } from './resource.js';
import type { CheckContext, CheckOutcome } from './types.js';
import { evaluateWorkload } from './workload.js';

export type { CheckContext, CheckOutcome } from './types.js';
export { ClusterUnreachableError } from './types.js';

/** One function per check kind; the kind is the check's one kind key. */
export function evaluateCheck(check: CheckSpec, ctx: CheckContext): Promise<CheckOutcome> {
  if ('resource' in check) return evaluateResource(check.resource, ctx);
  if ('workload' in check) return evaluateWorkload(check.workload, ctx);
  if ('http' in check) return evaluateHttp(check.http, ctx);
  if ('output' in check) return evaluateOutput(check.output, ctx);
  return evaluateCommand(check.command, ctx);
}
