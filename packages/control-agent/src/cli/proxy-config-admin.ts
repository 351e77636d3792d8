import { CommandFailedError, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { arrayOf, record, text } from './json-fields.ts';
import { formatLabels } from './mesh-state.ts';
import { secretRows } from './proxy-config-secret.ts';

/** What `weft proxy-config --admin URL` shows, read from one workload's admin endpoint. */
export interface AdminSectionRows {
  readonly headers: readonly string[];
  readonly cells: readonly (readonly string[])[];
  readonly data: unknown;
}

/**
 * `weft proxy-config SECTION --admin http://127.0.0.1:15000`: the workload's own answer, not the
 * report it sent the agent: routes and clusters from /config_dump, endpoints from /clusters
 * (with their live health, ejections and active requests), the secret from /config_dump.
 */
export async function adminSectionRows(
  adminUrl: string,
  section: string,
  io: CliIo,
): Promise<AdminSectionRows> {
  const base = adminBase(adminUrl);
  if (section === 'endpoints') return endpointRows(await getJson(base, '/clusters', io));
  const dump = await getJson(base, '/config_dump', io);
  if (dump.truncated === true)
    io.stderr.write('note: the workload truncated its config dump (a very large mesh).\n');
  if (section === 'routes') {
    const cells = arrayOf(dump.routeTables)
      .map(record)
      .flatMap((table) =>
        arrayOf(table.routes).map((entry) => {
          const route = record(entry);
          const destinations = arrayOf(route.destinations)
            .map(record)
            .map((destination) => `${text(destination.cluster)} ${text(destination.weight)}%`)
            .join(', ');
          return [text(table.host), text(table.port), text(route.name), destinations];
        }),
      );
    return { headers: ['HOST', 'PORT', 'ROUTE', 'DESTINATIONS'], cells, data: dump.routeTables ?? [] };
  }
  if (section === 'clusters') {
    const cells = arrayOf(dump.clusters)
      .map(record)
      .map((cluster) => {
        const [, port = '', subset = '', host = ''] = text(cluster.name).split('|');
        return [
          host,
          port,
          subset === '' ? '-' : subset,
          text(cluster.endpoints),
          arrayOf(cluster.destinationRules).map(text).join(',') || '-',
          cluster.missingSubset === true ? 'subset not defined' : '',
        ];
      });
    return {
      headers: ['HOST', 'PORT', 'SUBSET', 'ENDPOINTS', 'DESTINATION RULES', 'NOTE'],
      cells,
      data: dump.clusters ?? [],
    };
  }
  // The secret section, when the workload's identity reports one in its dump.
  return secretRows(dump);
}

/** Endpoints as the workload sees them now: health, ejection and load, per cluster. */
function endpointRows(report: Readonly<Record<string, unknown>>): AdminSectionRows {
  const data = arrayOf(report.clusters)
    .map(record)
    .flatMap((cluster) =>
      arrayOf(cluster.endpoints)
        .map(record)
        .map((endpoint): Readonly<Record<string, unknown>> => ({ ...endpoint, cluster: text(cluster.name) })),
    );
  const cells = data.map((row) => [
    text(row.cluster),
    `${text(row.address)}:${text(row.port)}`,
    text(row.health).toUpperCase() || '-',
    text(row.activeRequests),
    text(row.weight),
    formatLabels(record(row.labels) as Record<string, string>),
    text(row.origin),
  ]);
  return { headers: ['CLUSTER', 'ENDPOINT', 'HEALTH', 'ACTIVE', 'WEIGHT', 'LABELS', 'ORIGIN'], cells, data };
}

function adminBase(given: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol === 'http:') return url;
  } catch {
    // Reported below with the value the user gave.
  }
  throw new UsageError(
    `--admin: "${given}" must be an http:// URL, e.g. http://127.0.0.1:15000`,
    'proxy-config',
  );
}

async function getJson(base: URL, path: string, io: CliIo): Promise<Readonly<Record<string, unknown>>> {
  const url = new URL(path, base);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.any([io.shutdown, AbortSignal.timeout(10_000)]) });
  } catch (error) {
    throw new CommandFailedError(
      `cannot reach the workload admin endpoint at ${url.origin}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (!response.ok) throw new CommandFailedError(`${url.href} answered ${response.status}`);
  return record(await response.json());
}
