/**
 * Which workshop store a server or the CLI uses: PostgreSQL when a database URL is given (several
 * replicas share it), else SQLite in the data dir (the embedded default).
 */
import { PostgresWorkshopStore } from './postgres-store.js';
import { SqliteWorkshopStore } from './sqlite-store.js';
import type { WorkshopStore } from './store.js';

export interface OpenedStore {
  store: WorkshopStore;
  /** Where it lives, for the log: never the URL itself, which may hold a password. */
  where: string;
  /** Several replicas may use it (PostgreSQL); SQLite is one server's. */
  shared: boolean;
  /** Other replicas' changes, when the store can tell (PostgreSQL's LISTEN). */
  subscribe?: (onChange: (workshopId: string) => void) => Promise<void>;
}

export async function openWorkshopStore(options: { dataDir: string; databaseUrl?: string | undefined; clock?: () => Date }): Promise<OpenedStore> {
  if (options.databaseUrl) {
    const store = await PostgresWorkshopStore.connect({ url: options.databaseUrl, ...(options.clock ? { clock: options.clock } : {}) });
    const u = new URL(options.databaseUrl);
    return { store, where: `PostgreSQL ${u.hostname || u.searchParams.get('host') || 'localhost'}${u.pathname}`, shared: true, subscribe: (f) => store.subscribe(f) };
  }
  return { store: SqliteWorkshopStore.inDataDir(options.dataDir, options.clock), where: 'SQLite in the data dir', shared: false };
}
