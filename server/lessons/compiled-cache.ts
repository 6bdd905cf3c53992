/**
 * Compiled lessons kept on disk, so a restart with unchanged lessons neither renders nor spawns
 * anything: <cache dir>/lessons-<key>.json, where the key hashes every file under the lessons
 * folder (paths and bytes) and the compiler's identity. Editing, adding, removing or renaming a
 * lesson file changes the key; nothing has to be deleted by hand.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { asCompiledLessons, type CompiledLessons } from './compiled.js';

/** Never part of a lesson (the catalog skips them too). */
const SKIPPED = new Set(['.git', 'node_modules']);

/**
 * Throws "cannot read the lessons folder …", as the catalog does, when the folder itself cannot
 * be read (a configuration error the server refuses to start with).
 */
export async function lessonsCacheKey(lessonsDir: string, compilerIdentity: string): Promise<string> {
  const root = path.resolve(lessonsDir);
  const hash = createHash('sha256').update(`compiler ${compilerIdentity}\0`);
  let files: string[];
  try {
    files = await filesUnder(root, '');
  } catch (error) {
    throw new Error(`cannot read the lessons folder ${root}: ${(error as Error).message}`);
  }
  for (const file of files.sort()) {
    let bytes: Buffer | string;
    try {
      bytes = await readFile(path.join(root, file));
    } catch (error) {
      // The catalog reports unreadable lesson files itself; the key only has to differ.
      bytes = `unreadable: ${(error as NodeJS.ErrnoException).code ?? 'error'}`;
    }
    hash.update(`${file}\0${bytes.length}\0`).update(bytes).update('\0');
  }
  return hash.digest('hex');
}

async function filesUnder(root: string, relative: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(path.join(root, relative), { withFileTypes: true })) {
    if (SKIPPED.has(entry.name)) continue;
    const name = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await filesUnder(root, name).catch(() => [`${name}/ (unreadable)`])));
    else found.push(name);
  }
  return found;
}

export function cacheFile(cacheDir: string, key: string): string {
  return path.join(cacheDir, `lessons-${key}.json`);
}

export type CacheRead = { lessons: CompiledLessons } | { missing: true } | { unusable: string };

export async function readCachedLessons(file: string): Promise<CacheRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    // ENOTDIR: the cache folder is not there because a file is in its way (writing says so).
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return { missing: true };
    return { unusable: (error as Error).message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { unusable: `not JSON (${(error as Error).message})` };
  }
  const lessons = asCompiledLessons(parsed);
  return lessons ? { lessons } : { unusable: 'not compiled lessons of the current format' };
}

/**
 * Writes atomically (a reader never sees half a file) and removes the other lessons-*.json
 * files: each was for lessons or a compiler that have since changed.
 */
export async function writeCachedLessons(file: string, lessons: CompiledLessons): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(lessons));
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const stale = (await readdir(dir)).filter((name) => /^lessons-[0-9a-f]{64}\.json$/.test(name) && name !== path.basename(file));
  await Promise.all(stale.map((name) => rm(path.join(dir, name), { force: true })));
}
