/**
 * Replicas knowing each other through the workshop store: each writes its name, the internal URL
 * other replicas reach it at and a heartbeat every `intervalMs`; one not heard of for longer than
 * `timeoutMs` counts as gone (crashed, node lost, or stopped): its learners' terminals are no
 * longer shown as open and nothing is forwarded to it. How long a replica has been silent is the
 * store's to say (PostgreSQL's clock writes and judges every heartbeat), so the pods' own clocks
 * need not agree.
 */
import type { Logger } from 'pino';
import type { ReplicaRecord, WorkshopStore } from './store.js';

export interface ReplicasOptions {
  store: WorkshopStore;
  /** This replica's name (the same as in the store's terminal and member records). */
  name: string;
  /** Where other replicas reach this one (--advertise-url). */
  url: string;
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
  /** The set of live replicas changed (one came, one went silent): dashboards are drawn again. */
  onChange?: () => void;
}

/** What the dashboard and the forwarding need: who is alive now, and where each is. */
export interface ReplicaView {
  /** The replica's record when it is alive, else undefined. */
  live(name: string): ReplicaRecord | undefined;
  /** Its last heartbeat, alive or not (undefined: it never registered, or it left). */
  record(name: string): ReplicaRecord | undefined;
  /** The live replicas' names and URLs, as one comparable string. */
  readonly liveKey: string;
}

export class Replicas {
  readonly name: string;
  readonly url: string;
  readonly timeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  private lastLive = '';
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly options: ReplicasOptions) {
    this.name = options.name;
    this.url = options.url;
    this.timeoutMs = options.timeoutMs;
  }

  /** Registers this replica (the first heartbeat, awaited: a failure stops the start) and keeps it fresh. */
  async start(): Promise<void> {
    await this.options.store.heartbeat(this.name, this.url);
    this.lastLive = (await this.view()).liveKey;
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.options.store.heartbeat(this.name, this.url);
      const live = (await this.view()).liveKey;
      if (live === this.lastLive) return;
      this.lastLive = live;
      this.options.onChange?.();
    } catch (err) {
      // The next tick tries again; other replicas see this one go silent meanwhile, which is the truth.
      this.options.logger.error({ err }, 'replica heartbeat failed');
    }
  }

  isAlive(r: ReplicaRecord): boolean {
    return r.silentMs <= this.timeoutMs;
  }

  async view(): Promise<ReplicaView> {
    const records = await this.options.store.replicas();
    const all = new Map(records.map((r) => [r.name, r]));
    return {
      liveKey: JSON.stringify(records.filter((r) => this.isAlive(r)).map((r) => [r.name, r.url])),
      live: (name) => {
        const r = all.get(name);
        return r && this.isAlive(r) ? r : undefined;
      },
      record: (name) => all.get(name),
    };
  }

  /** Stops the heartbeat and leaves the store: other replicas stop forwarding here at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await this.options.store.leave(this.name);
  }
}
