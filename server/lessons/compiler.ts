/**
 * Where lessons get compiled: in a child process when the server runs as built JavaScript (so
 * the server process never loads the renderer), in-process when it runs from source (tsx, vitest:
 * memory does not matter there and a second tsx process would cost a second of start-up).
 *
 * Each compiler has an identity, part of the cache key: the hash of the compiler's own code and
 * of the rendering packages' versions, so a changed renderer never serves HTML cached by the old one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { asCompiledLessons, COMPILED_FORMAT, type CompiledLessons } from './compiled.js';

export interface LessonCompiler {
  /** For logs: "a child process (…/compile-main.js)". */
  readonly description: string;
  identity(): Promise<string>;
  /** Rejects with a message fit for the server log when no lessons could be compiled at all. */
  compile(lessonsDir: string): Promise<CompiledLessons>;
}

/** Packages whose output ends up in compiled lessons. */
const RENDERING_PACKAGES = ['marked', 'shiki', 'sanitize-html', 'yaml', 'zod'];

const here = fileURLToPath(import.meta.url);

/**
 * The child-process compiler next to the running server if it is built JavaScript, else the
 * in-process one. The built entry is dist/server/lessons/compile-main.js; this module is bundled
 * into dist/server/main.js or a chunk under dist/server/chunks/.
 */
export function defaultLessonCompiler(): LessonCompiler {
  if (here.endsWith('.js')) {
    const dir = path.dirname(here);
    const entry = [path.join(dir, 'lessons', 'compile-main.js'), path.join(dir, '..', 'lessons', 'compile-main.js')].find((file) => existsSync(file));
    if (entry) return childProcessCompiler({ command: process.execPath, args: [entry], codeDir: path.dirname(entry) });
  }
  return inProcessCompiler();
}

export function inProcessCompiler(): LessonCompiler {
  // Not a literal specifier, so that a bundler leaves the renderer out of the server's own code.
  const compileModule = pathToFileURL(path.join(path.dirname(here), `compile${path.extname(here)}`)).href;
  return {
    description: 'in-process',
    identity: () => codeIdentity(path.dirname(here)),
    async compile(lessonsDir) {
      const { compileLessons } = (await import(compileModule)) as typeof import('./compile.js');
      return compileLessons(lessonsDir);
    },
  };
}

export interface ChildCompilerSpec {
  /** Program and arguments; the lessons folder is appended. */
  command: string;
  args: string[];
  /** The folder holding the compiler's code, for its identity. */
  codeDir: string;
  timeoutMs?: number;
}

export function childProcessCompiler(spec: ChildCompilerSpec): LessonCompiler {
  const shown = [spec.command, ...spec.args].join(' ');
  const timeoutMs = spec.timeoutMs ?? 120_000;
  return {
    description: `a child process (${shown})`,
    identity: () => codeIdentity(spec.codeDir),
    compile: (lessonsDir) =>
      new Promise<CompiledLessons>((resolve, reject) => {
        const child = spawn(spec.command, [...spec.args, lessonsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        const stdout: Buffer[] = [];
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => {
          if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        const fail = (why: string) => reject(new Error(`the lesson compiler (${shown}) ${why}`));
        child.once('error', (error) => {
          clearTimeout(timer);
          fail(`could not be started: ${error.message}`);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          const said = stderr.trim() ? `: ${stderr.trim()}` : ' and printed nothing on stderr';
          if (signal === 'SIGKILL' && code === null) return fail(`was stopped after ${timeoutMs / 1000} s without finishing${said}`);
          if (code !== 0) return fail(`failed (${code !== null ? `exit code ${code}` : `signal ${signal}`})${said}`);
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(stdout).toString('utf8'));
          } catch (error) {
            return fail(`printed output that is not JSON (${(error as Error).message})`);
          }
          const lessons = asCompiledLessons(parsed);
          if (!lessons) return fail(`printed JSON that is not compiled lessons of format ${COMPILED_FORMAT}`);
          resolve(lessons);
        });
      }),
  };
}

/**
 * The compiler's code as a hash: every module file in its folder (with a one-file-per-module
 * build that is the catalog, renderer, …; with a bundle the entry names its chunks by content
 * hash, so its bytes change with them), the check schema it validates with, and the versions of
 * the rendering packages when they are installed rather than bundled.
 */
async function codeIdentity(codeDir: string): Promise<string> {
  const hash = createHash('sha256').update(`format ${COMPILED_FORMAT}\0`);
  const names = (await readdir(codeDir)).filter((name) => /\.(?:js|ts|mjs)$/.test(name)).sort();
  const checkSchema = ['schema.js', 'schema.ts'].map((name) => path.join(codeDir, '..', 'checks', name)).filter((file) => existsSync(file));
  for (const file of [...names.map((name) => path.join(codeDir, name)), ...checkSchema]) {
    hash.update(`${path.basename(file)}\0`).update(await readFile(file)).update('\0');
  }
  for (const name of RENDERING_PACKAGES) hash.update(`${name}@${(await packageVersion(codeDir, name)) ?? 'none'}\0`);
  return hash.digest('hex');
}

async function packageVersion(from: string, name: string): Promise<string | undefined> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(await readFile(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version;
    } catch {
      // not installed here: keep walking up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}
