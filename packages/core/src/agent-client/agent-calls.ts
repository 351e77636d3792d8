import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { Clock } from '../time/clock.ts';
import { type AgentAnswer, agentUrl, ConnectionPool, exchange } from './agent-http.ts';
import type { WorkloadCredential } from './workload-credential.ts';

export type CallMethod = 'POST' | 'PUT' | 'DELETE';

export interface AgentCallsOptions {
  readonly agents: readonly string[];
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** Sent as a bearer token with every call (the agent requires it for writes). */
  readonly adminToken: string | undefined;
  /**
   * Without an admin token, what registration calls (`toAny`) and the watch authorize themselves
   * with: the workload's own identity (PROTOCOL.md §3.1, §4.2), never a secret that could write
   * anything else.
   */
  readonly workloadCredential?: WorkloadCredential | undefined;
}

/**
 * The client's short calls to agents (status reports, registration): each bounded by
 * `timeoutMs`, on the client's own keep-alive pool, which `close()` releases.
 */
export class AgentCalls {
  readonly #options: AgentCallsOptions;
  readonly #pool = new ConnectionPool();
  readonly #headers: Readonly<Record<string, string>>;

  constructor(options: AgentCallsOptions) {
    this.#options = options;
    this.#headers = options.adminToken === undefined ? {} : { authorization: `Bearer ${options.adminToken}` };
  }

  /** One call to one agent. */
  to(
    agent: string,
    method: CallMethod,
    path: string,
    body: unknown,
    signal: AbortSignal,
    headers?: Readonly<Record<string, string>>,
  ): Promise<AgentAnswer> {
    return exchange({
      method,
      url: agentUrl(agent, path),
      body,
      headers: headers === undefined ? this.#headers : { ...this.#headers, ...headers },
      signal,
      pool: this.#pool,
      clock: this.#options.clock,
      timeoutMs: this.#options.timeoutMs,
    });
  }

  /**
   * A registration call: to `preferred` (the agent the client streams from), then to the others
   * in order until one answers (any HTTP status); rejects when none does. Each attempt carries
   * the admin token, or else the workload's credential, made afresh for it (an SVID proof is
   * timestamped).
   */
  async toAny(
    preferred: string | undefined,
    method: CallMethod,
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<AgentAnswer> {
    const { agents } = this.#options;
    const order =
      preferred === undefined ? agents : [preferred, ...agents.filter((agent) => agent !== preferred)];
    let lastError: unknown;
    for (const agent of order) {
      try {
        return await this.to(agent, method, path, body, signal, await this.authorization(method, path, body));
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        lastError = error;
      }
    }
    throw new WeftError(ErrorCodes.controlPlaneUnavailable, `no agent answered ${method} ${path}`, {
      cause: lastError,
    });
  }

  /**
   * The `Authorization` a call to an agent carries: the admin token if the client has one, else
   * the workload's credential (its join token before the first SVID, then an SVID proof made
   * afresh for this very request: method, path and body); none when the client has neither.
   */
  async authorization(
    method: CallMethod | 'GET',
    path: string,
    body: unknown,
  ): Promise<Readonly<Record<string, string>>> {
    if (this.#options.adminToken !== undefined) return this.#headers;
    const credential = this.#options.workloadCredential;
    if (credential === undefined) return {};
    // The proof covers the exact bytes sent: exchange() serializes the body with this same
    // JSON.stringify, which gives the same text for the same (unchanged) value.
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    // The path as the agent routes it: what URL parsing makes of it, as on the agent's side.
    const routedPath = new URL(path, 'http://agent.invalid').pathname;
    return { authorization: await credential({ method, path: routedPath, body: payload }) };
  }

  close(): void {
    this.#pool.destroy();
  }
}
