import { status as Status } from '@grpc/grpc-js';
import { GRPC_STATUS_HTTP_CODES } from '@weft/core';

/**
 * The two tables that let HTTP-shaped policy speak gRPC.
 *
 * `httpStatusToGrpc` is gRPC's own mapping of an HTTP status to the status a client reports
 * (grpc/doc/http-grpc-status-mapping.md), which Envoy also uses for its local replies: a fault
 * `abort.httpStatus: 503` reaches a gRPC caller as UNAVAILABLE, a 404 as UNIMPLEMENTED.
 *
 * `grpcStatusToHttp` is the reverse mapping Envoy applies before outlier detection and call
 * breakers see a gRPC answer (google.rpc.Code's own HTTP mapping), so `consecutive5xxErrors`
 * counts UNAVAILABLE (503), INTERNAL and UNKNOWN (500) and DEADLINE_EXCEEDED (504), and
 * `consecutiveGatewayErrors` counts UNAVAILABLE and DEADLINE_EXCEEDED. Its table is @weft/core's
 * GRPC_STATUS_HTTP_CODES, the one edge reports count gRPC calls with; a code past it is 500.
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

export function grpcStatusToHttp(code: number): number {
  return GRPC_STATUS_HTTP_CODES[code] ?? 500;
}

/** `UNAVAILABLE` for 14; `CODE_<n>` for a number gRPC does not define. */
export function grpcStatusName(code: number): string {
  const name = (Status as unknown as Record<number, string | undefined>)[code];
  return typeof name === 'string' ? name : `CODE_${code}`;
}
