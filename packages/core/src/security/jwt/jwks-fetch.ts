import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { JSONWebKeySet } from 'jose';
import type { Clock } from '../../time/clock.ts';
import { MAX_JWKS_BYTES } from './jwt-limits.ts';

/** Fetches a JWKS document; rejects with a message that says what went wrong. */
export type JwksFetcher = (uri: string, options: JwksFetchOptions) => Promise<JSONWebKeySet>;

export interface JwksFetchOptions {
  readonly timeoutMs: number;
  readonly clock: Clock;
}

/**
 * GETs a key set with node:http or node:https (core does not depend on undici, and the global
 * fetch may be routed through the mesh by the application). The timeout bounds the whole exchange;
 * the document must be a 200 response, at most MAX_JWKS_BYTES, JSON with a `keys` list.
 */
export const fetchJwksDocument: JwksFetcher = async (uri, { timeoutMs, clock }) => {
  const url = new URL(uri);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`jwksUri ${uri} is not an http(s) URL`);
  }
  const controller = new AbortController();
  let hasTimedOut = false;
  const timer = clock.setTimeout(() => {
    hasTimedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const text = await get(url, controller.signal);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new Error(`the key set at ${uri} is not JSON`);
    }
    const keys =
      typeof document === 'object' && document !== null ? Reflect.get(document, 'keys') : undefined;
    if (!Array.isArray(keys)) throw new Error(`the key set at ${uri} has no "keys" list`);
    return document as JSONWebKeySet;
  } catch (error) {
    if (hasTimedOut)
      throw new Error(`fetching the key set at ${uri} took longer than ${timeoutMs}ms`, { cause: error });
    throw error;
  } finally {
    clock.clearTimeout(timer);
  }
};

function get(url: URL, signal: AbortSignal): Promise<string> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      url,
      { method: 'GET', signal, headers: { accept: 'application/json' } },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`fetching the key set at ${url.href} answered ${response.statusCode}`));
          return;
        }
        readCapped(response, url.href).then(resolve, reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function readCapped(response: IncomingMessage, href: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    response.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_JWKS_BYTES) {
        response.destroy();
        reject(new Error(`the key set at ${href} is larger than ${MAX_JWKS_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}
