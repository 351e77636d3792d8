import {
  type CompiledRoute,
  compileRetryPlan,
  ErrorCodes,
  type HttpRouteSpec,
  type Mesh,
  type RetryPlan,
} from '@weft/core';
import type { Dispatcher } from 'undici';
import { addRequestContextHeaders } from '../propagation/context-headers.ts';
import type { EndpointPoolOptions } from './endpoint-pool-options.ts';
import { MeshedRequest, type OutboundContext } from './meshed-request.ts';
import { DEFAULT_MAX_REPLAY_BYTES, ReplayableBody } from './replayable-body.ts';
import { headerValue, readRequestHeaders } from './request-headers.ts';
import { ResponseFlags } from './response-flags.ts';
import { deliverSyntheticResponse } from './synthetic-response.ts';
import { parseOrigin } from './target.ts';
import { UpstreamTransport } from './tls/upstream-transport.ts';

export interface MeshInterceptorOptions {
  /** Largest streamed request body buffered so the request can be retried (64 KiB). */
  readonly maxReplayBytes?: number;
  /** Where endpoint origins' connection settings are recorded for the Agent's pool factory. */
  readonly endpointPools?: EndpointPoolOptions;
  /**
   * Makes the TLS connections (mTLS, origination) and owns their pools; createMeshDispatcher
   * passes one it closes with the dispatcher. Without one, the interceptor makes its own, whose
   * idle connections close after undici's keep-alive timeout.
   */
  readonly transport?: UpstreamTransport;
}

/**
 * The undici interceptor that puts a request through the mesh. Requests to hosts the mesh knows
 * are routed and balanced to an endpoint (`http://reviews:9080/x` → `http://10.0.0.7:9080/x`
 * with `Host: reviews:9080`); others pass through unchanged, or, when the workload's outbound
 * traffic policy is REGISTRY_ONLY, are answered 502 with response flag NR, as Istio's
 * BlackHoleCluster does. While the mesh has no configuration from its control plane, requests for
 * hosts it does not know are answered 503 at once with flag NC and WEFT_ERR_CONTROL_PLANE_UNAVAILABLE.
 */
export function meshInterceptor(
  mesh: Mesh,
  options: MeshInterceptorOptions = {},
): Dispatcher.DispatcherComposeInterceptor {
  const maxReplayBytes = options.maxReplayBytes ?? DEFAULT_MAX_REPLAY_BYTES;
  const plans = new WeakMap<CompiledRoute<HttpRouteSpec>, RetryPlan>();
  const retryPlanFor = (route: CompiledRoute<HttpRouteSpec>): RetryPlan => {
    let plan = plans.get(route);
    if (plan === undefined) {
      plan = compileRetryPlan(route.retry, {
        routeName: route.name,
        isNonIdempotentRetryAllowed: allowsNonIdempotentRetries(route),
      });
      plans.set(route, plan);
    }
    return plan;
  };
  const transport =
    options.transport ??
    new UpstreamTransport(
      mesh,
      options.endpointPools === undefined ? {} : { endpointPools: options.endpointPools },
    );
  return (dispatch) => {
    const context: OutboundContext = {
      mesh,
      dispatch,
      retryPlanFor,
      retryRuntime: { clock: mesh.clock, random: mesh.random, events: mesh.events.retry },
      transport,
    };
    return (dispatchOptions, handler) => {
      const origin = parseOrigin(dispatchOptions.origin);
      if (origin === undefined) return dispatch(dispatchOptions, handler);
      const view = mesh.outbound;
      const host = view.resolveHost(origin.hostName);
      if (host === undefined) {
        const unavailable = mesh.controlPlaneUnavailable;
        if (unavailable !== undefined) {
          deliverSyntheticResponse(handler, {
            status: 503,
            body: `control plane unavailable (${unavailable}): ${origin.hostName} cannot be resolved`,
            flags: [ResponseFlags.controlPlaneUnavailable],
            errorCode: ErrorCodes.controlPlaneUnavailable,
          });
          return true;
        }
        if (view.outboundTrafficPolicy === 'REGISTRY_ONLY') {
          deliverSyntheticResponse(handler, {
            status: 502,
            body: `${origin.hostName} is not in the mesh registry and the outbound traffic policy is REGISTRY_ONLY`,
            flags: [ResponseFlags.registryOnly],
            errorCode: ErrorCodes.notInRegistry,
          });
          return true;
        }
        return dispatch(dispatchOptions, handler);
      }
      const headers = readRequestHeaders(dispatchOptions.headers);
      // Inside an inbound request's handler: its trace, end-user, request id and deadline go along,
      // and the call ends when that deadline passes.
      const propagatedDeadline = addRequestContextHeaders(headers);
      const authority = headerValue(headers, 'host') ?? origin.authority;
      const request = new MeshedRequest(
        context,
        view,
        { scheme: origin.scheme, hostName: origin.hostName, host, port: origin.port, authority },
        dispatchOptions,
        handler,
        headers,
        new ReplayableBody(dispatchOptions.body, maxReplayBytes),
        propagatedDeadline,
      );
      request.start();
      return true;
    };
  };
}

/**
 * Istio's HTTPRetry cannot say "retry POSTs too", so a VirtualService says it with an
 * annotation: `retry.weft.dev/non-idempotent: "true"` for all its routes, or a comma-separated
 * list of route names.
 */
export const NON_IDEMPOTENT_RETRY_ANNOTATION = 'retry.weft.dev/non-idempotent';

function allowsNonIdempotentRetries(route: CompiledRoute<HttpRouteSpec>): boolean {
  const value = route.annotations?.[NON_IDEMPOTENT_RETRY_ANNOTATION]?.trim();
  if (value === undefined || value === '') return false;
  if (value === 'true' || value === '*') return true;
  return value.split(',').some((name) => name.trim() === route.name);
}
