// The public API of @weft/core. Everything not exported here is internal and may change.

export {
  type CertificateReport,
  CertificateReportSlot,
  type CertificateSummary,
} from './admin/certificate-report.ts';
export type { ClusterReport, ClustersReport, EndpointReport } from './admin/clusters-report.ts';
export {
  type ReadinessCheck,
  ReadinessConditions,
  type ReadinessReport,
  type ReadinessState,
} from './admin/readiness.ts';
export type {
  BlockVerdict,
  ConditionVerdict,
  RouteExplanation,
  RouteQuestion,
  RouteVerdict,
} from './admin/route-explanation.ts';
export type { MetricsCollector } from './admin/stats-text.ts';
export {
  DEFAULT_ADMIN_PORT,
  type PrometheusEndpoint,
  startWorkloadAdmin,
  WorkloadAdmin,
  type WorkloadAdminOptions,
} from './admin/workload-admin.ts';
export type { WorkloadConfigDump } from './admin/workload-config-dump.ts';
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
  EdgeAggregator,
  type EdgeAggregatorOptions,
  type EdgeInterval,
} from './agent-client/edge-aggregator.ts';
export {
  EDGE_LATENCY_BOUNDS_MS,
  EDGE_LATENCY_BUCKETS,
  type EdgeAggregate,
  type EdgeCaller,
  type EdgeDestination,
  type EdgeReport,
  type EjectionState,
  edgeReportPath,
  type FaultCount,
  GRPC_STATUS_HTTP_CODES,
  type InboundEdgeAggregate,
  MAX_CODES_PER_EDGE,
  MAX_EDGES_PER_REPORT,
  MAX_EJECTIONS_PER_REPORT,
  MAX_FAULT_ROUTES_PER_REPORT,
} from './agent-client/edge-protocol.ts';
export { EDGE_REPORT_DEFAULTS, type EdgeReportOptions } from './agent-client/edge-reporting.ts';
export {
  type ClientStatusReport,
  type LeaseGrant,
  PROTOCOL_VERSION,
  type ResourceRef,
  type RevisionMark,
  STREAM_TOKEN_HEADER,
  type StoredResource,
  type WatchFrame,
  type WatchRequest,
  type WorkloadRegistration,
} from './agent-client/protocol.ts';
export {
  bodySha256,
  createSvidProof,
  MAX_SVID_PROOF_CERTIFICATES,
  readSvidProof,
  SVID_PROOF_MAX_SKEW_MS,
  SVID_PROOF_SCHEME,
  type SvidProof,
  type SvidProofRequest,
  svidProofMessage,
} from './agent-client/svid-proof.ts';
export { AgentProtocolError, MAX_HEARTBEAT_MS } from './agent-client/watch-frame.ts';
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
export { FORWARDED_HEADERS, TRACE_CONTEXT_HEADERS } from './context/propagated-headers.ts';
export {
  currentRequestContext,
  type RequestContext,
  remainingMs,
  runInRequestContext,
} from './context/request-context.ts';
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
export { FollowedIdentity } from './mesh/followed-identity.ts';
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
export {
  AuthorizationEngine,
  type AuthorizationEngineOptions,
} from './security/authz/authorization-engine.ts';
export {
  ACCESS_DENIED_BODY,
  ACCESS_DENIED_STATUS,
  type AuthzDecision,
  type AuthzDecisionReason,
  type DeniedResponse,
} from './security/authz/authz-decision.ts';
export type { AuthzProtocol, AuthzRequest } from './security/authz/authz-request.ts';
export {
  type ExtensionProvider,
  type HttpAuthorizerSettings,
  parseExtensionProviders,
} from './security/authz/external/extension-provider.ts';
export type {
  ExternalAuthorizer,
  ExternalCheckOutcome,
  ExternalCheckRequest,
} from './security/authz/external/external-authorizer.ts';
export { HttpExtAuthzClient } from './security/authz/external/http-ext-authz-client.ts';
export { type PeerIdentity, peerIdentityFromSpiffeId } from './security/authz/peer-identity.ts';
export type { RequestAuth } from './security/authz/request-auth.ts';
export {
  type AgentIdentityOptions,
  DEFAULT_TRUST_DOMAIN,
} from './security/identity/agent-identity-options.ts';
export {
  type CertificateAnswer,
  type CertificateRequestBody,
  type RenewalProof,
  renewalProofMessage,
} from './security/identity/certificate-exchange.ts';
export type { IdentityMaterial, IdentitySource } from './security/identity/identity-material.ts';
export type { RootSummary, SecretSummary } from './security/identity/identity-summary.ts';
export {
  type JoinTokenClaims,
  JoinTokenError,
  readJoinTokenIdentity,
  signJoinToken,
  verifyJoinToken,
} from './security/identity/join-token.ts';
export {
  type ChainVerification,
  checkPeerCertificate,
  type PeerPolicy,
  type VerifiedPeer,
  verifySvidChain,
  verifyTlsPeer,
} from './security/identity/peer-verification.ts';
export { type PeerRefusal, PeerVerificationError } from './security/identity/peer-verification-error.ts';
export { RENEWAL_DEFAULTS, type RenewalSettings } from './security/identity/renewal-settings.ts';
export {
  checkTrustDomain,
  isSpiffeId,
  parseSpiffeId,
  type SpiffeId,
  SpiffeIdError,
  workloadOf,
  workloadSpiffeId,
} from './security/identity/spiffe-id.ts';
export { CertificateRefusedError, SvidRequester } from './security/identity/svid-requester.ts';
export { checkLeafSvid, type SvidRole } from './security/identity/svid-rules.ts';
export {
  acceptTlsPeer,
  clientTlsOptions,
  followIdentity,
  secureContextOptions,
  serverTlsOptions,
  spiffeServerCheck,
} from './security/identity/tls-options.ts';
export {
  certificateSha256,
  parseTrustBundle,
  type TrustBundle,
  trustBundleVersion,
} from './security/identity/trust-bundle.ts';
export type {
  CertificateCredential,
  CertificateExpiringEvent,
  CertificateIssuedEvent,
  CertificateRenewedEvent,
  RenewalFailedEvent,
  TrustBundleEvent,
  WorkloadCertificateEvents,
} from './security/identity/workload-certificate-events.ts';
export {
  type CertificateRequestSender,
  WorkloadCertificates,
  type WorkloadCertificatesOptions,
} from './security/identity/workload-certificates.ts';
export {
  InboundSecurity,
  type InboundSecurityOptions,
  type WorkloadSecurity,
} from './security/inbound-security.ts';
export type {
  AuthenticationFailureCode,
  AuthenticationResult,
  HeaderMutations,
} from './security/jwt/authentication-result.ts';
export { JwksCache, type JwksCacheOptions, JwksUnavailableError } from './security/jwt/jwks-cache.ts';
export { fetchJwksDocument, type JwksFetcher } from './security/jwt/jwks-fetch.ts';
export {
  RequestAuthenticator,
  type RequestAuthenticatorOptions,
} from './security/jwt/request-authenticator.ts';
export { istioMutualSni } from './security/mtls/istio-sni.ts';
export {
  isMeshTlsEndpoint,
  MESH_TLS_MODE,
  TLS_MODE_LABEL,
  withMeshTlsLabel,
} from './security/mtls/mesh-tls-label.ts';
export {
  explicitIdentities,
  ServiceIdentities,
  serviceIdentities,
} from './security/mtls/service-identities.ts';
export { dnsNameCovers, matchesSubjectAltNames } from './security/mtls/subject-alt-names.ts';
export { classifyTlsError, type TlsFailure, type TlsFailureReason } from './security/mtls/tls-failure.ts';
export { UpstreamTlsError } from './security/mtls/upstream-tls-error.ts';
export type { UpstreamTlsEvent, UpstreamTlsMode } from './security/mtls/upstream-tls-events.ts';
export {
  type IstioMutualPlan,
  type OriginationPlan,
  type PlaintextPlan,
  type RefusedPlan,
  type UpstreamTlsPlan,
  upstreamTlsPlan,
} from './security/mtls/upstream-tls-plan.ts';
export {
  DEFAULT_PATH_NORMALIZATION,
  type NormalizedPath,
  normalizeRequestPath,
  PATH_NORMALIZATIONS,
  type PathNormalization,
} from './security/request-path/path-normalization.ts';
export { parseAuthority, type RequestAuthority } from './security/request-path/request-authority.ts';
export {
  buildCertificate,
  type CertificateExtension,
  type CertificateTemplate,
  distinguishedName,
  extensions as x509Extensions,
  keyIdentifier,
} from './security/x509/certificate-builder.ts';
export { type CertificateFacts, readCertificate } from './security/x509/certificate-reader.ts';
export {
  buildCertificationRequest,
  type CertificationRequest,
  readCertificationRequest,
} from './security/x509/certification-request.ts';
export { DerError } from './security/x509/der-reader.ts';
export type { SubjectAltNames } from './security/x509/extension-reader.ts';
export { Oids } from './security/x509/oids.ts';
export { readPemBlock, readPemBlocks, toPem } from './security/x509/pem.ts';
export type { AccessLogRecord } from './telemetry/access-log.ts';
export type { AccessLogStream } from './telemetry/access-log-writer.ts';
export {
  MAX_ATTRIBUTE_VALUE_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABEL_VALUES,
  MAX_URL_LENGTH,
} from './telemetry/attribute-limits.ts';
export { callerLabels, type VerifiedCaller } from './telemetry/caller-labels.ts';
export { EDGE_REPORTED_BY_SOURCE, EDGE_REPORTER_HEADER, type EdgeSink } from './telemetry/edge-sink.ts';
export type { PeerLabels } from './telemetry/istio-labels.ts';
export {
  ISTIO_HISTOGRAM_BUCKETS,
  ISTIO_LABELS,
  type IstioLabel,
  type IstioMetric,
  IstioMetricNames,
  type Reporter,
} from './telemetry/istio-metrics.ts';
export { type CertificateExpiry, type Denial, MeshTelemetry } from './telemetry/mesh-telemetry.ts';
export { type CallProtocol, TelemetryCall } from './telemetry/telemetry-call.ts';
export type { TelemetryOptions } from './telemetry/telemetry-options.ts';
export type {
  CustomTag,
  MetricPolicy,
  TagOperation,
  TelemetryMode,
  TelemetryPolicy,
  TelemetryPolicyIssue,
  TracingPolicy,
} from './telemetry/telemetry-policy.ts';
export {
  DEFAULT_PROPAGATORS,
  type PropagatorName,
  TraceContextPropagator,
} from './telemetry/trace-context-propagator.ts';
export { type Clock, systemClock, type TimerHandle } from './time/clock.ts';
