import {
  type CompiledRoute,
  compileRetryPlan,
  type HttpRouteSpec,
  type Mesh,
  type RetryPlan,
  type RetryRuntime,
} from '@weft/core';
import type { GrpcEvents } from '../events/grpc-events.ts';
import type { MessageSizes } from '../telemetry/message-sizes.ts';
import type { MethodIdempotency } from './method-idempotency.ts';

/** What every call of one client shares: built once per meshInterceptor, never per call. */
export interface OutboundContext {
  readonly mesh: Mesh;
  readonly events: GrpcEvents;
  readonly retryRuntime: RetryRuntime;
  readonly retryPlanFor: (route: CompiledRoute<HttpRouteSpec>) => RetryPlan;
  readonly idempotency: MethodIdempotency;
  /** Epoch milliseconds: grpc-js deadlines are wall-clock dates. */
  readonly wallClock: () => number;
  /** The channel's connections follow the mesh's TLS settings (MeshTransportSecurity.isMeshTls). */
  readonly isMeshTls: boolean;
  /** Where the client's methods note message sizes (createMeshClient); undefined: not counted. */
  readonly messageSizes: MessageSizes | undefined;
}

/**
 * Istio's HTTPRetry cannot say "retry non-idempotent calls too", so a VirtualService says it with
 * an annotation, the same one @weft/http reads: `retry.weft.dev/non-idempotent: "true"` for all
 * its routes, or a comma-separated list of route names.
 */
export const NON_IDEMPOTENT_RETRY_ANNOTATION = 'retry.weft.dev/non-idempotent';

/** Retry plans compiled once per route (per snapshot), shared by every call on it. */
export function retryPlans(): (route: CompiledRoute<HttpRouteSpec>) => RetryPlan {
  const plans = new WeakMap<CompiledRoute<HttpRouteSpec>, RetryPlan>();
  return (route) => {
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
}

function allowsNonIdempotentRetries(route: CompiledRoute<HttpRouteSpec>): boolean {
  const value = route.annotations?.[NON_IDEMPOTENT_RETRY_ANNOTATION]?.trim();
  if (value === undefined || value === '') return false;
  if (value === 'true' || value === '*') return true;
  return value.split(',').some((name) => name.trim() === route.name);
}
