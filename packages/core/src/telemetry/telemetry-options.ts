import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { AccessLogStream } from './access-log-writer.ts';
import type { PropagatorName } from './trace-context-propagator.ts';

/** createMesh's `telemetry` option. Everything is optional: the defaults follow Istio. */
export interface TelemetryOptions {
  /** `false` turns Weft's telemetry off: no spans, metrics, access logs or trace propagation. */
  readonly enabled?: boolean;
  /** Where spans go; the global provider (`trace.setGlobalTracerProvider`) when absent. */
  readonly tracerProvider?: TracerProvider;
  /** Where metrics go; the global provider (`metrics.setGlobalMeterProvider`) when absent. */
  readonly meterProvider?: MeterProvider;
  /**
   * Trace-context formats to inject and extract. When absent: the global propagator if the
   * application set one (`propagation.setGlobalPropagator`), else `tracecontext` and `b3multi`.
   */
  readonly propagators?: readonly PropagatorName[];
  readonly accessLog?: {
    /** Where JSON lines go; `process.stdout` when absent. */
    readonly stream?: AccessLogStream;
    /**
     * Whether access logs are on for workloads no Telemetry resource configures (Istio's
     * `meshConfig.accessLogFile`); false by default, as in Istio.
     */
    readonly isEnabledByDefault?: boolean;
  };
  /** The value of source_cluster and destination_cluster (Istio's cluster id); `unknown` by default. */
  readonly clusterId?: string;
  /** The wall clock for access-log start times (ms since the epoch); `Date.now` by default. */
  readonly wallClockMs?: () => number;
}
