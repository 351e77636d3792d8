// The public API of @weft/core. Everything not exported here is internal and may change.

export type { AnalysisCheck, AnalysisContext, Finding } from './analysis/analysis-check.ts';
export { type AnalyzeOptions, analyze } from './analysis/analyze.ts';
export { analysisChecks, registerAnalysisCheck } from './analysis/check-registry.ts';
export { registerBuiltinKinds } from './config/builtin-kinds.ts';
export type { Cluster, ClusterEndpoint, ClusterPolicy } from './config/compile/cluster.ts';
export { type CompileOptions, compile } from './config/compile/compile.ts';
export type { EffectiveDestinationRule } from './config/compile/destination-rule-selection.ts';
export type {
  DestinationWorkload,
  EffectivePeerAuthentication,
  InboundPolicies,
  MtlsMode,
  WorkloadAuthorization,
} from './config/compile/inbound-policies.ts';
export { DEFAULT_MESH_OPTIONS, type MeshOptions } from './config/compile/mesh-options.ts';
export type { MeshService, ServiceEndpoint, ServicePort } from './config/compile/mesh-service.ts';
export { MeshSnapshot } from './config/compile/mesh-snapshot.ts';
export { compareResources } from './config/compile/resource-order.ts';
export type { SidecarScope } from './config/compile/sidecar-scope.ts';
export type { SourceWorkload } from './config/compile/source-workload.ts';
export { type HttpRouteSpec, MESH_GATEWAY, WorkloadView } from './config/compile/workload-view.ts';
export { type DurationParse, parseDurationMs } from './config/duration.ts';
export {
  canonicalHost,
  DEFAULT_DOMAIN_SUFFIX,
  hostMatches,
  type NameContext,
  toFqdn,
} from './config/host.ts';
export type { DeprecatedField, FieldNote, KindDefinition } from './config/kind-definition.ts';
export { findKind, registeredKinds, registerKind } from './config/kind-registry.ts';
export { DEFAULT_PARSE_LIMITS, type ParseLimits } from './config/limits.ts';
export {
  type ParseConfigOptions,
  type ParsedConfig,
  parseConfig,
  parseConfigObjects,
  parseConfigStrict,
} from './config/parse-config.ts';
export { type Resource, type ResourceMetadata, resourceKey } from './config/resource.ts';
export type {
  AuthorizationPolicyResource,
  DestinationRuleResource,
  GatewayResource,
  MeshKind,
  MeshResource,
  PeerAuthenticationResource,
  RequestAuthenticationResource,
  ResourcesByKind,
  ServiceEntryResource,
  SidecarResource,
  TelemetryResource,
  VirtualServiceResource,
  WorkloadEntryResource,
} from './config/resources.ts';
export { compileSafeRegex, MAX_REGEX_LENGTH, MAX_REGEX_PROGRAM_SIZE } from './config/safe-regex.ts';
export type { StringMatch } from './config/schema-primitives.ts';
export {
  type ConfigIssue,
  ConfigValidationError,
  formatConfigIssue,
  type SourceLocation,
} from './errors/config-validation-error.ts';
export { type ErrorCode, ErrorCodes, WeftError } from './errors/weft-error.ts';
export { type Disposer, EventChannel } from './events/event-channel.ts';
export type { StaticConfig } from './mesh/config-source.ts';
export {
  type CreateMeshOptions,
  createMesh,
  Mesh,
  type RejectionEvent,
  type SnapshotEvent,
} from './mesh/create-mesh.ts';
export type { WorkloadIdentity } from './mesh/workload-identity.ts';
export { type Random, seededRandom, systemRandom } from './randomness/random.ts';
export type { Locality, RegisteredWorkload, Registry } from './registry/workload.ts';
export type { HttpMatchConditions, RequestPredicate } from './routing/http-match.ts';
export { compileRetryPolicy, type RetryPolicy } from './routing/retry-policy.ts';
export { pathOnly, type RouteRequest } from './routing/route-request.ts';
export {
  type CompiledRoute,
  matchedUriPrefix,
  pickWeighted,
  type RouteDestination,
  RouteTable,
} from './routing/route-table.ts';
export { type Clock, systemClock, type TimerHandle } from './time/clock.ts';
