import type { ClusterRuntime } from '../mesh/cluster-runtime.ts';
import type { MeshStats } from '../telemetry/mesh-stats.ts';

/**
 * What /stats needs of an OpenTelemetry MetricReader (the SDK's `MetricReader.collect()`; the
 * Prometheus exporter is one): only the shape read here, so @weft/core needs no SDK.
 */
export interface MetricsCollector {
  collect(): Promise<{ readonly resourceMetrics: CollectedResourceMetrics }>;
}

export interface CollectedResourceMetrics {
  readonly scopeMetrics: readonly {
    readonly metrics: readonly {
      readonly descriptor: { readonly name: string };
      readonly dataPoints: readonly {
        readonly attributes: Readonly<Record<string, unknown>>;
        readonly value: number | { readonly count: number; readonly sum?: number };
      }[];
    }[];
  }[];
}

/** One `name: value` line per stat, Envoy's /stats text format. */
export interface StatLine {
  readonly name: string;
  readonly value: number | string;
}

/**
 * The stats of the workload: the mesh's event counters, the live state of its clusters (active
 * and pending requests, ejected endpoints) and, when a metric reader is given, every OpenTelemetry
 * data point (histograms as count and sum). `filter` keeps the lines whose name contains it.
 */
export async function collectStats(
  stats: MeshStats,
  runtimes: Iterable<ClusterRuntime>,
  revision: number,
  collector: MetricsCollector | undefined,
  filter: string | undefined,
): Promise<StatLine[]> {
  const lines: StatLine[] = stats.entries().map(([name, value]) => ({ name, value }));
  lines.push({ name: 'weft.config.revision', value: revision });
  for (const runtime of runtimes) {
    const prefix = `cluster.${runtime.name}`;
    lines.push(
      { name: `${prefix}.membership_total`, value: runtime.cluster.endpoints.length },
      { name: `${prefix}.upstream_rq_active`, value: runtime.pool.activeRequests },
      { name: `${prefix}.upstream_rq_pending_active`, value: runtime.pool.pendingRequests },
      { name: `${prefix}.upstream_rq_retry_active`, value: runtime.pool.activeRetries },
      {
        name: `${prefix}.outlier_detection.ejections_active`,
        value: runtime.outlierDetector?.ejectedCount ?? 0,
      },
    );
  }
  if (collector !== undefined) {
    const { resourceMetrics } = await collector.collect();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const point of metric.dataPoints) {
          const name = `${metric.descriptor.name}${formatAttributes(point.attributes)}`;
          const value = point.value;
          if (typeof value === 'number') lines.push({ name, value });
          else lines.push({ name, value: `count=${value.count} sum=${value.sum ?? 0}` });
        }
      }
    }
  }
  const kept =
    filter === undefined || filter === '' ? lines : lines.filter((line) => line.name.includes(filter));
  return kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function formatStatLines(lines: readonly StatLine[]): string {
  return lines.map((line) => `${line.name}: ${line.value}\n`).join('');
}

function formatAttributes(attributes: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(attributes).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((key) => `${key}=${JSON.stringify(String(attributes[key]))}`).join(',')}}`;
}
