import { z } from 'zod';
import { canonicalHost } from '../host.ts';
import type { KindDefinition } from '../kind-definition.ts';
import { cappedArray, exportTo, hostName, portNumber } from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';
import { isHttpProtocol, isTlsProtocol, protocolName } from './gateway.ts';
import {
  fqdnProblem,
  isDnsLabel,
  isIpAddress,
  isIpOrCidr,
  isUnixAddress,
  wildcardDomainProblem,
} from './network-address.ts';
import { labelSelectorSchema } from './sidecar.ts';
import { type WorkloadEntrySpec, workloadEntrySpecSchema } from './workload-entry.ts';

/**
 * ServiceEntry (networking.istio.io): a service Istio's registry does not know on its own (an
 * external API, VMs), with its hosts, ports, resolution and endpoints.
 *
 * Normalized output: ServiceEntry has no Duration fields (had it any, they would hold milliseconds
 * under Istio's field name, as in the other kinds). Hosts are lower-cased but never expanded;
 * port protocols are upper-cased; endpoints are WorkloadEntry specs (so their weight is ≥ 1).
 * `location` and `resolution` are always present: their proto3 zero values, MESH_EXTERNAL and
 * NONE, are what Istio applies when they are absent.
 */

const serviceEntryHost = hostName.superRefine((host, context) => {
  if (host === '*')
    addProblem(context, 'a ServiceEntry host cannot be "*"; name the hosts, e.g. "*.example.com"');
  else addProblem(context, wildcardDomainProblem(host));
});

const servicePort = z.strictObject({
  number: portNumber,
  protocol: protocolName.optional(),
  name: z
    .string()
    .max(256, 'port name must be at most 256 characters')
    .refine(isDnsLabel, 'port name must be a DNS-1123 label (letters, digits and "-"), e.g. "http"'),
  targetPort: portNumber.optional(),
});

const RESOLUTIONS = ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'] as const;
type Resolution = (typeof RESOLUTIONS)[number];

const serviceEntryFields = z.strictObject({
  hosts: cappedArray(serviceEntryHost, 256).min(1, 'a ServiceEntry needs at least one host'),
  addresses: cappedArray(
    z
      .string()
      .max(64, 'an address must be at most 64 characters')
      .refine(isIpOrCidr, 'must be an IP address or CIDR block'),
    256,
  ).optional(),
  ports: cappedArray(servicePort, 256).optional(),
  location: z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
  resolution: z.enum(RESOLUTIONS).optional(),
  endpoints: cappedArray(workloadEntrySpecSchema, 4096).optional(),
  workloadSelector: labelSelectorSchema.optional(),
  exportTo,
  subjectAltNames: cappedArray(z.string()).optional(),
});
type ServiceEntryFields = z.output<typeof serviceEntryFields>;

function checkPorts(entry: ServiceEntryFields, context: RefinementContext): void {
  const names = new Set<string>();
  const numbers = new Set<number>();
  for (const [index, { name, number }] of (entry.ports ?? []).entries()) {
    if (names.has(name))
      addProblem(context, `port name "${name}" is used twice; names must be unique`, [
        'ports',
        index,
        'name',
      ]);
    if (numbers.has(number))
      addProblem(context, `port ${number} is listed twice; numbers must be unique`, [
        'ports',
        index,
        'number',
      ]);
    names.add(name);
    numbers.add(number);
  }
}

/** Endpoint addresses and port names, by resolution (Istio's ValidateServiceEntry). */
function checkEndpoint(
  endpoint: WorkloadEntrySpec,
  index: number,
  entry: ServiceEntryFields,
  resolution: Resolution,
  context: RefinementContext,
): void {
  const at = (...path: PropertyKey[]) => ['endpoints', index, ...path];
  const address = endpoint.address ?? '';
  const portNames = new Set((entry.ports ?? []).map((port) => port.name));
  for (const name of Object.keys(endpoint.ports ?? {})) {
    if (!portNames.has(name))
      addProblem(
        context,
        `endpoint port "${name}" is not one of the ServiceEntry's port names`,
        at('ports', name),
      );
  }
  if (resolution === 'STATIC') {
    if (address !== '' && !isIpAddress(address) && !isUnixAddress(address)) {
      addProblem(
        context,
        `with resolution STATIC an endpoint address must be an IP or unix:// path, not "${address}"; use DNS`,
        at('address'),
      );
    }
    if (isUnixAddress(address) && (entry.ports ?? []).length !== 1) {
      addProblem(context, 'a unix:// endpoint needs the ServiceEntry to have exactly one port', ['ports']);
    }
  } else if (!isIpAddress(address) && fqdnProblem(address) !== undefined) {
    addProblem(
      context,
      `with resolution ${resolution} an endpoint address must be an IP or a DNS name, not "${address}"`,
      at('address'),
    );
  }
}

function checkResolution(
  entry: ServiceEntryFields,
  resolution: Resolution,
  context: RefinementContext,
): void {
  const endpoints = entry.endpoints ?? [];
  if (resolution === 'NONE' && endpoints.length > 0) {
    addProblem(context, 'resolution NONE takes no endpoints; use STATIC or DNS to list them', ['endpoints']);
  }
  if (resolution === 'STATIC' || resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') {
    for (const [index, endpoint] of endpoints.entries())
      checkEndpoint(endpoint, index, entry, resolution, context);
  }
  if ((resolution === 'DNS' || resolution === 'DNS_ROUND_ROBIN') && endpoints.length === 0) {
    for (const [index, host] of entry.hosts.entries()) {
      if (fqdnProblem(host) !== undefined) {
        addProblem(
          context,
          `with resolution ${resolution} and no endpoints, "${host}" is resolved by DNS and must be a plain FQDN`,
          ['hosts', index],
        );
      }
    }
  }
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
    addProblem(context, 'resolution DNS_ROUND_ROBIN takes at most one endpoint; use DNS for several', [
      'endpoints',
    ]);
  }
  if (resolution === 'DYNAMIC_DNS') {
    for (const [index, host] of entry.hosts.entries()) {
      if (!host.startsWith('*'))
        addProblem(context, `resolution DYNAMIC_DNS needs wildcard hosts such as "*.example.com"`, [
          'hosts',
          index,
        ]);
    }
    if ((entry.addresses ?? []).length > 0)
      addProblem(context, 'resolution DYNAMIC_DNS takes no addresses', ['addresses']);
    if (endpoints.length > 0)
      addProblem(
        context,
        'resolution DYNAMIC_DNS takes no endpoints (it resolves the host of each request)',
        ['endpoints'],
      );
    for (const [index, { protocol }] of (entry.ports ?? []).entries()) {
      if (!['HTTP', 'HTTP2', 'GRPC', 'TLS'].includes(protocol ?? '')) {
        addProblem(context, 'resolution DYNAMIC_DNS supports HTTP, HTTP2, GRPC and TLS ports only', [
          'ports',
          index,
          'protocol',
        ]);
      }
    }
  }
}

export const serviceEntrySpecSchema = serviceEntryFields
  .superRefine((entry, context) => {
    const resolution = entry.resolution ?? 'NONE';
    if (entry.workloadSelector !== undefined && entry.endpoints !== undefined) {
      addProblem(context, 'endpoints and workloadSelector are mutually exclusive; keep only one', [
        'workloadSelector',
      ]);
    }
    for (const [index, address] of (entry.addresses ?? []).entries()) {
      if (address.includes('/') && resolution !== 'NONE' && resolution !== 'STATIC') {
        addProblem(context, 'CIDR addresses need resolution NONE or STATIC', ['addresses', index]);
      }
    }
    checkPorts(entry, context);
    checkResolution(entry, resolution, context);
    // Plain TCP cannot tell several hosts apart (no Host header, no SNI) unless nothing is resolved.
    if (resolution !== 'NONE' && entry.hosts.length > 1) {
      const index = (entry.ports ?? []).findIndex(
        ({ protocol }) => !isHttpProtocol(protocol) && !isTlsProtocol(protocol),
      );
      if (index !== -1) {
        addProblem(context, 'several hosts need HTTP or TLS ports: plain TCP cannot tell them apart', [
          'ports',
          index,
          'protocol',
        ]);
      }
    }
  })
  .transform((entry) => ({
    ...entry,
    location: entry.location ?? 'MESH_EXTERNAL',
    resolution: entry.resolution ?? 'NONE',
  }));

export type ServiceEntrySpec = z.output<typeof serviceEntrySpecSchema>;

/** Hosts are kept as written (a ServiceEntry names its hosts exactly), only lower-cased. */
export function resolveServiceEntryNames(spec: ServiceEntrySpec): ServiceEntrySpec {
  return { ...spec, hosts: spec.hosts.map(canonicalHost) };
}

export const serviceEntryKind: KindDefinition<ServiceEntrySpec> = {
  kind: 'ServiceEntry',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  isSecurity: false,
  specSchema: serviceEntrySpecSchema,
  unsupportedFields: [
    {
      path: 'endpoints[].network',
      reason: 'multi-network meshes (east-west gateways between networks) are out of scope in-process',
    },
  ],
  deprecatedFields: [],
  resolveNames: resolveServiceEntryNames,
};
