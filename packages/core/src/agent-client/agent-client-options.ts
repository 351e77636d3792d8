import type { Random } from '../randomness/random.ts';
import type { Locality } from '../registry/workload.ts';
import type { AgentIdentityOptions } from '../security/identity/agent-identity-options.ts';
import type { Clock } from '../time/clock.ts';
import type { EdgeReportOptions } from './edge-reporting.ts';

export interface AgentClientOptions {
  /**
   * Base URLs of the agents, in order of preference (`http://127.0.0.1:15010`). The client
   * watches one at a time; when it fails, the next is tried, and every reconnect starts again
   * from the first (bad-inputs B7: one source at a time, the primary preferred, never merged).
   */
  readonly agents: readonly string[];
  /** How this client is named in the agent's status (`weft proxy-status`). */
  readonly clientId?: string;
  /** Registers this process in the agent's registry and keeps its lease; deregisters on close. */
  readonly register?: RegistrationOptions;
  /**
   * Persist every applied config here (atomically), and serve from it when no agent answers at
   * start-up (bad-inputs B1).
   */
  readonly lastGoodFile?: string;
  /** How long start-up waits for an agent before serving the last-good file (or none). */
  readonly startupTimeoutMs?: number;
  /**
   * A stream silent for this long is stalled: it is torn down and reconnected (bad-inputs B4).
   * Default: 3 × the heartbeat interval the agent announces (30 s until it has announced one).
   */
  readonly heartbeatTimeoutMs?: number;
  /** How long an agent has to answer the watch request with headers. */
  readonly connectTimeoutMs?: number;
  /** How long status reports and registration calls may take. */
  readonly requestTimeoutMs?: number;
  /** The largest watch frame accepted (bad-inputs A2); a larger one drops the stream. */
  readonly maxFrameBytes?: number;
  /** Reconnect back-off: fully jittered, exponential from `baseMs` up to `maxMs`. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Timers and back-off jitter; the mesh's by default. */
  readonly clock?: Clock;
  readonly random?: Random;
  /**
   * The agent's admin token, sent as a bearer token with the watch and registration calls. Meant
   * for operators' tools: a workload with `identity` needs none — its watch, registration, lease
   * renewals and deregistration carry its own credential (its SVID proof, or its join token until
   * the first SVID; PROTOCOL.md §3.1, §4.2), which lets it watch and register only as itself. A
   * workload holding the admin token could rewrite all config and mint identities. An agent with
   * an admin token refuses a watch that carries neither.
   */
  readonly adminToken?: string;
  /**
   * What to do with a revision that removes every resource while the served config has some
   * (bad-inputs A13): `apply` it and emit `emptied` (the default: it is the agent's truth), or
   * `keep-last-good`: refuse it with a NACK the operator sees in `weft proxy-status`, and keep
   * serving. The refusal holds until a revision with resources arrives.
   */
  readonly emptyConfigPolicy?: 'apply' | 'keep-last-good';
  /**
   * Obtain this workload's SVID from the agents' CA with a join token, renew it, and follow the
   * trust bundle the watch carries (docs/identity.md). `client.identity` then holds it.
   */
  readonly identity?: AgentIdentityOptions;
  /**
   * Per-edge aggregates of this workload's outbound requests (requests, errors by code, a latency
   * histogram, bytes, mTLS), reported to the agent every `intervalMs` for its dashboard
   * (PROTOCOL.md §3.8). On by default; `false` turns it off.
   */
  readonly edges?: EdgeReportOptions | false;
}

/** What the agent's registry needs beyond the mesh's own identity (name, service, labels…). */
export interface RegistrationOptions {
  readonly address: string;
  /** Service port → the port this process listens on. */
  readonly ports: Readonly<Record<number, number>>;
  /** The lease; it is renewed every ttlMs / 3. */
  readonly ttlMs: number;
  readonly protocols?: Readonly<Record<number, string>>;
  readonly locality?: Locality;
  readonly weight?: number;
}

/** The options' numbers with every default filled in. */
export interface AgentClientSettings {
  readonly startupTimeoutMs: number;
  readonly initialHeartbeatTimeoutMs: number;
  readonly heartbeatMultiplier: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export const AGENT_CLIENT_DEFAULTS: AgentClientSettings = Object.freeze({
  startupTimeoutMs: 5_000,
  /** Before the agent announced its heartbeat interval. */
  initialHeartbeatTimeoutMs: 30_000,
  heartbeatMultiplier: 3,
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 5_000,
  maxFrameBytes: 64 * 1024 * 1024,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
});

/** The options' numbers over the defaults; a given number must be positive. */
export function resolveSettings(options: AgentClientOptions): AgentClientSettings {
  const given: Partial<Record<keyof AgentClientSettings, number>> = {
    startupTimeoutMs: options.startupTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    maxFrameBytes: options.maxFrameBytes,
    backoffBaseMs: options.backoff?.baseMs,
    backoffMaxMs: options.backoff?.maxMs,
  };
  const settings: { -readonly [K in keyof AgentClientSettings]: number } = { ...AGENT_CLIENT_DEFAULTS };
  for (const name of Object.keys(given) as (keyof AgentClientSettings)[]) {
    const value = given[name];
    if (value === undefined) continue;
    if (!(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`connectToAgent: ${name} must be a positive number`);
    }
    settings[name] = value;
  }
  return settings;
}
