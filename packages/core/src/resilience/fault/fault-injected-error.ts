import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import type { FaultAbort } from './fault-decision.ts';

/**
 * A request aborted by the route's fault injection. Adapters answer with `httpStatus` (HTTP) or
 * `grpcStatus` (gRPC) and the response flag `FI`; it is never retried (see classify-outcome.ts).
 */
export class FaultInjectedError extends WeftError {
  readonly httpStatus?: number;
  readonly grpcStatus?: number;
  readonly route: string;
  readonly responseFlag = 'FI';

  constructor(abort: FaultAbort, route: string) {
    const status =
      abort.httpStatus === undefined ? `gRPC status ${abort.grpcStatus}` : `HTTP ${abort.httpStatus}`;
    super(ErrorCodes.faultInjected, `fault injection aborted the request on route "${route}" with ${status}`);
    this.name = 'FaultInjectedError';
    if (abort.httpStatus !== undefined) this.httpStatus = abort.httpStatus;
    if (abort.grpcStatus !== undefined) this.grpcStatus = abort.grpcStatus;
    this.route = route;
  }
}
