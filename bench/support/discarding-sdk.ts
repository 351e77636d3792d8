/**
 * An OpenTelemetry SDK that does all its work and keeps nothing, for measuring what telemetry costs
 * with an SDK installed: a tracer whose batch processor hands spans to an exporter that discards
 * them, and a meter with a reader nobody reads.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';

class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const discardingExporter: SpanExporter = {
  export(_spans, done: (result: ExportResult) => void) {
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: async () => {},
};

export interface DiscardingSdk {
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  shutdown(): Promise<void>;
}

export function discardingSdk(): DiscardingSdk {
  const tracerProvider = new TracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter: discardingExporter })],
  });
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  return {
    tracerProvider,
    meterProvider,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
