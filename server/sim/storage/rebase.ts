/**
 * A cluster state captured in one embedded cluster, moved into another (a step's starting state,
 * built once in a scratch cluster, restored into each learner's): node addresses are the only
 * thing in a state that belongs to its cluster (nodes/addresses.ts), and timestamps are moved by
 * the time since the capture so that ages read as they did then ("Running 2m", not "3d").
 */
import { isNodeBlock } from '../nodes/addresses.js';

const TIMESTAMP = /"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z"/g;

/** The state's JSON text with `fromBlock`'s addresses in `toBlock` and every RFC 3339 time moved by `shiftMs`. */
export function rebaseState(json: string, fromBlock: string, toBlock: string, shiftMs: number): string {
  if (!isNodeBlock(fromBlock) || !isNodeBlock(toBlock)) throw new Error(`not node address blocks: ${fromBlock}, ${toBlock}`);
  let out = json;
  if (fromBlock !== toBlock) {
    // 127.A.B. followed by the host's digits, never inside a longer number (127.1.2 vs 127.1.23).
    const re = new RegExp(`(?<![\\d.])${fromBlock.replace(/\./g, '\\.')}\\.(?=\\d)`, 'g');
    out = out.replace(re, `${toBlock}.`);
  }
  if (shiftMs !== 0) {
    out = out.replace(TIMESTAMP, (whole, base: string, fraction: string | undefined) => {
      const t = Date.parse(`${base}Z`);
      if (Number.isNaN(t)) return whole;
      // Whole seconds, so that a fraction written after them stays right.
      const moved = new Date(t + Math.round(shiftMs / 1000) * 1000).toISOString().slice(0, 19);
      return `"${moved}${fraction ?? ''}Z"`;
    });
  }
  return out;
}
