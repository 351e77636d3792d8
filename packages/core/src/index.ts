// The public API of @weft/core. Everything not exported here is internal and may change.

export { AgentClient, connectToAgent } from './agent-client/agent-client.ts';
export type {
  AgentClientEvents,
  AgentClientState,
  AppliedEvent,
  ConfigSource,
  ConnectionEvent,
  EmptiedEvent,
  NackEvent,
  ProblemEvent,
  RegistrationEvent,
  ResyncReason,
  StateChangeEvent,
} from './agent-client/agent-client-events.ts';
export {
  AGENT_CLIENT_DEFAULTS,
  type AgentClientOptions,
  type RegistrationOptions,
} from './agent-client/agent-client-options.ts';
export type { ClusterSummary, ConfigDump, RouteTableSummary } from './agent-client/config-dump.ts';
export {
  type ClientStatusReport,
  type LeaseGrant,
  PROTOCOL_VERSION,
  STREAM_TOKEN_HEADER,
  type ResourceRef,
  type RevisionMark,
  type StoredResource,
  type WatchFrame,
  type WatchRequest,
  type WorkloadRegistration,
} from './agent-client/protocol.ts';
export { AgentProtocolError } from './agent-client/watch-frame.ts';
export type { AnalysisCheck, AnalysisContext, Finding } from './analysis/analysis-check.ts';
export { type AnalyzeOptions, analyze } from './analysis/analyze.ts';
export { analysisChecks, registerAnalysisCheck } from './analysis/check-registry.ts';
export { DEFAULT_LOAD_BALANCER, LoadBalancerNames } from './balancing/balancer-name.ts';
export {
  findLoadBalancer,
  registeredLoadBalancers,
  registerLoadBalancer,
} from './balancing/balancer-registry.ts';
export {
  createClusterLoadBalancer,
  createLoadBalancer,
  type LoadBalancerDeps,
} from './balancing/cluster-load-balancer.ts';
export { endpointKey } from './balancing/endpoint-key.ts';
export { EndpointLoad } from './balancing/endpoint-load.ts';
export type {
  BalancerContext,
  ConsistentHashSettings,
  LbEndpoint,
  LoadBalancer,
  LoadBalancerFactory,
  LoadBalancerSettings,
  LocalityLbSetting,
  PickContext,
  Picker,
  PickerBuilder,
  WarmupSettings,
} from './balancing/load-balancer.ts';
export { EMPTY_PICKER } from './balancing/load-balancer.ts';
export {
  createRequestHasher,
  formatSetCookie,
  type GeneratedCookie,
  type HashRequestView,
  type RequestHasher,
} from './balancing/request-hash.ts';
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
export { isExportedTo, labelsMatch } from './config/compile/visibility.ts';
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
export { ClusterRuntime, type ClusterRuntimeDeps } from './mesh/cluster-runtime.ts';
export { ClusterRuntimes } from './mesh/cluster-runtimes.ts';
export type { StaticConfig } from './mesh/config-source.ts';
export {
  type CreateMeshOptions,
  createMesh,
  Mesh,
  type RejectionEvent,
  type SnapshotEvent,
} from './mesh/create-mesh.ts';
export { RouteBreakers } from './mesh/route-breakers.ts';
export type { WorkloadIdentity } from './mesh/workload-identity.ts';
export { type Random, seededRandom, systemRandom } from './randomness/random.ts';
export type { Locality, RegisteredWorkload, Registry } from './registry/workload.ts';
export {
  CALL_BREAKER_DEFAULTS,
  type CallBreakerSettings,
  callBreakerConfigSchema,
} from './resilience/breaker/breaker-config.ts';
export type { BreakerPermit } from './resilience/breaker/breaker-permit.ts';
export type { BreakerEvent, CircuitOpen } from './resilience/breaker/breaker-state.ts';
export { CallBreaker } from './resilience/breaker/call-breaker.ts';
export {
  decideFault,
  type FaultAbort,
  type FaultDecision,
  type HttpFaultSpec,
  NO_FAULT,
} from './resilience/fault/fault-decision.ts';
export type { FaultEvent } from './resilience/fault/fault-events.ts';
export { FaultInjectedError } from './resilience/fault/fault-injected-error.ts';
export { FaultInjector } from './resilience/fault/fault-injector.ts';
export { OutlierDetector } from './resilience/outlier/outlier-detector.ts';
export type { EjectionReason, OutlierEvent } from './resilience/outlier/outlier-events.ts';
export {
  OUTLIER_DEFAULTS,
  type OutlierSettings,
  resolveOutlierSettings,
} from './resilience/outlier/outlier-settings.ts';
export {
  DEFAULT_PANIC_THRESHOLD_PERCENT,
  isPanic,
  selectWithPanic,
} from './resilience/outlier/panic-threshold.ts';
export { ConnectionPoolLimiter } from './resilience/pool/connection-pool-limiter.ts';
export type {
  OverflowReason,
  PoolAdmission,
  PoolLease,
  PoolOverflow,
  PoolOverflowEvent,
} from './resilience/pool/pool-admission.ts';
export {
  type ConnectionPoolLimits,
  DEFAULT_CONNECT_TIMEOUT_MS,
  ISTIO_UNLIMITED,
  resolvePoolLimits,
} from './resilience/pool/pool-limits.ts';
export { undiciPoolOptions } from './resilience/pool/undici-pool-options.ts';
export type {
  AttemptOutcome,
  HeaderReader,
  ResetPhase,
} from './resilience/retry/attempt-outcome.ts';
export { hasReachedUpstream } from './resilience/retry/attempt-outcome.ts';
export { backoffDelayMs } from './resilience/retry/backoff.ts';
export { classifyOutcome } from './resilience/retry/classify-outcome.ts';
export {
  DEFAULT_MAX_REPLAY_BODY_BYTES,
  isIdempotentMethod,
  isReplayableBody,
} from './resilience/retry/request-safety.ts';
export { RetriesExhaustedError } from './resilience/retry/retries-exhausted-error.ts';
export { parseRetryAfterMs } from './resilience/retry/retry-after.ts';
export { type BudgetLimit, RetryBudget } from './resilience/retry/retry-budget.ts';
export {
  DEFAULT_RETRY_BUDGET,
  type RetryBudgetSettings,
  retryBudgetSettings,
} from './resilience/retry/retry-budget-settings.ts';
export {
  RetryController,
  type RetryRequestFacts,
  type RetryRuntime,
} from './resilience/retry/retry-controller.ts';
export type { RetryDecision, RetryRefusalReason } from './resilience/retry/retry-decision.ts';
export type { RetryEvent } from './resilience/retry/retry-events.ts';
export {
  compileRetryPlan,
  DEFAULT_MAX_SERVER_DELAY_MS,
  type RateLimitResetHeader,
  type RetryPlan,
  type RetryPlanOptions,
} from './resilience/retry/retry-plan.ts';
export type { HttpMatchConditions, RequestPredicate } from './routing/http-match.ts';
export { compileRetryPolicy, type RetryPolicy } from './routing/retry-policy.ts';
export { pathOnly, queryParameter, type RouteRequest } from './routing/route-request.ts';
export {
  type CompiledRoute,
  clusterName,
  matchedUriPrefix,
  pickWeighted,
  type RouteDestination,
  RouteTable,
} from './routing/route-table.ts';
export { type Clock, systemClock, type TimerHandle } from './time/clock.ts';
