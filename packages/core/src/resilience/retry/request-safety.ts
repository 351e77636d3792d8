/**
 * What makes a request safe to send twice: its method's idempotency (RFC 9110 §9.2.2) and whether
 * its body can be replayed.
 */

/** RFC 9110's idempotent methods. Method names are case-sensitive (§9.1): `get` is not `GET`. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/**
 * The largest body Weft buffers so that a retry can resend it: 64 KiB, Linkerd's limit. A larger
 * or streamed body is sent once and the request is not retried.
 */
export const DEFAULT_MAX_REPLAY_BODY_BYTES = 64 * 1024;

export type RequestBody =
  | { readonly kind: 'none' }
  /** Fully in memory (a string, Buffer, Uint8Array, …). */
  | { readonly kind: 'buffered'; readonly sizeBytes: number }
  /** A stream or async iterable: it can be read once. */
  | { readonly kind: 'stream' };

/** Whether a retry can resend the body byte for byte. */
export function isReplayableBody(
  body: RequestBody,
  maxBytes: number = DEFAULT_MAX_REPLAY_BODY_BYTES,
): boolean {
  switch (body.kind) {
    case 'none':
      return true;
    case 'buffered':
      return body.sizeBytes <= maxBytes;
    case 'stream':
      return false;
  }
}
