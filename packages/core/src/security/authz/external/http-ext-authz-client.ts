import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { type Clock, systemClock } from '../../../time/clock.ts';
import { DEFAULT_EXT_AUTHZ_TIMEOUT_MS, type HttpAuthorizerSettings } from './extension-provider.ts';
import type {
  ExternalAuthorizer,
  ExternalCheckOutcome,
  ExternalCheckRequest,
} from './external-authorizer.ts';

/** Enough for any denial page; a longer body is cut here rather than buffered without end. */
export const MAX_DENIAL_BODY_BYTES = 64 * 1024;

export interface HttpExtAuthzClientOptions {
  readonly clock?: Clock;
}

/**
 * Envoy's HTTP ext_authz call, made with node:http: the original method, `pathPrefix` + the
 * original path and query, the original Host, `Content-Length: 0` and the headers chosen by the
 * provider; 200 allows, 5xx and transport failures are errors, any other status denies with that
 * status and body. The `timeout` bounds the whole exchange; connections are kept alive.
 */
export class HttpExtAuthzClient implements ExternalAuthorizer {
  readonly #clock: Clock;
  readonly #agent = new Agent({ keepAlive: true });

  constructor(options: HttpExtAuthzClientOptions = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async check(
    settings: HttpAuthorizerSettings,
    request: ExternalCheckRequest,
    signal?: AbortSignal,
  ): Promise<ExternalCheckOutcome> {
    if (signal?.aborted === true)
      return { kind: 'error', reason: 'the request was aborted before the check' };
    const controller = new AbortController();
    const timeoutMs = settings.timeout ?? DEFAULT_EXT_AUTHZ_TIMEOUT_MS;
    let hasTimedOut = false;
    const timer = this.#clock.setTimeout(() => {
      hasTimedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#exchange(settings, request, controller.signal);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return {
        kind: 'error',
        reason: hasTimedOut
          ? `the authorizer ${settings.service}:${settings.port} did not answer within ${timeoutMs}ms`
          : `the authorizer ${settings.service}:${settings.port} could not be asked: ${detail}`,
      };
    } finally {
      this.#clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Closes kept-alive connections; checks after this open new ones. */
  close(): void {
    this.#agent.destroy();
  }

  #exchange(
    settings: HttpAuthorizerSettings,
    request: ExternalCheckRequest,
    signal: AbortSignal,
  ): Promise<ExternalCheckOutcome> {
    const headers: Record<string, string> = {};
    for (const [name, value] of request.headers) headers[name] = value;
    headers.host = request.authority;
    headers['content-length'] = '0';
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: settings.service,
          port: settings.port,
          method: request.method,
          path: `${settings.pathPrefix ?? ''}${request.pathAndQuery}`,
          headers,
          agent: this.#agent,
          signal,
        },
        (response) => {
          readBounded(response, MAX_DENIAL_BODY_BYTES).then((body) => {
            const status = response.statusCode ?? 0;
            const responseHeaders = headerPairs(response);
            if (status === 200) resolve({ kind: 'allowed', headers: responseHeaders });
            else if (status >= 500 || status < 200)
              resolve({ kind: 'error', reason: `the authorizer answered ${status}` });
            else resolve({ kind: 'denied', status, body, headers: responseHeaders });
          }, reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
  }
}

/** Reads a body up to `maxBytes` (the rest is discarded and the connection not reused). */
function readBounded(response: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    response.on('data', (chunk: Buffer) => {
      if (length >= maxBytes) return;
      chunks.push(chunk);
      length += chunk.length;
      if (length >= maxBytes) {
        resolve(Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'));
        response.destroy();
      }
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function headerPairs(response: IncomingMessage): [string, string][] {
  const pairs: [string, string][] = [];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2)
    pairs.push([(raw[i] as string).toLowerCase(), raw[i + 1] as string]);
  return pairs;
}
