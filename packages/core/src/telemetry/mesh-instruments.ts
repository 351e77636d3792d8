import {
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  type ObservableResult,
} from '@opentelemetry/api';
import { ISTIO_HISTOGRAM_BUCKETS, IstioMetricNames } from './istio-metrics.ts';
import { INSTRUMENTATION_SCOPE } from './lazy-tracer.ts';

/** Every instrument Weft records into, made from one meter. */
export interface MeshInstruments {
  readonly requestCount: Counter;
  readonly requestDuration: Histogram;
  readonly requestSize: Histogram;
  readonly responseSize: Histogram;
  readonly retries: Counter;
  readonly retriesRefused: Counter;
  readonly ejections: Counter;
  readonly ejectionOverflows: Counter;
  readonly overflows: Counter;
  readonly faults: Counter;
  readonly breakerTransitions: Counter;
  readonly configUpdates: Counter;
  readonly denials: Counter;
  readonly accessLogDropped: Counter;
  readonly tlsHandshakeFailures: Counter;
  readonly configRevision: ObservableGauge;
  readonly certificateExpiry: ObservableGauge;
}

/** Callbacks of the observable gauges; they run only when a reader collects. */
export interface GaugeSources {
  readonly observeConfigRevision: (result: ObservableResult) => void;
  readonly observeCertificateExpiry: (result: ObservableResult) => void;
}

const NOOP_METER = createNoopMeter();

function createInstruments(meter: Meter, gauges: GaugeSources): MeshInstruments {
  const histogram = (name: string, unit: string, description: string) =>
    meter.createHistogram(name, {
      unit,
      description,
      advice: { explicitBucketBoundaries: [...ISTIO_HISTOGRAM_BUCKETS] },
    });
  const requestCount = meter.createCounter(IstioMetricNames.REQUEST_COUNT, {
    description: 'Requests handled, counted as Istio counts them (one per request, whatever its retries)',
  });
  const requestDuration = histogram(
    IstioMetricNames.REQUEST_DURATION,
    'ms',
    'Duration of requests, from their start to the end of their response',
  );
  const requestSize = histogram(IstioMetricNames.REQUEST_SIZE, 'By', 'HTTP request body sizes');
  const responseSize = histogram(IstioMetricNames.RESPONSE_SIZE, 'By', 'HTTP response body sizes');
  const counter = (name: string, description: string) => meter.createCounter(name, { description });
  const configRevision = meter.createObservableGauge('weft_config_revision', {
    description: 'The serving configuration revision (the number at the end of its label; 0 before any)',
  });
  configRevision.addCallback(gauges.observeConfigRevision);
  const certificateExpiry = meter.createObservableGauge('weft_certificate_expiry_timestamp_seconds', {
    unit: 's',
    description: 'When each certificate of the workload expires, in seconds since the Unix epoch',
  });
  certificateExpiry.addCallback(gauges.observeCertificateExpiry);
  return {
    requestCount,
    requestDuration,
    requestSize,
    responseSize,
    retries: counter('weft_retries_total', 'Retries scheduled, by cluster, route and retryOn condition'),
    retriesRefused: counter(
      'weft_retries_refused_total',
      'Failed attempts a retry policy covered but did not retry, by reason',
    ),
    ejections: counter('weft_outlier_ejections_total', 'Endpoints ejected by outlier detection'),
    ejectionOverflows: counter(
      'weft_outlier_ejections_overflow_total',
      'Ejections outlier detection wanted but maxEjectionPercent forbade',
    ),
    overflows: counter('weft_overflows_total', 'Requests refused by connection-pool limits (flag UO)'),
    faults: counter('weft_faults_injected_total', 'Faults injected by routes, by kind'),
    breakerTransitions: counter(
      'weft_circuit_breaker_events_total',
      'Call circuit breakers opening, half-opening, closing and rejecting calls',
    ),
    configUpdates: counter('weft_config_updates_total', 'Configurations applied and rejected'),
    denials: counter('weft_denials_total', 'Requests denied by authentication or authorization'),
    accessLogDropped: counter(
      'weft_access_log_dropped_total',
      'Access-log lines dropped because the log stream could not keep up',
    ),
    tlsHandshakeFailures: counter(
      'weft_tls_handshake_failures_total',
      'TLS connections to upstreams that failed, by cluster, mode and reason (expired, identity-not-allowed…)',
    ),
    configRevision,
    certificateExpiry,
  };
}

/**
 * The instruments to record into now: built from the given MeterProvider, or from the global
 * one as it is at each request, so an SDK installed after Weft was imported is used. Undefined
 * while the provider is the API's no-op one: callers then build no attributes at all.
 */
export class LazyInstruments {
  readonly #explicit: MeterProvider | undefined;
  readonly #gauges: GaugeSources;
  #provider: MeterProvider | undefined;
  #instruments: MeshInstruments | undefined;
  /** Every instrument set made, so that dispose() can detach their gauge callbacks. */
  readonly #made: MeshInstruments[] = [];

  constructor(gauges: GaugeSources, explicit?: MeterProvider) {
    this.#gauges = gauges;
    this.#explicit = explicit;
  }

  current(): MeshInstruments | undefined {
    const provider = this.#explicit ?? metrics.getMeterProvider();
    if (provider === this.#provider) return this.#instruments;
    this.#provider = provider;
    const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
    this.#instruments = meter === NOOP_METER ? undefined : createInstruments(meter, this.#gauges);
    if (this.#instruments !== undefined) this.#made.push(this.#instruments);
    return this.#instruments;
  }

  /** Detaches the gauges' callbacks, so a closed mesh stops reporting. */
  dispose(): void {
    for (const instruments of this.#made.splice(0)) {
      instruments.configRevision.removeCallback(this.#gauges.observeConfigRevision);
      instruments.certificateExpiry.removeCallback(this.#gauges.observeCertificateExpiry);
    }
  }
}
