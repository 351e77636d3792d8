import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { Clock } from '../time/clock.ts';
import { type AgentAnswer, agentUrl, ConnectionPool, exchange } from './agent-http.ts';

export type CallMethod = 'POST' | 'PUT' | 'DELETE';

export interface AgentCallsOptions {
  readonly agents: readonly string[];
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** Sent as a bearer token with every call (the agent requires it for writes). */
  readonly adminToken: string | undefined;
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
   * A call to `preferred` (the agent the client streams from), then to the others in order until
   * one answers (any HTTP status); rejects when none does.
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
        return await this.to(agent, method, path, body, signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        lastError = error;
      }
    }
    throw new WeftError(ErrorCodes.controlPlaneUnavailable, `no agent answered ${method} ${path}`, {
      cause: lastError,
    });
  }

  close(): void {
    this.#pool.destroy();
  }
}
