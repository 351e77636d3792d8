import { clusterName, DEFAULT_DOMAIN_SUFFIX, type RouteDestination } from '@weft/core';
import type { AgentApi, ClientRecord } from './agent-api.ts';
import { CommandFailedError, ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, expectPositionals, parseCommandLine } from './command.ts';
import { arrayOf, record, text } from './json-fields.ts';
import { formatLabels, loadMeshState } from './mesh-state.ts';
import { renderDocument, renderTable } from './output.ts';
import { adminSectionRows } from './proxy-config-admin.ts';
import { NO_SECRET_NOTE, secretRows } from './proxy-config-secret.ts';

const NAME = 'proxy-config';

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  admin: { type: 'string' },
} as const;

const SECTIONS = ['routes', 'clusters', 'endpoints', 'secret'] as const;
type Section = (typeof SECTIONS)[number];

export const proxyConfigCommand: Command = {
  name: NAME,
  summary: "A client's compiled view, as it reported it: routes, clusters, endpoints, secret",
  help: `Usage: weft proxy-config routes|clusters|endpoints|secret WORKLOAD_OR_CLIENT_ID [-n NS] [-o table|yaml|json]

Shows what one client compiled from the last revision it applied, as it reported it with its ACK
(GET /v1/clients/{id}/config):
  routes      every host:port route table, its routes and their weighted clusters
  clusters    every cluster the routes lead to, its endpoint count and DestinationRules
  endpoints   the endpoints of those clusters, as the agent's registry has them now
  secret      the workload's certificate (SPIFFE ID, serial, validity, issuer) and the roots it trusts

The argument is a client id, or a workload name (the most recently seen client of the workload in
-n NS is used).

Flags:
  -n, --namespace NS    namespace of the workload (default: any)
  -o, --output FORMAT   table (default), yaml or json
  --admin URL           read one workload's admin endpoint instead of the agent
                        (e.g. http://127.0.0.1:15000; WORKLOAD_OR_CLIENT_ID is then not needed)`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  const [section = '', target = ''] = expectPositionals(
    NAME,
    positionals,
    ['routes|clusters|endpoints|secret', 'WORKLOAD_OR_CLIENT_ID'],
    values.admin === undefined ? 0 : 1,
  );
  if (!(SECTIONS as readonly string[]).includes(section)) {
    throw new UsageError(`the first argument is one of ${SECTIONS.join(', ')}, not "${section}"`, NAME);
  }
  const format = values.output ?? 'table';
  if (format !== 'table' && format !== 'yaml' && format !== 'json') {
    throw new UsageError(`-o must be table, yaml or json, not "${format}"`, NAME);
  }
  if (values.admin !== undefined) {
    const rows = await adminSectionRows(values.admin, section, io);
    if (format === 'table') io.stdout.write(renderTable(rows.headers, rows.cells));
    else io.stdout.write(renderDocument({ admin: values.admin, [section]: rows.data }, format));
    return ExitCodes.ok;
  }
  const agent = agentFor(values, io, NAME);
  const client = pickClient(await agent.clients(), target, values.namespace);
  const config = await agent.clientConfig(client.clientId);
  if (config === undefined) {
    throw new CommandFailedError(
      `client ${client.clientId} has not reported its config yet (it reports with each ACK)`,
    );
  }
  const dump = record(config.configDump);
  if (dump.truncated === true)
    io.stderr.write('note: the client truncated its report (a very large mesh).\n');
  if (section === 'secret' && dump.secret === undefined) io.stderr.write(`note: ${NO_SECRET_NOTE}`);
  const rows =
    section === 'secret' ? secretRows(dump) : await sectionRows(section as Section, dump, client, agent);
  if (format !== 'table') {
    io.stdout.write(
      renderDocument(
        { clientId: client.clientId, acked: config.acked ?? null, [section]: rows.data },
        format,
      ),
    );
  } else {
    io.stdout.write(renderTable(rows.headers, rows.cells));
  }
  return ExitCodes.ok;
}

/** The client with this id; else the most recently seen client of this workload. */
function pickClient(
  clients: readonly ClientRecord[],
  target: string,
  namespace: string | undefined,
): ClientRecord {
  const byId = clients.find((client) => client.clientId === target);
  if (byId !== undefined) return byId;
  const candidates = clients
    .filter(
      (client) => client.workload === target && (namespace === undefined || client.namespace === namespace),
    )
    .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''));
  const chosen = candidates[0];
  if (chosen === undefined) {
    throw new CommandFailedError(
      `no client with id or workload "${target}"${namespace === undefined ? '' : ` in namespace ${namespace}`}`,
    );
  }
  return chosen;
}

interface SectionRows {
  readonly headers: readonly string[];
  readonly cells: readonly (readonly string[])[];
  readonly data: unknown;
}

async function sectionRows(
  section: Section,
  dump: Readonly<Record<string, unknown>>,
  client: ClientRecord,
  agent: AgentApi,
): Promise<SectionRows> {
  if (section === 'routes') {
    const tables = arrayOf(dump.routeTables).map(record);
    const cells = tables.flatMap((table) =>
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
  const clusters = arrayOf(dump.clusters).map(record);
  if (section === 'clusters') {
    const cells = clusters.map((cluster) => {
      const [, port = '', subset = '', host = ''] = text(cluster.name).split('|');
      const note = cluster.missingSubset === true ? 'subset not defined' : '';
      return [
        host,
        port,
        subset === '' ? '-' : subset,
        text(cluster.endpoints),
        arrayOf(cluster.destinationRules).map(text).join(',') || '-',
        note,
      ];
    });
    return {
      headers: ['HOST', 'PORT', 'SUBSET', 'ENDPOINTS', 'DESTINATION RULES', 'NOTE'],
      cells,
      data: dump.clusters ?? [],
    };
  }
  return endpointRows(clusters, client, agent);
}

/**
 * The client reports endpoint counts, not addresses: the addresses come from compiling what the
 * agent holds now for the client's workload, cluster by cluster.
 */
async function endpointRows(
  clusters: readonly Readonly<Record<string, unknown>>[],
  client: ClientRecord,
  agent: AgentApi,
): Promise<SectionRows> {
  const state = await loadMeshState(agent);
  const self = state.workloads.find((w) => w.namespace === client.namespace && w.name === client.workload);
  const view = state.snapshot.forWorkload({
    namespace: client.namespace,
    labels: self?.labels ?? {},
    ...(self === undefined ? {} : { serviceAccount: self.serviceAccount }),
  });
  const data: {
    cluster: string;
    address: string;
    port: number;
    labels: Readonly<Record<string, string>>;
    origin: string;
  }[] = [];
  for (const summary of clusters) {
    const [, port = '', subset = '', host = ''] = text(summary.name).split('|');
    const destination: RouteDestination = {
      clusterName: clusterName(host, Number(port), subset === '' ? undefined : subset),
      host: host.includes('.') ? host : `${host}.${client.namespace}.svc.${DEFAULT_DOMAIN_SUFFIX}`,
      port: Number(port),
      ...(subset === '' ? {} : { subset }),
      weight: 100,
    };
    for (const endpoint of view.cluster(destination)?.endpoints ?? []) {
      data.push({
        cluster: text(summary.name),
        address: endpoint.address,
        port: endpoint.port,
        labels: endpoint.labels,
        origin: endpoint.origin,
      });
    }
  }
  const cells = data.map((row) => [
    row.cluster,
    `${row.address}:${row.port}`,
    formatLabels(row.labels),
    row.origin,
  ]);
  return { headers: ['CLUSTER', 'ENDPOINT', 'LABELS', 'ORIGIN'], cells, data };
}
