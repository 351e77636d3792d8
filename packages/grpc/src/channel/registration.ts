import { experimental } from '@grpc/grpc-js';
import { WEFT_SCHEME } from '../target/mesh-target.ts';
import { ENDPOINT_BALANCER_NAME, EndpointBalancer, EndpointBalancerConfig } from './endpoint-balancer.ts';
import { MeshResolver } from './mesh-resolver.ts';

let isRegistered = false;

/**
 * Registers the `weft:` resolver and the `weft_endpoints` balancer with grpc-js (its registries
 * are process-wide). Idempotent; meshClientOptions calls it, so applications rarely need to.
 */
export function registerWeft(): void {
  if (isRegistered) return;
  experimental.registerResolver(WEFT_SCHEME, MeshResolver);
  experimental.registerLoadBalancerType(ENDPOINT_BALANCER_NAME, EndpointBalancer, EndpointBalancerConfig);
  isRegistered = true;
}
