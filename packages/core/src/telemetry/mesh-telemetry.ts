import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  propagation,
  type Span,
  SpanKind,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { MeshSnapshot } from '../config/compile/mesh-snapshot.ts';
import type { Disposer } from '../events/event-channel.ts';
import type { Random } from '../randomness/random.ts';
import type { RouteRequest } from '../routing/route-request.ts';
import type { Clock } from '../time/clock.ts';
import { type AccessLogStream, AccessLogWriter } from './access-log-writer.ts';
import { BoundedLabelValues, capLength, MAX_URL_LENGTH } from './attribute-limits.ts';
import { EDGE_REPORTED_BY_SOURCE, EDGE_REPORTER_HEADER, type EdgeSink } from './edge-sink.ts';
import { countMeshEvents, type MeshEventSources } from './event-metrics.ts';
import { authorityHost, httpSpanName, semanticMethod } from './http-semantics.ts';
import { type PeerLabels, peerLabels, type ServiceLabels, UNKNOWN_SERVICE } from './istio-labels.ts';
import { type IstioMetric, type Reporter, UNKNOWN } from './istio-metrics.ts';
import { LazyTracer } from './lazy-tracer.ts';
import { LazyInstruments, type MeshInstruments } from './mesh-instruments.ts';
import { MeshStats } from './mesh-stats.ts';
import { type CallProtocol, type CallSettings, TelemetryCall } from './telemetry-call.ts';
import type { TelemetryOptions } from './telemetry-options.ts';
import { resolveTelemetryPolicy, type TelemetryMode, type TelemetryPolicy } from './telemetry-policy.ts';
import { TraceContextPropagator } from './trace-context-propagator.ts';
import { isSampledOut, unsampledRootContext } from './trace-sampling.ts';

/** One certificate's expiry, for the weft_certificate_expiry_timestamp_seconds gauge. */
export interface CertificateExpiry {
  readonly certificate: string;
  /** Unix time in ms. */
  readonly notAfterMs: number;
}

/** A request refused by authentication or authorization, for weft_denials_total. */
export interface Denial {
  /** What refused it: mTLS mode (PeerAuthentication), a JWT (RequestAuthentication) or a policy. */
  readonly reason: 'peer-authentication' | 'request-authentication' | 'authorization';
  /** The policy that decided (e.g. `AuthorizationPolicy/default/deny-all`), when one did. */
  readonly policy?: string;
}

export interface MeshTelemetryDeps {
  /** The workload that reports. */
  readonly workload: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly service?: string;
  };
  readonly snapshot: () => MeshSnapshot;
  readonly clock: Clock;
  readonly random: Random;
  readonly environment: (name: string) => string | undefined;
  readonly events: MeshEventSources;
  readonly certificateExpiries: () => Iterable<CertificateExpiry>;
  readonly options?: TelemetryOptions;
}

/** A request seen as a TextMap carrier: its headers, read through RouteRequest.header. */
const REQUEST_HEADERS: TextMapGetter<RouteRequest> = {
  get: (request, key) => request.header(key),
  keys: () => [],
};

/**
 * The telemetry of one mesh: Istio's metrics, client and server spans, access logs, trace
 * propagation, and Weft's own metrics, through the OpenTelemetry API only. Providers are looked
 * up when requests start, so nothing is recorded (and nothing is built) until the application
 * installs an SDK, and an SDK installed later is used from then on.
 *
 * Protocol adapters call `startClientCall` / `startServerCall` once per logical request and
 * report on the TelemetryCall they get back; `undefined` means nothing records this request.
 */
export class MeshTelemetry {
  /** Counters for /stats, kept with or without an SDK. */
  readonly stats = new MeshStats();
  readonly #deps: MeshTelemetryDeps;
  readonly #isEnabled: boolean;
  readonly #tracer: LazyTracer;
  readonly #instruments: LazyInstruments;
  readonly #propagator: TextMapPropagator | undefined;
  readonly #defaultPropagator = new TraceContextPropagator();
  readonly #logStream: AccessLogStream | undefined;
  #log: AccessLogWriter | undefined;
  readonly #clusterId: string;
  readonly #wallClockMs: () => number;
  readonly #self: PeerLabels;
  readonly #labelValues = new Map<string, BoundedLabelValues>();
  readonly #disposers: Disposer[];
  #policySnapshot: MeshSnapshot | undefined;
  #policy: TelemetryPolicy | undefined;
  #selfService: ServiceLabels = UNKNOWN_SERVICE;
  #settings: Record<TelemetryMode, Map<CallProtocol, CallSettings>> | undefined;
  #settingsInstruments: MeshInstruments | undefined;
  #edges: EdgeSink | undefined;

  constructor(deps: MeshTelemetryDeps) {
    this.#deps = deps;
    const options = deps.options ?? {};
    this.#isEnabled = options.enabled !== false;
    this.#tracer = new LazyTracer(options.tracerProvider);
    this.#instruments = new LazyInstruments(
      {
        observeConfigRevision: (result) => result.observe(revisionNumber(deps.snapshot().revision)),
        observeCertificateExpiry: (result) => {
          for (const expiry of deps.certificateExpiries())
            result.observe(Math.floor(expiry.notAfterMs / 1000), { certificate: expiry.certificate });
        },
      },
      options.meterProvider,
    );
    this.#propagator =
      options.propagators === undefined ? undefined : new TraceContextPropagator(options.propagators);
    this.#logStream = options.accessLog?.stream;
    this.#clusterId = options.clusterId ?? UNKNOWN;
    this.#wallClockMs = options.wallClockMs ?? Date.now;
    this.#self = peerLabels(deps.workload, this.#clusterId);
    this.#disposers = countMeshEvents(deps.events, () => this.#instruments.current(), this.stats);
    // The gauges exist once instruments do: made now when an SDK is already there, else at the
    // first request or event after one is installed.
    this.#instruments.current();
  }

  /** The Telemetry policy in force for this workload, recompiled when the snapshot changes. */
  get policy(): TelemetryPolicy {
    return this.#currentPolicy();
  }

  /**
   * Sends every outbound call's outcome to `sink` as it ends (the agent client's edge aggregates,
   * agent-client/edge-aggregator.ts), and, when this workload serves a service, the outcome of
   * every inbound call whose caller does not report it itself (PROTOCOL.md §3.8.2). While a sink
   * is attached, outbound calls carry EDGE_REPORTER_HEADER and get a TelemetryCall even without
   * an SDK or access log, and so do those inbound calls. One sink at a time; the disposer
   * detaches it.
   */
  attachEdgeSink(sink: EdgeSink): Disposer {
    this.#edges = sink;
    this.#settings = undefined;
    return () => {
      if (this.#edges !== sink) return;
      this.#edges = undefined;
      this.#settings = undefined;
    };
  }

  /** Access-log lines dropped because the stream could not keep up. */
  get accessLogDropped(): number {
    return this.#log?.dropped ?? 0;
  }

  /**
   * Starts the telemetry of an outbound request and injects its trace context into `carrier`
   * (the outgoing headers) with `setter`. Returns undefined when nothing records the request;
   * an existing trace is still passed on then, as the OpenTelemetry API does without an SDK.
   */
  startClientCall(
    request: RouteRequest,
    carrier?: unknown,
    setter?: TextMapSetter,
    protocol: CallProtocol = 'http',
  ): TelemetryCall | undefined {
    if (!this.#isEnabled) return undefined;
    const policy = this.#currentPolicy();
    const tracing = policy.tracing.client;
    const tracer = tracing.isSpanReportingDisabled ? undefined : this.#tracer.current();
    const settings = this.#callSettings('client', protocol);
    const active = context.active();
    // The destination does not count what this workload's edge reports already count.
    if (settings.edges !== undefined && carrier !== undefined && setter !== undefined)
      setter.set(carrier, EDGE_REPORTER_HEADER, EDGE_REPORTED_BY_SOURCE);
    if (tracer === undefined) {
      if (carrier !== undefined && setter !== undefined && !tracing.isContextPropagationDisabled) {
        const spanContext = trace.getSpanContext(active);
        if (spanContext !== undefined && isSpanContextValid(spanContext))
          this.#propagatorNow().inject(active, carrier, setter);
      }
      if (settings.instruments === undefined && settings.log === undefined && settings.edges === undefined)
        return undefined;
      return new TelemetryCall(settings, request, undefined, active);
    }
    let parent = active;
    const activeSpanContext = trace.getSpanContext(active);
    if (activeSpanContext === undefined || !isSpanContextValid(activeSpanContext)) {
      // An application that forwards trace headers by hand (as Istio asks) continues its trace.
      parent = this.#propagatorNow().extract(active, request, REQUEST_HEADERS);
    }
    const span = this.#startSpan(
      tracer,
      SpanKind.CLIENT,
      request,
      parent,
      tracing.samplingPercentage,
      protocol,
    );
    const spanContext = trace.setSpan(parent, span);
    if (carrier !== undefined && setter !== undefined && !tracing.isContextPropagationDisabled)
      this.#propagatorNow().inject(spanContext, carrier, setter);
    return new TelemetryCall(settings, request, span, spanContext);
  }

  /**
   * Starts the telemetry of an inbound request: its trace context is extracted from the
   * request's headers (the active context's span when there is none). Run the handler in
   * `call.context` so that its outbound calls continue the trace. Undefined when nothing records.
   */
  startServerCall(request: RouteRequest, protocol: CallProtocol = 'http'): TelemetryCall | undefined {
    if (!this.#isEnabled) return undefined;
    const policy = this.#currentPolicy();
    const tracing = policy.tracing.server;
    const tracer = tracing.isSpanReportingDisabled ? undefined : this.#tracer.current();
    const settings = this.#callSettings('server', protocol);
    // Counted here only when its caller does not count it (a caller outside the mesh, or one that
    // reports no edges): Kiali's rule, source-reported edges for meshed callers, destination-
    // reported ones for the rest.
    const isInboundEdge =
      settings.edges !== undefined && request.header(EDGE_REPORTER_HEADER) !== EDGE_REPORTED_BY_SOURCE;
    if (
      tracer === undefined &&
      settings.instruments === undefined &&
      settings.log === undefined &&
      !isInboundEdge
    )
      return undefined;
    const parent = tracing.isContextPropagationDisabled ? context.active() : this.extractContext(request);
    if (tracer === undefined) return new TelemetryCall(settings, request, undefined, parent, isInboundEdge);
    const span = this.#startSpan(
      tracer,
      SpanKind.SERVER,
      request,
      parent,
      tracing.samplingPercentage,
      protocol,
    );
    return new TelemetryCall(settings, request, span, trace.setSpan(parent, span), isInboundEdge);
  }

  /** The trace context an inbound request carries, over the active context. */
  extractContext(request: RouteRequest): Context {
    return this.#propagatorNow().extract(context.active(), request, REQUEST_HEADERS);
  }

  /**
   * Writes `traceContext`'s span into `carrier` with the propagator in force (the one outbound
   * requests use): the inbound pipeline hands a server span on to the calls its handler makes.
   */
  injectContext(traceContext: Context, carrier: unknown, setter: TextMapSetter): void {
    this.#propagatorNow().inject(traceContext, carrier, setter);
  }

  /** Counts a request refused by authentication or authorization. */
  recordDenial(denial: Denial): void {
    this.stats.increment(`weft.denials.${denial.reason}`);
    this.#instruments.current()?.denials.add(1, {
      reason: denial.reason,
      ...(denial.policy === undefined ? {} : { policy: denial.policy }),
    });
  }

  dispose(): void {
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#instruments.dispose();
  }

  #startSpan(
    tracer: Tracer,
    kind: SpanKind,
    request: RouteRequest,
    parent: Context,
    samplingPercentage: number | undefined,
    protocol: CallProtocol,
  ): Span {
    const random = this.#deps.random;
    if (isSampledOut(trace.getSpanContext(parent), samplingPercentage, random))
      return trace.wrapSpanContext(unsampledRootContext(random));
    const attributes: Attributes =
      protocol === 'grpc'
        ? grpcStartAttributes(request)
        : {
            'http.request.method': semanticMethod(request.method),
            'url.full': capLength(`${request.scheme}://${request.authority}${request.path}`, MAX_URL_LENGTH),
            'server.address': authorityHost(request.authority),
            'server.port': request.port,
            'network.protocol.version': '1.1',
          };
    if (attributes['http.request.method'] === '_OTHER')
      attributes['http.request.method_original'] = capLength(request.method, 64);
    const name = protocol === 'grpc' ? request.path.slice(1) : httpSpanName(request.method);
    return tracer.startSpan(name, { kind, attributes }, parent);
  }

  /** The application's global propagator when it set one, else Weft's own. */
  #propagatorNow(): TextMapPropagator {
    if (this.#propagator !== undefined) return this.#propagator;
    return propagation.fields().length > 0 ? propagation : this.#defaultPropagator;
  }

  #currentPolicy(): TelemetryPolicy {
    const snapshot = this.#deps.snapshot();
    if (snapshot === this.#policySnapshot && this.#policy !== undefined) return this.#policy;
    const { workload, environment } = this.#deps;
    const inbound = snapshot.inboundFor({
      namespace: workload.namespace,
      labels: workload.labels,
      ...(workload.service === undefined ? {} : { service: workload.service }),
    });
    this.#policy = resolveTelemetryPolicy(inbound.telemetry, {
      namespace: workload.namespace,
      labels: workload.labels,
      rootNamespace: snapshot.options.rootNamespace,
      environment,
      isAccessLogDefault: this.#deps.options?.accessLog?.isEnabledByDefault === true,
    });
    this.#selfService =
      workload.service === undefined
        ? UNKNOWN_SERVICE
        : {
            service: `${workload.service}.${workload.namespace}.svc.${snapshot.options.domainSuffix}`,
            name: workload.service,
            namespace: workload.namespace,
          };
    this.#policySnapshot = snapshot;
    this.#settings = undefined;
    return this.#policy;
  }

  /** Per mode and protocol, rebuilt when the policy or the meter provider changes. */
  #callSettings(mode: TelemetryMode, protocol: CallProtocol): CallSettings {
    const instruments = this.#instruments.current();
    if (this.#settings === undefined || instruments !== this.#settingsInstruments) {
      this.#settings = { client: new Map(), server: new Map() };
      this.#settingsInstruments = instruments;
    }
    let settings = this.#settings[mode].get(protocol);
    if (settings === undefined) {
      const policy = this.#currentPolicy();
      settings = {
        reporter: (mode === 'client' ? 'source' : 'destination') satisfies Reporter,
        protocol,
        clock: this.#deps.clock,
        wallClockMs: this.#wallClockMs,
        tracing: policy.tracing[mode],
        metricPolicies: policy.metrics[mode],
        instruments,
        log: policy.accessLog[mode] ? this.#logWriter() : undefined,
        self: this.#self,
        selfService: this.#selfService,
        clusterId: this.#clusterId,
        labelValues: (metric, tag) => this.#boundedValues(mode, metric, tag),
        // Inbound edges end at this workload's service: a workload that serves none reports none.
        edges: mode === 'client' || this.#deps.workload.service !== undefined ? this.#edges : undefined,
      };
      this.#settings[mode].set(protocol, settings);
    }
    return settings;
  }

  #logWriter(): AccessLogWriter {
    this.#log ??= new AccessLogWriter(this.#logStream ?? process.stdout, () => {
      this.stats.increment('weft.access_log.dropped');
      this.#instruments.current()?.accessLogDropped.add(1);
    });
    return this.#log;
  }

  #boundedValues(mode: TelemetryMode, metric: IstioMetric, tag: string): BoundedLabelValues {
    const key = `${mode}|${metric}|${tag}`;
    let values = this.#labelValues.get(key);
    if (values === undefined) {
      values = new BoundedLabelValues();
      this.#labelValues.set(key, values);
    }
    return values;
  }
}

function grpcStartAttributes(request: RouteRequest): Attributes {
  const [service = '', method = ''] = request.path.slice(1).split('/');
  return {
    'rpc.system': 'grpc',
    'rpc.service': service,
    'rpc.method': method,
    'server.address': authorityHost(request.authority),
    'server.port': request.port,
  };
}

/** The number a revision label ends with (`epoch/42` → 42, `local-3` → 3); 0 when none. */
export function revisionNumber(revision: string): number {
  const match = /(\d+)$/.exec(revision);
  return match === null ? 0 : Number(match[1]);
}
