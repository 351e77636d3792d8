import type { AuthorizationPolicySpec } from './kinds/authorization-policy.ts';
import type { DestinationRuleSpec } from './kinds/destination-rule.ts';
import type { GatewaySpec } from './kinds/gateway.ts';
import type { KubernetesServiceSpec } from './kinds/kubernetes-service.ts';
import type { PeerAuthenticationSpec } from './kinds/peer-authentication.ts';
import type { RequestAuthenticationSpec } from './kinds/request-authentication.ts';
import type { ServiceEntrySpec } from './kinds/service-entry.ts';
import type { SidecarSpec } from './kinds/sidecar.ts';
import type { TelemetrySpec } from './kinds/telemetry.ts';
import type { VirtualServiceSpec } from './kinds/virtual-service.ts';
import type { WorkloadEntrySpec } from './kinds/workload-entry.ts';
import type { Resource } from './resource.ts';

export type VirtualServiceResource = Resource<'VirtualService', VirtualServiceSpec>;
export type DestinationRuleResource = Resource<'DestinationRule', DestinationRuleSpec>;
export type ServiceEntryResource = Resource<'ServiceEntry', ServiceEntrySpec>;
export type WorkloadEntryResource = Resource<'WorkloadEntry', WorkloadEntrySpec>;
export type SidecarResource = Resource<'Sidecar', SidecarSpec>;
export type GatewayResource = Resource<'Gateway', GatewaySpec>;
export type PeerAuthenticationResource = Resource<'PeerAuthentication', PeerAuthenticationSpec>;
export type RequestAuthenticationResource = Resource<'RequestAuthentication', RequestAuthenticationSpec>;
export type AuthorizationPolicyResource = Resource<'AuthorizationPolicy', AuthorizationPolicySpec>;
export type TelemetryResource = Resource<'Telemetry', TelemetrySpec>;
export type KubernetesServiceResource = Resource<'Service', KubernetesServiceSpec>;

/** Every kind Weft ships (Istio's, and Kubernetes' Service), as a union tagged by `kind`. */
export type MeshResource =
  | VirtualServiceResource
  | DestinationRuleResource
  | ServiceEntryResource
  | WorkloadEntryResource
  | SidecarResource
  | GatewayResource
  | PeerAuthenticationResource
  | RequestAuthenticationResource
  | AuthorizationPolicyResource
  | TelemetryResource
  | KubernetesServiceResource;

export type MeshKind = MeshResource['kind'];

/** Resources grouped by kind, each list in resource order (see resource-order.ts). */
export type ResourcesByKind = { readonly [K in MeshKind]: readonly Extract<MeshResource, { kind: K }>[] };

const MESH_KINDS: readonly MeshKind[] = [
  'VirtualService',
  'DestinationRule',
  'ServiceEntry',
  'WorkloadEntry',
  'Sidecar',
  'Gateway',
  'PeerAuthentication',
  'RequestAuthentication',
  'AuthorizationPolicy',
  'Telemetry',
  'Service',
];

export function isMeshResource(resource: Resource): resource is MeshResource {
  return (MESH_KINDS as readonly string[]).includes(resource.kind);
}

export function emptyResourcesByKind(): { -readonly [K in MeshKind]: Extract<MeshResource, { kind: K }>[] } {
  return Object.fromEntries(MESH_KINDS.map((kind) => [kind, []])) as unknown as {
    -readonly [K in MeshKind]: Extract<MeshResource, { kind: K }>[];
  };
}
