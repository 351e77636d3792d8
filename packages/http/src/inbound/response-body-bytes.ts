import type { ServerResponse } from 'node:http';

/**
 * Counts the body bytes a handler writes to `response`, as Envoy's `response_bytes` does: what
 * went out, not what a header claimed. `getHeader('content-length')` cannot stand in for it:
 * headers given to `writeHead` are never readable there, and a chunked or streamed body has no
 * length at all. Only `write` and `end` of this one response are wrapped.
 */
export function countResponseBodyBytes(response: ServerResponse): () => number {
  let bytes = 0;
  const write = response.write;
  const end = response.end;
  response.write = function countedWrite(this: ServerResponse, ...args: unknown[]): boolean {
    bytes += chunkBytes(args[0], args[1]);
    return (write as (...writeArgs: unknown[]) => boolean).apply(this, args);
  } as ServerResponse['write'];
  response.end = function countedEnd(this: ServerResponse, ...args: unknown[]): ServerResponse {
    // end(callback) carries no chunk.
    if (typeof args[0] !== 'function') bytes += chunkBytes(args[0], args[1]);
    return (end as (...endArgs: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];
  return () => bytes;
}

function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
