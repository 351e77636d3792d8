// The in-memory OpenTelemetry SDK of packages/core/test/support (test helpers are not exported across packages).
import type { Attributes } from '@opentelemetry/api';
import {
  type DataPoint,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** A MetricReader read on demand: the test collects when it wants to look. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** An OpenTelemetry SDK with in-memory span and metric readers, for asserting what was recorded. */
export interface TestSdk {
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  /** Every span ended so far. */
  spans(): Promise<ReadableSpan[]>;
  /** The data points of one metric (collected now); empty when it has none. */
  points(metric: string): Promise<DataPoint<unknown>[]>;
  /** The value of a counter's data point whose attributes include `where`; 0 when none. */
  counter(metric: string, where?: Attributes): Promise<number>;
  /** The data points of a metric whose attributes include `where`. */
  pointsWhere(metric: string, where: Attributes): Promise<DataPoint<unknown>[]>;
  collect(): Promise<ResourceMetrics>;
  shutdown(): Promise<void>;
}

export function startTestSdk(): TestSdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const collect = async () => (await reader.collect()).resourceMetrics;
  const points = async (metric: string) => {
    const collected = await collect();
    return collected.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter((data) => data.descriptor.name === metric)
      .flatMap((data) => data.dataPoints as DataPoint<unknown>[]);
  };
  const pointsWhere = async (metric: string, where: Attributes) =>
    (await points(metric)).filter((point) =>
      Object.entries(where).every(([key, value]) => point.attributes[key] === value),
    );
  return {
    tracerProvider,
    meterProvider,
    async spans() {
      await tracerProvider.forceFlush();
      return exporter.getFinishedSpans();
    },
    points,
    pointsWhere,
    async counter(metric, where = {}) {
      return (await pointsWhere(metric, where)).reduce((sum, point) => sum + (point.value as number), 0);
    },
    collect,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
