import type { Metadata, ServiceDefinition } from '@grpc/grpc-js';

/** The proto `idempotency_level` values that make a method safe to send twice. */
const SAFE_LEVELS: ReadonlySet<string> = new Set(['IDEMPOTENT', 'NO_SIDE_EFFECTS']);

/**
 * Which calls may be retried after they reached the upstream. Every gRPC call is an HTTP POST,
 * so, as @weft/core's retry rules say for gRPC, a call counts as idempotent only when something
 * says so: the method's `option idempotency_level = IDEMPOTENT` (or `NO_SIDE_EFFECTS`) in the
 * service definition the client was built from (proto-loader keeps it in `options`), or the
 * caller's own grpc-js flag `metadata.setOptions({ idempotentRequest: true })`. Otherwise only
 * attempts that never reached the upstream (a failed connect, an unknown endpoint) are retried.
 */
export class MethodIdempotency {
  readonly #idempotentPaths: ReadonlySet<string>;

  constructor(service: ServiceDefinition | undefined) {
    const paths = new Set<string>();
    for (const method of Object.values(service ?? {})) {
      const level = (method as { options?: { idempotency_level?: unknown } }).options?.idempotency_level;
      if (typeof level === 'string' && SAFE_LEVELS.has(level)) paths.add(method.path);
    }
    this.#idempotentPaths = paths;
  }

  isIdempotent(path: string, metadata: Metadata): boolean {
    return this.#idempotentPaths.has(path) || metadata.getOptions().idempotentRequest === true;
  }
}
