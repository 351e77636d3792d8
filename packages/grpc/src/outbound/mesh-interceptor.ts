import { InterceptingCall, type Interceptor, type ServiceDefinition, status as Status } from '@grpc/grpc-js';
import { ErrorCodes, type Mesh, type WorkloadView } from '@weft/core';
import { resolveTargetService, type TargetService } from '../channel/target-service.ts';
import { grpcEvents } from '../events/grpc-events.ts';
import type { MeshTransportSecurity } from '../security/transport-security.ts';
import { toStatusObject } from '../status/mesh-status.ts';
import { ResponseFlags } from '../status/response-flags.ts';
import { parseTarget } from '../target/mesh-target.ts';
import type { MessageSizes } from '../telemetry/message-sizes.ts';
import { MeshedCall } from './meshed-call.ts';
import { MethodIdempotency } from './method-idempotency.ts';
import { type OutboundContext, retryPlans } from './outbound-context.ts';
import { RefusedCall } from './refused-call.ts';

export interface MeshInterceptorOptions {
  /**
   * The service definition the client was generated from (`GeneratedClient.service`): methods
   * whose `idempotency_level` is IDEMPOTENT or NO_SIDE_EFFECTS may be retried after they reached
   * the upstream. createMeshClient passes it.
   */
  readonly service?: ServiceDefinition;
  /** Epoch milliseconds, for grpc-js's wall-clock deadlines; `Date.now` unless a test fakes it. */
  readonly wallClock?: () => number;
  /**
   * How the channel's connections are secured (meshClientOptions passes its own): telemetry
   * reports each attempt's connection_security_policy and principals only when they follow the
   * mesh's TLS settings. The mesh's by default.
   */
  readonly transportSecurity?: MeshTransportSecurity;
}

/**
 * The grpc-js client interceptor that puts every call to `target` through the mesh: routing by
 * `/package.Service/Method` and metadata, deadlines, faults, weighted subsets, per-call load
 * balancing, connection-pool limits, retries and outlier accounting (see MeshedCall). It must sit
 * over a `weft:` channel (meshClientOptions arranges both); it is the last interceptor, so the
 * application's own interceptors see one logical call and ours the attempts.
 *
 * `target` is the one the channel was made for (`weft:///reviews.default:9080` or `reviews:9080`):
 * grpc-js tells an interceptor nothing about its channel.
 */
export function meshInterceptor(
  mesh: Mesh,
  target: string,
  options: MeshInterceptorOptions = {},
): Interceptor {
  return createMeshInterceptor(mesh, target, options, undefined);
}

/**
 * meshInterceptor, reading message sizes from `sizes` when the client's methods note them
 * (createMeshClient's counted client class); without, calls report 0 body bytes.
 */
export function createMeshInterceptor(
  mesh: Mesh,
  target: string,
  options: MeshInterceptorOptions,
  sizes: MessageSizes | undefined,
): Interceptor {
  const parsed = parseTarget(target);
  if (parsed === undefined) throw new TypeError(`"${target}" names no host and port a mesh could route to`);
  const defaultAuthority = parsed.port === undefined ? parsed.hostName : `${parsed.hostName}:${parsed.port}`;
  const context: OutboundContext = {
    mesh,
    events: grpcEvents(mesh),
    retryRuntime: { clock: mesh.clock, random: mesh.random, events: mesh.events.retry },
    retryPlanFor: retryPlans(),
    idempotency: new MethodIdempotency(options.service),
    wallClock: options.wallClock ?? Date.now,
    isMeshTls: options.transportSecurity?.isMeshTls ?? true,
    messageSizes: sizes,
  };
  // The target resolves once per snapshot, not per call.
  let resolvedIn: WorkloadView | undefined;
  let resolved: TargetService | undefined;
  return (callOptions, nextCall) => {
    const view = mesh.outbound;
    if (view !== resolvedIn) {
      resolved = resolveTargetService(view, parsed.hostName, parsed.port);
      resolvedIn = view;
    }
    const service = resolved;
    if (service === undefined) {
      const status = toStatusObject({
        code: Status.UNAVAILABLE,
        details:
          `${defaultAuthority} is not a service of the mesh` +
          (parsed.port === undefined ? ' (or has several ports: name one in the target)' : ''),
        flags: [ResponseFlags.noRoute],
        errorCode: ErrorCodes.notInRegistry,
      });
      return new InterceptingCall(new RefusedCall(status, !callOptions.method_definition.responseStream));
    }
    const authority = callOptions.host ?? defaultAuthority;
    return new InterceptingCall(new MeshedCall(context, view, service, authority, callOptions, nextCall));
  };
}
