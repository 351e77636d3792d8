import type { Clock } from '@weft/core';
import type { EdgeView } from '../dashboard/edge-registry.ts';
import type { AgentRecord } from './agent-directory.ts';
import { readPeerView } from './peer-view-input.ts';

export interface PeerRequestOptions {
  /** Sent as `Authorization: Bearer …`: a peer off loopback serves its edges only with it. */
  readonly adminToken: string | undefined;
  /** The whole exchange (connect, headers, body) must end within this; else the peer is missing. */
  readonly timeoutMs: number;
  /** The largest answer read; a larger one is refused (the peer is missing). */
  readonly maxBytes: number;
  readonly clock: Clock;
}

/**
 * One peer agent's own edges (`GET <url>/v1/edges?scope=local&windowMs=…`), within the deadline.
 * Rejects with an Error saying why (unreachable, timed out, refused with its status, too large,
 * not an edge view); the caller reports the peer as missing with that reason. `scope=local` is
 * explicit, so a merge never asks a peer to merge in turn.
 */
export async function fetchPeerEdges(
  peer: AgentRecord,
  windowMs: number,
  options: PeerRequestOptions,
): Promise<Pick<EdgeView, 'windowMs' | 'edges' | 'clients'>> {
  const url = new URL('/v1/edges', peer.url);
  url.searchParams.set('scope', 'local');
  url.searchParams.set('windowMs', String(windowMs));
  const controller = new AbortController();
  const timer = options.clock.setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const response = await fetch(url, {
      headers: {
        accept: 'application/json',
        ...(options.adminToken === undefined ? {} : { authorization: `Bearer ${options.adminToken}` }),
      },
      redirect: 'error',
      signal: controller.signal,
    });
    const body = await readLimited(response, options.maxBytes);
    if (response.status !== 200) throw new Error(`answered ${response.status}: ${errorText(body)}`);
    return readPeerView(JSON.parse(body) as unknown);
  } catch (error) {
    if (controller.signal.aborted) throw new Error(`no answer within ${options.timeoutMs} ms`);
    throw new Error(reasonOf(error), { cause: error });
  } finally {
    options.clock.clearTimeout(timer);
  }
}

/** The body as text, refusing (and cancelling) one past `maxBytes`. */
async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new Error(`answered more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The message of an agent's error body (`{ error: { message } }`), else its start. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message.slice(0, 300);
  } catch {
    // not JSON: the text itself says it
  }
  return body.slice(0, 300);
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch() says "fetch failed" and puts the reason (ECONNREFUSED …) in its cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error instanceof SyntaxError
    ? `answered something that is not JSON (${error.message})`
    : `${error.message}${cause}`;
}
