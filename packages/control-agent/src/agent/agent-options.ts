import type { Clock, MeshOptions } from '@weft/core';
import type { CaOptions } from '../ca/ca-options.ts';
import type { DashboardOptions } from '../dashboard/dashboard.ts';
import type { PeerOptions } from '../peers/peer-options.ts';
import type { Store } from '../store/store.ts';
import type { AgentLogger } from './agent-logger.ts';

/** Caps that keep one client, one operator mistake or one hostile peer from exhausting the agent. */
export interface AgentLimits {
  /** Bytes of one `POST /v1/apply` body; enforced while reading (413). Default 4 MiB. */
  readonly maxApplyBytes: number;
  /** Bytes of any other request body (registrations, status reports). Default 1 MiB. */
  readonly maxRequestBytes: number;
  /** Watch streams open at once; one more gets 503. Default 10,000. */
  readonly maxWatchClients: number;
  /** Client records kept for `/v1/clients`, connected or not; the oldest disconnected go first. */
  readonly maxKnownClients: number;
  /** Store changes remembered for resumes and deltas; older resumes get a snapshot. Default 50,000. */
  readonly maxHistoryEntries: number;
  /** Time to receive a whole request (headers and body); Node answers 408 after it. Default 30 s. */
  readonly requestTimeoutMs: number;
  /** A watch whose socket has not drained for this long is closed (the client resumes). Default 30 s. */
  readonly stalledClientMs: number;
  /** Longest lease a registration may ask for. Default 24 h. */
  readonly maxLeaseTtlMs: number;
}

export const DEFAULT_AGENT_LIMITS: AgentLimits = Object.freeze({
  maxApplyBytes: 4 * 1024 * 1024,
  maxRequestBytes: 1024 * 1024,
  maxWatchClients: 10_000,
  maxKnownClients: 10_000,
  maxHistoryEntries: 50_000,
  requestTimeoutMs: 30_000,
  stalledClientMs: 30_000,
  maxLeaseTtlMs: 24 * 60 * 60 * 1000,
});

export interface AgentOptions {
  readonly store: Store;
  /** Interface to listen on; `127.0.0.1` by default. */
  readonly host?: string;
  /** TCP port; 0 (the default) picks a free one (see `Agent.url`). */
  readonly port?: number;
  /**
   * When set, every write (apply, delete, registration, lease renewal) needs
   * `Authorization: Bearer <adminToken>` — except that a workload may register, renew and
   * deregister itself with its own join token or SVID (PROTOCOL.md §4.2.1). When unset, writes are
   * accepted only from loopback peers (127.0.0.0/8, ::1).
   */
  readonly adminToken?: string;
  /** Timers and elapsed time (heartbeats, coalescing window, stall detection); the system clock by default. */
  readonly clock?: Clock;
  /** Wall-clock time for `lastSeen` in `/v1/clients`; `Date.now` by default. */
  readonly wallClock?: () => number;
  /** A heartbeat frame is sent after this long without any other frame. Default 5,000. */
  readonly heartbeatMs?: number;
  /** Changes within this long after a push are merged into the next delta. Default 5. */
  readonly coalesceWindowMs?: number;
  /**
   * How often the agent compares its watch-derived view with a full listing of the store, and
   * lists again if they disagree (bad-inputs H6). Default 60,000; 0 turns it off.
   */
  readonly selfCheckIntervalMs?: number;
  readonly limits?: Partial<AgentLimits>;
  /** Root namespace, default exportTo and domain suffix, as compile() takes them. */
  readonly mesh?: Partial<Pick<MeshOptions, 'rootNamespace' | 'defaultExportTo' | 'domainSuffix'>>;
  readonly logger?: AgentLogger;
  /** The CA that signs workload SVIDs (docs/ca.md): trust domain, lifetimes, or the operator's CA. */
  readonly ca?: CaOptions;
  /** The dashboard and the clients' edge reports (docs/dashboard.md): refresh interval, edge window. */
  readonly dashboard?: DashboardOptions;
  /**
   * How agents sharing a store (etcd) find and ask each other, for the dashboard's merged view
   * (`?scope=mesh`, PROTOCOL.md §4.9): the URL this one is reached at, its record's lease, the
   * deadline of a peer's answer.
   */
  readonly peers?: PeerOptions;
}

/** The options with every default filled in. */
export interface AgentSettings {
  readonly store: Store;
  readonly host: string;
  readonly port: number;
  readonly adminToken: string | undefined;
  readonly clock: Clock;
  readonly wallClock: () => number;
  readonly heartbeatMs: number;
  readonly coalesceWindowMs: number;
  readonly selfCheckIntervalMs: number;
  readonly limits: AgentLimits;
  readonly rootNamespace: string;
  readonly defaultExportTo: readonly string[];
  readonly domainSuffix: string;
  readonly logger: AgentLogger;
}
