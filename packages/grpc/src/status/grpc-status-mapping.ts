import { status as Status } from '@grpc/grpc-js';

/**
 * The two tables that let HTTP-shaped policy speak gRPC.
 *
 * `httpStatusToGrpc` is gRPC's own mapping of an HTTP status to the status a client reports
 * (grpc/doc/http-grpc-status-mapping.md), which Envoy also uses for its local replies: a fault
 * `abort.httpStatus: 503` reaches a gRPC caller as UNAVAILABLE, a 404 as UNIMPLEMENTED.
 *
 * `grpcStatusToHttp` is the reverse mapping Envoy applies before outlier detection and call
 * breakers see a gRPC answer, so `consecutive5xxErrors` counts UNAVAILABLE (503), INTERNAL and
 * UNKNOWN (500) and DEADLINE_EXCEEDED (504), and `consecutiveGatewayErrors` counts UNAVAILABLE
 * and DEADLINE_EXCEEDED.
 */
export function httpStatusToGrpc(httpStatus: number): Status {
  switch (httpStatus) {
    case 400:
      return Status.INTERNAL;
    case 401:
      return Status.UNAUTHENTICATED;
    case 403:
      return Status.PERMISSION_DENIED;
    case 404:
      return Status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE;
    default:
      return Status.UNKNOWN;
  }
}

const HTTP_BY_GRPC: readonly number[] = [
  200, // OK
  499, // CANCELLED
  500, // UNKNOWN
  400, // INVALID_ARGUMENT
  504, // DEADLINE_EXCEEDED
  404, // NOT_FOUND
  409, // ALREADY_EXISTS
  403, // PERMISSION_DENIED
  429, // RESOURCE_EXHAUSTED
  400, // FAILED_PRECONDITION
  409, // ABORTED
  400, // OUT_OF_RANGE
  501, // UNIMPLEMENTED
  500, // INTERNAL
  503, // UNAVAILABLE
  500, // DATA_LOSS
  401, // UNAUTHENTICATED
];

export function grpcStatusToHttp(code: number): number {
  return HTTP_BY_GRPC[code] ?? 500;
}

/** `UNAVAILABLE` for 14; `CODE_<n>` for a number gRPC does not define. */
export function grpcStatusName(code: number): string {
  const name = (Status as unknown as Record<number, string | undefined>)[code];
  return typeof name === 'string' ? name : `CODE_${code}`;
}
