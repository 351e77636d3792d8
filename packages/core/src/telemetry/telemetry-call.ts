import { type Attributes, type Context, type Span, SpanStatusCode } from '@opentelemetry/api';
import type { Cluster, ClusterEndpoint } from '../config/compile/cluster.ts';
import type { ErrorCode } from '../errors/weft-error.ts';
import type { RouteRequest } from '../routing/route-request.ts';
import type { Clock } from '../time/clock.ts';
import { formatAccessLogLine, loggedValue } from './access-log.ts';
import type { AccessLogWriter } from './access-log-writer.ts';
import { type BoundedLabelValues, capLength, MAX_ATTRIBUTE_VALUE_LENGTH } from './attribute-limits.ts';
import type { EdgeSink } from './edge-sink.ts';
import {
  endpointPeerLabels,
  istioLabels,
  type PeerLabels,
  peerInCluster,
  peerWithPrincipal,
  type ServiceLabels,
  serviceLabels,
  UNKNOWN_PEER,
  UNKNOWN_SERVICE,
} from './istio-labels.ts';
import {
  ISTIO_METRICS,
  type IstioMetric,
  NO_RESPONSE_FLAGS,
  type Reporter,
  UNKNOWN,
} from './istio-metrics.ts';
import type { MeshInstruments } from './mesh-instruments.ts';
import { responseCodeDetails, VIA_UPSTREAM } from './response-code-details.ts';
import type { MetricPolicy, TagOperation, TracingPolicy } from './telemetry-policy.ts';

export type CallProtocol = 'http' | 'grpc';

/** What one call reads from the MeshTelemetry that started it; fixed when the call starts. */
export interface CallSettings {
  readonly reporter: Reporter;
  readonly protocol: CallProtocol;
  readonly clock: Clock;
  readonly wallClockMs: () => number;
  readonly tracing: TracingPolicy;
  readonly metricPolicies: Readonly<Record<IstioMetric, MetricPolicy>>;
  readonly instruments: MeshInstruments | undefined;
  readonly log: AccessLogWriter | undefined;
  /** This workload, as Istio's labels describe it. */
  readonly self: PeerLabels;
  /** The service this workload serves (destination_service of inbound requests). */
  readonly selfService: ServiceLabels;
  readonly clusterId: string;
  /** The bounded value set of one header-derived label of one metric. */
  readonly labelValues: (metric: IstioMetric, tag: string) => BoundedLabelValues;
  /**
   * The per-edge aggregates the agent client reports (edge-sink.ts), when attached: every outbound
   * call, and the inbound calls whose caller does not report them itself.
   */
  readonly edges?: EdgeSink | undefined;
}

/**
 * The telemetry of one logical request, for any protocol adapter: the HTTP client, the inbound
 * server, gRPC. The adapter reports what happens (attempts, the response, the end) and sets the
 * fields below as it learns them; when the call ends it becomes one span, one observation of
 * each Istio metric and one access-log line, as the Telemetry policy says (and, outbound, an
 * increment of its edge's aggregates when an edge sink is attached). It exists only while
 * something records: with no SDK, no access log and no edge sink, adapters get no call at all.
 *
 * Attempts are span events (`weft.attempt`), not child spans: Istio reports one request per
 * logical request, and a retry is a detail of it, so the one span carries the request's final
 * outcome and each attempt's endpoint and result as timestamped events.
 */
export class TelemetryCall {
  readonly reporter: Reporter;
  readonly protocol: CallProtocol;
  /** The route that matched (`http[].name`, or `<VirtualService>#<index>`). */
  routeName: string | undefined = undefined;
  /** Body bytes received from the caller (the request) and sent back (the response). */
  requestBytes = 0;
  responseBytes = 0;
  /** gRPC status, for gRPC calls. */
  grpcStatus: number | undefined = undefined;
  /** Inbound: who called, from the identity it proved (unknown without mTLS). */
  peer: PeerLabels | undefined = undefined;
  /**
   * `mutual_tls` or `none`. Inbound, from the connection. Outbound, the transport sets it for the
   * attempt that answered: Istio's client-side proxy reports `unknown` because it cannot tell, but
   * Weft's client made the connection and knows. Left unset, outbound calls report `unknown`.
   */
  connectionSecurityPolicy: 'mutual_tls' | 'none' | undefined = undefined;
  /**
   * Over mTLS, the SPIFFE IDs each side proved. Outbound: this workload's own (source_principal)
   * and the server's (destination_principal). Inbound: the identity this workload presented
   * (destination_principal); the caller's is in `peer`.
   */
  sourcePrincipal: string | undefined = undefined;
  destinationPrincipal: string | undefined = undefined;
  downstreamRemoteAddress: string | undefined = undefined;
  downstreamLocalAddress: string | undefined = undefined;
  requestedServerName: string | undefined = undefined;
  upstreamLocalAddress: string | undefined = undefined;
  /** A transport error's text for the log's upstream_transport_failure_reason. */
  upstreamTransportFailureReason: string | undefined = undefined;
  readonly #settings: CallSettings;
  readonly #request: RouteRequest;
  readonly #span: Span | undefined;
  readonly #context: Context;
  readonly #startMs: number;
  readonly #startWallMs: number | undefined;
  #cluster: Cluster | undefined = undefined;
  #endpoint: ClusterEndpoint | undefined = undefined;
  #attempts = 0;
  #attemptStartMs = 0;
  #upstreamServiceTimeMs: number | undefined = undefined;
  #responseCode = 0;
  #flags: string[] | undefined = undefined;
  #errorType: string | undefined = undefined;
  #details: string | undefined = undefined;
  #isEnded = false;
  /** Inbound: the edge sink counts this call (its caller does not report it itself). */
  readonly #isInboundEdge: boolean;

  constructor(
    settings: CallSettings,
    request: RouteRequest,
    span: Span | undefined,
    context: Context,
    isInboundEdge = false,
  ) {
    this.#settings = settings;
    this.#isInboundEdge = isInboundEdge;
    this.reporter = settings.reporter;
    this.protocol = settings.protocol;
    this.#request = request;
    this.#span = span;
    this.#context = context;
    this.#startMs = settings.clock.now();
    this.#startWallMs = settings.log === undefined ? undefined : settings.wallClockMs();
  }

  /** The context carrying this call's span: run an inbound handler in it so its calls continue the trace. */
  get context(): Context {
    return this.#context;
  }

  /**
   * Whether the call exists only for the edge sink (no span, no metrics, no access log): an
   * inbound adapter then passes trace context on as it does without telemetry (copied as the
   * caller sent it), so that reporting edges changes nothing else.
   */
  get isEdgeOnly(): boolean {
    return (
      this.#span === undefined && this.#settings.instruments === undefined && this.#settings.log === undefined
    );
  }

  /** Attempts made so far. */
  get attempts(): number {
    return this.#attempts;
  }

  get responseCode(): number {
    return this.#responseCode;
  }

  /** Envoy's response flags so far, comma-separated; empty when none. */
  get responseFlags(): string {
    return this.#flags?.join(',') ?? '';
  }

  /** An attempt is being sent to `endpoint` of `cluster`. */
  attemptStarted(cluster: Cluster, endpoint: ClusterEndpoint): void {
    this.#cluster = cluster;
    this.#endpoint = endpoint;
    this.#attempts++;
    // Attempt timing feeds only the span's attempt events and the log's upstream_service_time: a
    // call that has neither (edge aggregates alone) skips the clock reads.
    if (this.#span !== undefined || this.#settings.log !== undefined)
      this.#attemptStartMs = this.#settings.clock.now();
  }

  /** The current attempt ended: with response headers (`status`) or a failure (its kind). */
  attemptEnded(result: number | string): void {
    if (this.#span === undefined && this.#settings.log === undefined) return;
    const nowMs = this.#settings.clock.now();
    if (typeof result === 'number') this.#upstreamServiceTimeMs = nowMs - this.#attemptStartMs;
    const span = this.#span;
    if (span === undefined || !span.isRecording()) return;
    const endpoint = this.#endpoint;
    span.addEvent('weft.attempt', {
      'weft.attempt.number': this.#attempts,
      'weft.attempt.duration_ms': nowMs - this.#attemptStartMs,
      ...(endpoint === undefined
        ? {}
        : { 'network.peer.address': endpoint.address, 'network.peer.port': endpoint.port }),
      ...(typeof result === 'number' ? { 'http.response.status_code': result } : { 'error.type': result }),
    });
  }

  /** The response the caller gets came from the upstream, with this status. */
  responded(status: number): void {
    this.#responseCode = status;
    this.#details = VIA_UPSTREAM;
  }

  /** The mesh answered itself: a failure (with its WeftError code and flags) or a configured answer. */
  answered(
    status: number,
    flags: readonly string[] | undefined,
    errorCode: ErrorCode | undefined,
    bodyBytes: number,
  ): void {
    this.#responseCode = status;
    this.responseBytes = bodyBytes;
    for (const flag of flags ?? []) this.addResponseFlag(flag);
    if (errorCode !== undefined) this.#errorType = errorCode;
    this.#details = responseCodeDetails(errorCode, flags ?? []);
  }

  /** Adds an Envoy response flag (e.g. URX when the delivered response used up the retries). */
  addResponseFlag(flag: string): void {
    if (this.#flags === undefined) this.#flags = [flag];
    else if (!this.#flags.includes(flag)) this.#flags.push(flag);
  }

  /**
   * The call is over: the response ended, or the caller gave up (`error`, Envoy's DC, before or
   * during the response). Records the span, the metrics and the access-log line once; later calls
   * do nothing.
   */
  end(error?: Error | null): void {
    if (this.#isEnded) return;
    this.#isEnded = true;
    if (error !== undefined && error !== null) {
      this.addResponseFlag('DC');
      this.#errorType ??= errorTypeOf(error);
      this.#details = 'downstream_remote_disconnect';
    }
    const durationMs = this.#settings.clock.now() - this.#startMs;
    const edges = this.#settings.edges;
    if (edges !== undefined) {
      if (this.reporter === 'source')
        edges.record(this, this.#cluster, this.#endpoint, this.#request.authority, this.#flags, durationMs);
      else if (this.#isInboundEdge) edges.recordInbound(this, durationMs);
    }
    this.#endSpan();
    const instruments = this.#settings.instruments;
    if (instruments !== undefined) this.#recordMetrics(instruments, durationMs);
    const log = this.#settings.log;
    if (log !== undefined) log.write(formatAccessLogLine(this.#logRecord(durationMs)));
  }

  #endSpan(): void {
    const span = this.#span;
    if (span === undefined || !span.isRecording()) return;
    const status = this.#responseCode;
    // gRPC answers HTTP 200 whatever happened: its outcome is the gRPC status (OpenTelemetry's RPC
    // conventions: any non-OK status fails a client span; a server span fails on server errors).
    const grpcError = this.protocol === 'grpc' ? grpcErrorOf(this.grpcStatus, this.reporter) : undefined;
    const isError =
      this.#errorType !== undefined ||
      grpcError !== undefined ||
      status >= 500 ||
      (this.reporter === 'source' && status >= 400);
    const errorType = this.#errorType ?? grpcError ?? (isError ? String(status) : undefined);
    const destination = this.#destinationPeer();
    const source = this.#sourcePeer();
    const attributes: Attributes = {
      'http.response.status_code': status === 0 ? undefined : status,
      'weft.route.name': this.routeName,
      'weft.destination.subset': this.#cluster?.subset,
      'weft.upstream.cluster': this.#cluster?.name,
      'weft.retry.count': this.#attempts > 1 ? this.#attempts - 1 : 0,
      'weft.response_flags': this.#flags === undefined ? NO_RESPONSE_FLAGS : this.#flags.join(','),
      'weft.source.workload': source.workload,
      'weft.source.namespace': source.namespace,
      'weft.destination.workload': destination.workload,
      'weft.destination.namespace': destination.namespace,
      'weft.destination.service': this.#service().service,
      'weft.connection_security_policy': this.connectionSecurityPolicy,
      'weft.destination.principal': this.reporter === 'source' ? this.destinationPrincipal : undefined,
      'error.type': errorType,
    };
    if (this.protocol === 'grpc' && this.grpcStatus !== undefined)
      attributes['rpc.grpc.status_code'] = this.grpcStatus;
    for (const tag of this.#settings.tracing.customTags) {
      if (tag.kind === 'literal') attributes[tag.name] = tag.value;
      else {
        const value = this.#request.header(tag.header) ?? tag.defaultValue;
        if (value !== undefined) attributes[tag.name] = capLength(value, MAX_ATTRIBUTE_VALUE_LENGTH);
      }
    }
    span.setAttributes(attributes);
    if (isError) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  #recordMetrics(instruments: MeshInstruments, durationMs: number): void {
    const policies = this.#settings.metricPolicies;
    const base = istioLabels({
      reporter: this.reporter,
      source: this.#sourcePeer(),
      destination: this.#destinationPeer(),
      service: this.#service(),
      protocol: this.protocol,
      responseCode: this.#responseCode,
      grpcStatus: this.protocol === 'grpc' ? this.grpcStatus : undefined,
      responseFlags: this.responseFlags,
      connectionSecurityPolicy:
        this.connectionSecurityPolicy ?? (this.reporter === 'source' ? UNKNOWN : 'none'),
    });
    for (const metric of ISTIO_METRICS) {
      const policy = policies[metric];
      if (policy.isDisabled) continue;
      const labels =
        policy.tagOperations.length === 0 ? base : this.#overridden(base, metric, policy.tagOperations);
      switch (metric) {
        case 'REQUEST_COUNT':
          instruments.requestCount.add(1, labels);
          break;
        case 'REQUEST_DURATION':
          instruments.requestDuration.record(durationMs, labels);
          break;
        case 'REQUEST_SIZE':
          instruments.requestSize.record(this.requestBytes, labels);
          break;
        case 'RESPONSE_SIZE':
          instruments.responseSize.record(this.responseBytes, labels);
          break;
      }
    }
  }

  /** The label set after a metric's tag overrides (bad-inputs I2: header values capped and bounded). */
  #overridden(base: Attributes, metric: IstioMetric, operations: readonly TagOperation[]): Attributes {
    const labels: Attributes = { ...base };
    for (const operation of operations) {
      if (operation.kind === 'remove') {
        delete labels[operation.tag];
        continue;
      }
      const value = operation.value;
      if (value.kind === 'literal') labels[operation.tag] = value.value;
      else {
        const header = this.#request.header(value.header);
        labels[operation.tag] =
          header === undefined ? UNKNOWN : this.#settings.labelValues(metric, operation.tag).admit(header);
      }
    }
    return labels;
  }

  #logRecord(durationMs: number) {
    const request = this.#request;
    const endpoint = this.#endpoint;
    return {
      start_time: new Date(this.#startWallMs ?? 0).toISOString(),
      method: capLength(request.method, MAX_ATTRIBUTE_VALUE_LENGTH),
      path: loggedValue(request.path) ?? '',
      protocol: this.protocol === 'grpc' ? 'HTTP/2' : 'HTTP/1.1',
      response_code: this.#responseCode,
      response_flags: this.#flags === undefined ? NO_RESPONSE_FLAGS : this.#flags.join(','),
      response_code_details: this.#details ?? null,
      connection_termination_details: null,
      upstream_transport_failure_reason: loggedValue(this.upstreamTransportFailureReason),
      bytes_received: this.requestBytes,
      bytes_sent: this.responseBytes,
      duration: Math.round(durationMs),
      upstream_service_time:
        this.#upstreamServiceTimeMs === undefined ? null : Math.round(this.#upstreamServiceTimeMs),
      x_forwarded_for: loggedValue(request.header('x-forwarded-for')),
      user_agent: loggedValue(request.header('user-agent')),
      request_id: loggedValue(request.header('x-request-id')),
      authority: loggedValue(request.authority),
      upstream_host: endpoint === undefined ? null : `${formatHost(endpoint.address)}:${endpoint.port}`,
      upstream_cluster: this.#cluster?.name ?? null,
      upstream_local_address: this.upstreamLocalAddress ?? null,
      downstream_local_address: this.downstreamLocalAddress ?? null,
      downstream_remote_address: this.downstreamRemoteAddress ?? null,
      requested_server_name: loggedValue(this.requestedServerName),
      route_name: this.routeName ?? null,
    };
  }

  #sourcePeer(): PeerLabels {
    if (this.reporter !== 'source') {
      const peer = this.peer;
      if (peer === undefined) return UNKNOWN_PEER;
      // A caller that proved an identity of this mesh is in this mesh's cluster (one cluster:
      // Weft has no multi-cluster peers), as the outbound side says of every endpoint.
      return peer.cluster === UNKNOWN ? peerInCluster(peer, this.#settings.clusterId) : peer;
    }
    const principal = this.sourcePrincipal;
    return principal === undefined ? this.#settings.self : peerWithPrincipal(this.#settings.self, principal);
  }

  #destinationPeer(): PeerLabels {
    if (this.reporter === 'destination') {
      const principal = this.destinationPrincipal;
      return principal === undefined
        ? this.#settings.self
        : peerWithPrincipal(this.#settings.self, principal);
    }
    const endpoint = this.#endpoint;
    if (endpoint === undefined) return UNKNOWN_PEER;
    const labels = endpointPeerLabels(endpoint, this.#settings.clusterId);
    const principal = this.destinationPrincipal;
    return principal === undefined ? labels : peerWithPrincipal(labels, principal);
  }

  #service(): ServiceLabels {
    if (this.reporter === 'destination') return this.#settings.selfService;
    const cluster = this.#cluster;
    return cluster === undefined ? UNKNOWN_SERVICE : serviceLabels(cluster);
  }
}

/** Server-side gRPC errors (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS). */
const GRPC_SERVER_ERRORS: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/** `error.type` of a failed gRPC call: its status code, as a string; undefined when it did not fail. */
function grpcErrorOf(code: number | undefined, reporter: Reporter): string | undefined {
  if (code === undefined || code === 0) return undefined;
  return reporter === 'source' || GRPC_SERVER_ERRORS.has(code) ? String(code) : undefined;
}

function errorTypeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name || '_OTHER';
}

function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
