import { agentUrl, ConnectionPool, describeAnswer, exchange } from '../../agent-client/agent-http.ts';
import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import type { Clock } from '../../time/clock.ts';
import {
  type CertificateAnswer,
  type CertificateRequestBody,
  parseCertificateAnswer,
} from './certificate-exchange.ts';

/** The agent's CA said no (401, 403, 400): another agent would say the same, so none is tried. */
export class CertificateRefusedError extends WeftError {
  readonly status: number;

  constructor(status: number, message: string) {
    super(
      status === 401 || status === 403 ? ErrorCodes.unauthenticated : ErrorCodes.identityUnavailable,
      message,
    );
    this.name = 'CertificateRefusedError';
    this.status = status;
  }
}

export interface SvidRequesterOptions {
  readonly agents: readonly string[];
  readonly clock: Clock;
  /** Bound on each attempt with one agent. */
  readonly timeoutMs: number;
}

/**
 * Sends CSRs to the agents' `POST /v1/certificates`, in order of preference: an agent that does
 * not answer, or answers 5xx, makes it try the next; a refusal (4xx) is final for this attempt.
 * On node:http with its own keep-alive pool, every exchange bounded on the injected Clock.
 */
export class SvidRequester {
  readonly #options: SvidRequesterOptions;
  readonly #pool = new ConnectionPool();

  constructor(options: SvidRequesterOptions) {
    if (options.agents.length === 0) throw new TypeError('SvidRequester: no agent given');
    this.#options = options;
  }

  async request(
    body: CertificateRequestBody,
    joinToken: string | undefined,
    signal: AbortSignal,
  ): Promise<CertificateAnswer> {
    let lastError: unknown;
    for (const agent of this.#options.agents) {
      let answer: Awaited<ReturnType<typeof exchange>>;
      try {
        answer = await exchange({
          method: 'POST',
          url: agentUrl(agent, '/v1/certificates'),
          body,
          headers: joinToken === undefined ? {} : { authorization: `Bearer ${joinToken}` },
          signal,
          pool: this.#pool,
          clock: this.#options.clock,
          timeoutMs: this.#options.timeoutMs,
        });
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        lastError = error;
        continue;
      }
      if (answer.status === 200) return parseCertificateAnswer(answer.body);
      const message = `${agent} refused the certificate request: ${describeAnswer({ status: answer.status, body: errorBody(answer.body) })}`;
      if (answer.status >= 400 && answer.status < 500)
        throw new CertificateRefusedError(answer.status, message);
      lastError = new WeftError(ErrorCodes.identityUnavailable, message);
    }
    throw new WeftError(ErrorCodes.identityUnavailable, 'no agent issued a certificate', {
      cause: lastError,
    });
  }

  close(): void {
    this.#pool.destroy();
  }
}

/** The agent's error bodies are `{ error: { message } }`; describeAnswer reads `message`. */
function errorBody(body: unknown): unknown {
  if (body !== null && typeof body === 'object' && 'error' in body) return (body as { error: unknown }).error;
  return body;
}
