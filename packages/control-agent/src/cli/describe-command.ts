import {
  DEFAULT_DOMAIN_SUFFIX,
  type DestinationRuleResource,
  hostMatches,
  type MeshService,
  type RegisteredWorkload,
  resourceKey,
  toFqdn,
  type VirtualServiceResource,
  type WorkloadAuthorization,
} from '@weft/core';
import type { ClientRecord } from './agent-api.ts';
import { CommandFailedError, ExitCodes, UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';
import { agentFor, type Command, expectPositionals, parseCommandLine } from './command.ts';
import { formatLabels, loadMeshState, type MeshState, selects } from './mesh-state.ts';
import { ageSince } from './output.ts';

const NAME = 'describe';

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
} as const;

export const describeCommand: Command = {
  name: NAME,
  summary: 'Explain a service or a workload: endpoints, routes, subsets, policies, clients',
  help: `Usage: weft describe service NAME [-n NS]
       weft describe workload NAME [-n NS]

service: the host (NAME, NAME.NS.svc.cluster.local, or a ServiceEntry host), its ports and
endpoints, the VirtualServices that route it and the DestinationRules that apply to it, with how
many endpoints each subset selects.

workload: a registered workload, the service it serves, the subsets it is in, the inbound
policies in force for it (mTLS mode, authorization), and its clients' sync state.

Flags:
  -n, --namespace NS   namespace (default "default")`,
  run,
};

async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(NAME, args, OPTIONS);
  const [what = '', name = ''] = expectPositionals(NAME, positionals, ['service|workload', 'NAME']);
  const namespace = values.namespace ?? 'default';
  const agent = agentFor(values, io, NAME);
  if (what === 'service' || what === 'svc') {
    const state = await loadMeshState(agent);
    io.stdout.write(describeService(state, name, namespace));
    return ExitCodes.ok;
  }
  if (what === 'workload' || what === 'wl') {
    const [state, clients] = await Promise.all([loadMeshState(agent), agent.clients()]);
    io.stdout.write(describeWorkload(state, clients, name, namespace, io.now()));
    return ExitCodes.ok;
  }
  throw new UsageError(`describe what? "service" or "workload", not "${what}"`, NAME);
}

function describeService(state: MeshState, name: string, namespace: string): string {
  const host = toFqdn(name, { namespace, domainSuffix: DEFAULT_DOMAIN_SUFFIX });
  const service = state.snapshot.services.get(host) ?? state.snapshot.services.get(name);
  if (service === undefined) {
    throw new CommandFailedError(
      `no service ${host}: no workload registered for it and no ServiceEntry declares it`,
    );
  }
  const lines: string[] = [
    field('Service', service.host),
    field('Namespace', service.namespace),
    field(
      'Origin',
      service.definedBy === undefined ? service.origin : `${service.origin} ${service.definedBy}`,
    ),
    field('Location', `${service.location}, resolution ${service.resolution}`),
    field(
      'Ports',
      service.ports
        .map((port) => `${port.number}/${port.protocol}${port.name ? ` (${port.name})` : ''}`)
        .join(', ') || '<none>',
    ),
    field('Identities', service.serviceAccounts.join(', ') || '<none>'),
    `Endpoints (${service.endpoints.length}):`,
    ...service.endpoints.map(
      (endpoint) =>
        `  ${endpoint.address}  ports ${[...endpoint.targetPorts].map(([from, to]) => `${from}→${to}`).join(',')}  ${formatLabels(endpoint.labels)}  (${endpoint.origin})`,
    ),
  ];
  const virtualServices = state.snapshot.resources.VirtualService.filter((vs) =>
    (vs.spec.hosts ?? []).some((pattern) => hostMatches(pattern, service.host)),
  );
  lines.push(`VirtualServices (${virtualServices.length}):`);
  for (const vs of virtualServices) lines.push(...describeVirtualService(vs));
  const rules = state.snapshot.resources.DestinationRule.filter((dr) =>
    hostMatches(dr.spec.host, service.host),
  );
  lines.push(`DestinationRules (${rules.length}):`);
  for (const rule of rules) lines.push(...describeDestinationRule(rule, service));
  return `${lines.join('\n')}\n`;
}

function describeVirtualService(vs: VirtualServiceResource): string[] {
  const gateways = vs.spec.gateways === undefined ? '' : `  gateways ${vs.spec.gateways.join(',')}`;
  const lines = [`  ${resourceKey(vs)}  hosts ${(vs.spec.hosts ?? []).join(',')}${gateways}`];
  for (const [index, route] of (vs.spec.http ?? []).entries()) {
    const destinations = (route.route ?? [])
      .map((target) => {
        const { host, subset, port } = target.destination;
        const where = `${host}${port === undefined ? '' : `:${port.number}`}${subset === undefined ? '' : ` subset ${subset}`}`;
        return target.weight === undefined ? where : `${where} (${target.weight}%)`;
      })
      .join(', ');
    const what =
      destinations !== ''
        ? destinations
        : route.redirect !== undefined
          ? 'redirect'
          : 'direct response / delegate';
    lines.push(
      `    http[${index}]${route.name === undefined ? '' : ` ${route.name}`}: ${route.match === undefined ? '' : 'matched → '}${what}`,
    );
  }
  return lines;
}

function describeDestinationRule(rule: DestinationRuleResource, service: MeshService): string[] {
  const lines = [
    `  ${resourceKey(rule)}  host ${rule.spec.host}${rule.spec.trafficPolicy === undefined ? '' : '  with trafficPolicy'}`,
  ];
  for (const subset of rule.spec.subsets ?? []) {
    const count = service.endpoints.filter((endpoint) => selects(subset.labels, endpoint.labels)).length;
    const warning = count === 0 ? '  ← selects no endpoint' : '';
    lines.push(`    subset ${subset.name}: ${formatLabels(subset.labels)}  (${count} endpoint(s))${warning}`);
  }
  return lines;
}

function describeWorkload(
  state: MeshState,
  clients: readonly ClientRecord[],
  name: string,
  namespace: string,
  nowMs: number,
): string {
  const workload = state.workloads.find((w) => w.name === name && w.namespace === namespace);
  if (workload === undefined) {
    const elsewhere = state.workloads.filter((w) => w.name === name).map((w) => w.namespace);
    const hint = elsewhere.length > 0 ? ` (there is one in namespace ${elsewhere.join(', ')}: use -n)` : '';
    throw new CommandFailedError(`no workload ${namespace}/${name} is registered${hint}`);
  }
  const host = toFqdn(workload.service, { namespace, domainSuffix: DEFAULT_DOMAIN_SUFFIX });
  const inbound = state.snapshot.inboundFor({
    namespace,
    labels: workload.labels,
    service: workload.service,
  });
  const authorization = inbound.authorization;
  const lines = [
    field('Workload', workload.name),
    field('Namespace', workload.namespace),
    field('Service', `${workload.service} (${host})`),
    field('Service account', workload.serviceAccount),
    field('Address', workload.address),
    field('Ports', describePorts(workload)),
    field('Labels', formatLabels(workload.labels)),
    ...(workload.locality === undefined
      ? []
      : [
          field(
            'Locality',
            [workload.locality.region, workload.locality.zone, workload.locality.subzone]
              .filter(Boolean)
              .join('/'),
          ),
        ]),
    field('Weight', String(workload.weight ?? 1)),
    field('Subsets', subsetsOf(state, workload, host).join(', ') || '<none>'),
    field(
      'mTLS',
      `${inbound.peerAuthentication.mode}${inbound.peerAuthentication.sources.length === 0 ? ' (mesh default)' : ` from ${inbound.peerAuthentication.sources.join(', ')}`}`,
    ),
    field('Authorization', describeAuthorization(authorization)),
    field('RequestAuthentication', inbound.requestAuthentications.map(resourceKey).join(', ') || '<none>'),
  ];
  const own = clients.filter((client) => client.namespace === namespace && client.workload === name);
  lines.push(`Clients (${own.length}):`);
  for (const client of own) {
    const nack =
      client.nacked === undefined ? '' : `, nacked ${client.nacked.revision}: ${client.error ?? ''}`;
    const seen = client.lastSeen === undefined ? '' : `, seen ${ageSince(client.lastSeen, nowMs)} ago`;
    lines.push(
      `  ${client.clientId}  ${client.status}${client.connected ? '' : ' (disconnected)'}, sent ${client.sent?.revision ?? '-'}, acked ${client.acked?.revision ?? '-'}${nack}${seen}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function describePorts(workload: RegisteredWorkload): string {
  return Object.entries(workload.ports)
    .map(
      ([port, target]) =>
        `${port}→${target}${workload.protocols?.[Number(port)] === undefined ? '' : ` (${workload.protocols[Number(port)]})`}`,
    )
    .join(', ');
}

function subsetsOf(state: MeshState, workload: RegisteredWorkload, host: string): string[] {
  const subsets: string[] = [];
  for (const rule of state.snapshot.resources.DestinationRule) {
    if (!hostMatches(rule.spec.host, host)) continue;
    for (const subset of rule.spec.subsets ?? []) {
      if (selects(subset.labels, workload.labels)) subsets.push(`${resourceKey(rule)} ${subset.name}`);
    }
  }
  return subsets;
}

function describeAuthorization(authorization: WorkloadAuthorization): string {
  const parts = (['custom', 'deny', 'allow', 'audit'] as const)
    .filter((action) => authorization[action].length > 0)
    .map(
      (action) =>
        `${action.toUpperCase()} ${authorization[action].map((policy) => `${policy.metadata.namespace}/${policy.metadata.name}`).join(',')}`,
    );
  return parts.length === 0 ? '<none: every request is allowed>' : parts.join('; ');
}

function field(label: string, value: string): string {
  return `${`${label}:`.padEnd(24)}${value}`;
}
