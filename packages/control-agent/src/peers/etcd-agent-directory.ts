import type { EtcdSession } from '../store/etcd-session.ts';
import {
  type AgentDirectory,
  type AgentRecord,
  checkAgentRecord,
  readAgentRecord,
} from './agent-directory.ts';

/** The most agent records one listing reads (a mesh has a handful of agents). */
const MAX_LISTED_AGENTS = 256;

/**
 * The agent directory on etcd: `<prefix>/agents/<id>` holds `{ id, url }` as JSON, attached to the
 * agent's own lease, so a crashed agent's record goes when its lease lapses. The key sits beside
 * `records/` under the store's prefix; the watch classifies it as `other`, so it is never a mesh
 * event, and it is written without the epoch fence (it is not mesh state: a wiped etcd just loses
 * it until the next renewal announces it again).
 */
export class EtcdAgentDirectory implements AgentDirectory {
  readonly #session: EtcdSession;
  readonly #prefix: string;
  readonly #renew: (leaseId: string) => Promise<boolean>;

  /**
   * `prefix` is the store's (`/weft`); `renew` is the store's lease keep-alive (one code path for
   * workload and agent leases).
   */
  constructor(session: EtcdSession, prefix: string, renew: (leaseId: string) => Promise<boolean>) {
    this.#session = session;
    this.#prefix = `${prefix}/agents/`;
    this.#renew = renew;
  }

  async announce(record: AgentRecord, ttlMs: number): Promise<string> {
    checkAgentRecord(record);
    if (!(Number.isFinite(ttlMs) && ttlMs > 0))
      throw new RangeError(`an agent lease TTL must be a positive number of ms, got ${String(ttlMs)}`);
    const session = this.#session;
    const grant = await session.call('agent lease grant', () =>
      session.client.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(ttlMs / 1_000)) }),
    );
    try {
      await session.call('agent announce', () =>
        session.client.kv.put({
          key: Buffer.from(this.#prefix + record.id),
          value: Buffer.from(JSON.stringify({ id: record.id, url: record.url })),
          lease: grant.ID,
        }),
      );
    } catch (error) {
      await session.revokeQuietly(grant.ID);
      throw error;
    }
    return grant.ID;
  }

  renew(leaseId: string): Promise<boolean> {
    return this.#renew(leaseId);
  }

  withdraw(leaseId: string): Promise<void> {
    return this.#session.revokeQuietly(leaseId);
  }

  async list(): Promise<{ readonly agents: readonly AgentRecord[]; readonly unreadable: number }> {
    const session = this.#session;
    const start = Buffer.from(this.#prefix);
    const end = Buffer.from(start);
    // The prefix ends in '/': the range end is the same bytes with the last one incremented.
    end[end.length - 1] = (end[end.length - 1] as number) + 1;
    const response = await session.call('agent list', () =>
      session.client.kv.range({ key: start, range_end: end, limit: MAX_LISTED_AGENTS }),
    );
    const agents: AgentRecord[] = [];
    let unreadable = 0;
    for (const kv of response.kvs) {
      const record = readAgentRecord(parseJson(kv.value));
      if (record === undefined) unreadable++;
      else agents.push(record);
    }
    agents.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { agents, unreadable };
  }
}

function parseJson(value: Buffer): unknown {
  try {
    return JSON.parse(value.toString('utf8')) as unknown;
  } catch {
    return undefined; // counted as unreadable by the caller
  }
}
