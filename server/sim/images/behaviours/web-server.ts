/** What static web servers share: serving files from the container's web root (so edits show). */
import { pathOnly } from '../http.js';
import type { ContainerContext } from '../types.js';

/** The shell's module, loaded on the first request (not at import) and then reused: a dynamic import per request costs a loader round trip. */
let shell: Promise<typeof import('../shell/index.js')> | undefined;

/** The file a GET for `path` reads under `root`, or null when there is none. */
export async function readWebFile(ctx: ContainerContext, root: string, path: string): Promise<Buffer | null> {
  const { containerFs } = await (shell ??= import('../shell/index.js'));
  const fs = containerFs(ctx);
  let p: string;
  try {
    p = decodeURIComponent(pathOnly(path));
  } catch {
    return null;
  }
  if (p.includes('..')) return null;
  if (p.endsWith('/')) p += 'index.html';
  const abs = `${root}${p}`;
  if (!fs.exists(abs) || fs.isDir(abs)) return null;
  return fs.read(abs);
}

export function contentTypeOf(path: string): string {
  const ext = pathOnly(path).split('.').pop()?.toLowerCase();
  return { html: 'text/html', htm: 'text/html', txt: 'text/plain', css: 'text/css', js: 'application/javascript', json: 'application/json' }[ext ?? ''] ?? 'text/html';
}

/** Version of a server image from a full x.y.z tag, else the given default. */
export function versionFromTag(tag: string, fallback: string): string {
  const m = /^(\d+\.\d+\.\d+)/.exec(tag);
  return m ? m[1] : fallback;
}
