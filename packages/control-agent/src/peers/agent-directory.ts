/**
 * The agents that share one store, each announced under a lease (PROTOCOL.md §4.8): how an agent
 * finds its peers to merge their dashboards' edges on request. A capability a store may have, as
 * RecordStore is: EtcdStore has it (several agents share one etcd); the embedded store, which
 * one agent owns, does not, and that agent simply has no peers.
 */
export interface AgentDirectory {
  /**
   * Writes `record` under a new lease that lapses after `ttlMs` (rounded up to whole seconds on
   * etcd) unless renewed; resolves with the lease's id. Rejects with StoreUnavailableError.
   */
  announce(record: AgentRecord, ttlMs: number): Promise<string>;
  /** Restarts the lease's TTL; false when it has lapsed (announce again). */
  renew(leaseId: string): Promise<boolean>;
  /** Ends the lease, and with it the record. */
  withdraw(leaseId: string): Promise<void>;
  /**
   * Every agent announced now, sorted by id, and how many records could not be read (written by
   * something else, or by a newer agent in a shape this one does not know).
   */
  list(): Promise<{ readonly agents: readonly AgentRecord[]; readonly unreadable: number }>;
}

/** One agent as its peers reach it. */
export interface AgentRecord {
  /** Random per agent process (a UUID): two agents never share one, even on one host and port. */
  readonly id: string;
  /** `http://host:port`: where peers send `GET /v1/edges` (the agent's advertised URL). */
  readonly url: string;
}

export function hasAgentDirectory(store: object): store is { readonly agents: AgentDirectory } {
  const agents = (store as { readonly agents?: Partial<AgentDirectory> }).agents;
  return (
    typeof agents === 'object' &&
    agents !== null &&
    typeof agents.announce === 'function' &&
    typeof agents.list === 'function'
  );
}

const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A record as stored, or undefined when it is not one. */
export function readAgentRecord(value: unknown): AgentRecord | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { id, url } = value as { readonly id?: unknown; readonly url?: unknown };
  if (typeof id !== 'string' || !AGENT_ID.test(id)) return undefined;
  if (typeof url !== 'string' || !isHttpUrl(url)) return undefined;
  return { id, url };
}

/** Checks an agent's own record before it is announced; throws a RangeError naming the field. */
export function checkAgentRecord(record: AgentRecord): AgentRecord {
  if (!AGENT_ID.test(record.id))
    throw new RangeError(
      `agent id must be 1–128 letters, digits, '.', '_' or '-', got ${JSON.stringify(record.id)}`,
    );
  if (!isHttpUrl(record.url))
    throw new RangeError(
      `advertiseUrl must be an http:// or https:// URL without a path, got ${JSON.stringify(record.url)}`,
    );
  return record;
}

function isHttpUrl(text: string): boolean {
  if (text.length > 2_048) return false;
  try {
    const url = new URL(text);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      (url.pathname === '/' || url.pathname === '') &&
      url.search === '' &&
      url.username === '' &&
      url.password === ''
    );
  } catch {
    return false;
  }
}
