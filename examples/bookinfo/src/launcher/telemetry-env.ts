/**
 * The OpenTelemetry environment the launcher gives each Bookinfo process, as an operator would
 * set it: the process's service name and version, the collector its spans go to, and a short
 * batch delay so that a page load's trace shows within a second rather than the SDK's five.
 */
import type { TraceCollector } from './trace-collector.ts';

const SPAN_BATCH_DELAY_MS = 250;

export interface TelemetryIdentity {
  /** OTEL_SERVICE_NAME: `reviews`, `istio-ingressgateway`. */
  readonly serviceName: string;
  readonly namespace: string;
  /** `v2`; the gateway has none. */
  readonly version?: string;
}

export function telemetryEnv(collector: TraceCollector, identity: TelemetryIdentity): Record<string, string> {
  const attributes = [`service.namespace=${identity.namespace}`];
  if (identity.version !== undefined) attributes.push(`service.version=${identity.version}`);
  return {
    OTEL_SERVICE_NAME: identity.serviceName,
    OTEL_RESOURCE_ATTRIBUTES: attributes.join(','),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.otlpTracesEndpoint,
    OTEL_BSP_SCHEDULE_DELAY: String(SPAN_BATCH_DELAY_MS),
  };
}
