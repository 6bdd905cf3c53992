/**
 * An embedded cluster's state on disk, as etcd keeps it: a snapshot plus an append-only log of
 * every committed change since. Each change is appended synchronously from the store's change
 * event, i.e. before the API answers the request that made it, so a kill -9 loses at most a
 * request that was never acknowledged. The log is folded into a fresh snapshot when it grows
 * and whenever the state is loaded (which also drops a torn last line before anything is
 * appended after it).
 *
 * Reading never throws on bad files: what is valid is restored and the rest is reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KubeObject } from '../types.js';
import type { ObjectStore, StoreEvent, StoreSnapshot } from './store.js';

const SNAPSHOT = 'snapshot.json';
const LOG = 'log.jsonl';
/** Fold the log into the snapshot past this size: bounds disk use and the replay at restore. */
const DEFAULT_COMPACT_BYTES = 4 * 1024 * 1024;

/** One committed change: `p` (put) for ADDED/MODIFIED with the stored object, `d` for DELETED. */
type LogEntry = { rv: number; op: 'p'; b: string; o: KubeObject } | { rv: number; op: 'd'; b: string; ns: string; n: string };

export interface LoadResult {
  /** undefined when there was nothing (valid) to restore. */
  snapshot: StoreSnapshot | undefined;
  /** Log entries replayed on top of the snapshot. */
  replayed: number;
  /** What was wrong with the files, one sentence each; empty when all was well. */
  problems: string[];
}

export interface PersistenceOptions {
  compactBytes?: number;
  /** Told about damaged files and failed writes (the child logs them to the server). */
  warn?: (message: string) => void;
}

export class ClusterPersistence {
  private fd: number | undefined;
  private logBytes = 0;
  private snapshotBytes = 0;
  private detach: (() => void) | undefined;
  private compactQueued = false;
  private readonly compactBytes: number;
  private readonly warn: (message: string) => void;

  constructor(
    readonly dir: string,
    options: PersistenceOptions = {},
  ) {
    this.compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
    this.warn = options.warn ?? ((m) => console.error(m));
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** The snapshot with the log replayed over it; never throws. */
  load(): LoadResult {
    const problems: string[] = [];
    let base: StoreSnapshot | undefined;
    const snapshotPath = path.join(this.dir, SNAPSHOT);
    const text = readIfExists(snapshotPath, problems);
    if (text !== undefined) {
      try {
        base = validSnapshot(JSON.parse(text));
        if (!base) problems.push(`${snapshotPath} is not a cluster snapshot; starting from the log alone`);
      } catch (err) {
        problems.push(`${snapshotPath} is damaged (${(err as Error).message}); starting from the log alone`);
      }
    }
    const buckets = new Map<string, Map<string, KubeObject>>();
    let rv = base?.rv ?? 0;
    for (const [name, objs] of Object.entries(base?.buckets ?? {})) {
      const b = new Map<string, KubeObject>();
      for (const o of objs) if (isObject(o)) b.set(keyOf(o), o);
      buckets.set(name, b);
    }
    const logPath = path.join(this.dir, LOG);
    const log = readIfExists(logPath, problems);
    let replayed = 0;
    if (log) {
      const lines = log.split('\n');
      // A write cut short by a kill leaves a last line without its newline: that request was never answered.
      const torn = lines.pop();
      if (torn) problems.push(`${logPath}: ignored an incomplete last entry (${torn.length} bytes), from a write that was cut short`);
      let bad = 0;
      for (const line of lines) {
        const e = parseEntry(line);
        if (!e) {
          if (line) bad++;
          continue;
        }
        // Entries already folded into the snapshot (a compaction cut short before the log was emptied).
        if (e.rv <= (base?.rv ?? 0)) continue;
        let b = buckets.get(e.b);
        if (!b) buckets.set(e.b, (b = new Map()));
        if (e.op === 'p') b.set(keyOf(e.o), e.o);
        else b.delete(`${e.ns}/${e.n}`);
        rv = Math.max(rv, e.rv);
        replayed++;
      }
      if (bad) problems.push(`${logPath}: skipped ${bad} damaged ${bad === 1 ? 'entry' : 'entries'}`);
    }
    if (!base && replayed === 0) return { snapshot: undefined, replayed, problems };
    const out: StoreSnapshot = { rv, buckets: {} };
    for (const [name, b] of buckets) out.buckets[name] = [...b.values()];
    return { snapshot: out, replayed, problems };
  }

  /**
   * Writes the store's state as the new snapshot, then records each change the store commits
   * from now on. Throws if the state cannot be written at all (a full or read-only disk).
   */
  attach(store: ObjectStore): void {
    this.detach?.();
    this.compact(store);
    this.detach = store.onAnyChange((e) => this.append(store, e));
  }

  private append(store: ObjectStore, e: StoreEvent): void {
    if (this.fd === undefined) return;
    const entry: LogEntry =
      e.type === 'DELETED'
        ? { rv: e.rv, op: 'd', b: e.bucket, ns: e.namespace, n: e.object.metadata.name! }
        : { rv: e.rv, op: 'p', b: e.bucket, o: e.object };
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    try {
      fs.writeSync(this.fd, line);
      this.logBytes += line.length;
    } catch (err) {
      this.warn(`cluster state: cannot append to ${path.join(this.dir, LOG)}: ${(err as Error).message}`);
      return;
    }
    // Past the snapshot's own size too, so a large state is not rewritten for every few changes.
    if (this.logBytes > Math.max(this.compactBytes, this.snapshotBytes) && !this.compactQueued) {
      this.compactQueued = true;
      // After the write that crossed the line has been answered, not inside it.
      setImmediate(() => {
        this.compactQueued = false;
        if (this.fd === undefined) return;
        try {
          this.compact(store);
        } catch (err) {
          this.warn(`cluster state: compaction failed: ${(err as Error).message}`);
        }
      });
    }
  }

  /** Snapshot (written aside, synced, renamed over the old one), then an empty log. */
  compact(store: ObjectStore): void {
    const snapshotPath = path.join(this.dir, SNAPSHOT);
    const tmp = `${snapshotPath}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      const text = Buffer.from(store.snapshotJson(), 'utf8');
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
      this.snapshotBytes = text.length;
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, snapshotPath);
    syncDir(this.dir);
    // A crash here leaves log entries the snapshot already holds: load() skips them by resourceVersion.
    if (this.fd !== undefined) fs.closeSync(this.fd);
    const log = path.join(this.dir, LOG);
    fs.closeSync(fs.openSync(log, 'w', 0o600));
    this.fd = fs.openSync(log, 'a', 0o600);
    this.logBytes = 0;
  }

  /**
   * Stops recording changes for a while (a whole state replaced at once): attach() then writes
   * the result as one snapshot. A crash in between restores the state from before.
   */
  suspend(): void {
    this.detach?.();
    this.detach = undefined;
  }

  /** Folds the log into the snapshot (when given the store) and stops recording. */
  close(store?: ObjectStore): void {
    this.detach?.();
    this.detach = undefined;
    if (store && this.fd !== undefined) {
      try {
        this.compact(store);
      } catch (err) {
        this.warn(`cluster state: final compaction failed (the log still has every change): ${(err as Error).message}`);
      }
    }
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function readIfExists(file: string, problems: string[]): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${file} cannot be read: ${(err as Error).message}`);
    return undefined;
  }
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Not every filesystem syncs directories; the rename itself is still atomic.
  }
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function isObject(o: unknown): o is KubeObject {
  const m = (o as KubeObject | null)?.metadata;
  return typeof o === 'object' && o !== null && typeof m === 'object' && m !== null && typeof m.name === 'string' && m.name !== '';
}

function validSnapshot(s: unknown): StoreSnapshot | undefined {
  const v = s as StoreSnapshot | null;
  if (typeof v !== 'object' || v === null || !Number.isSafeInteger(v.rv) || typeof v.buckets !== 'object' || v.buckets === null) return undefined;
  for (const objs of Object.values(v.buckets)) if (!Array.isArray(objs)) return undefined;
  return v;
}

function parseEntry(line: string): LogEntry | undefined {
  let e: LogEntry;
  try {
    e = JSON.parse(line) as LogEntry;
  } catch {
    return undefined;
  }
  if (typeof e !== 'object' || e === null || !Number.isSafeInteger(e.rv) || typeof e.b !== 'string') return undefined;
  if (e.op === 'p') return isObject(e.o) ? e : undefined;
  if (e.op === 'd') return typeof e.ns === 'string' && typeof e.n === 'string' ? e : undefined;
  return undefined;
}
