import { z } from 'zod';
import type { KindDefinition } from '../kind-definition.ts';
import { labels, mapOf, portNumber, uint32 } from '../schema-primitives.ts';
import {
  fqdnProblem,
  isDnsLabel,
  isIpAddress,
  isUnixAddress,
  unixAddressProblem,
} from './network-address.ts';

/**
 * WorkloadEntry (networking.istio.io): one non-Kubernetes workload (a VM, a process) with its
 * address, ports and labels. The same message is a ServiceEntry's `endpoints[]` entry.
 *
 * Normalized output: WorkloadEntry has no Duration fields (had it any, they would hold
 * milliseconds under Istio's field name, as in the other kinds). `weight` is always a positive
 * number: Istio sends an unset or 0 weight as 1 (IstioEndpoint.GetLoadBalancingWeight), and a
 * consumer that read 0 literally would starve the endpoint.
 */

const MAX_PORTS = 128;

function portNameProblem(name: string): string | undefined {
  if (isDnsLabel(name) && name.length < 63) return undefined;
  return `port name "${name}" must be a DNS-1123 label (letters, digits and "-"), as in the ServiceEntry ports`;
}

export const workloadEntrySpecSchema = z
  .strictObject({
    address: z.string().max(256, 'address must be at most 256 characters').optional(),
    ports: mapOf(portNumber, portNameProblem).optional(),
    labels: labels.optional(),
    network: z.string().max(2048, 'network must be at most 2048 characters').optional(),
    locality: z.string().max(2048, 'locality must be at most 2048 characters').optional(),
    weight: uint32.optional(),
    serviceAccount: z.string().max(253, 'serviceAccount must be at most 253 characters').optional(),
  })
  .superRefine((entry, context) => {
    const issue = (message: string, path: PropertyKey[]) =>
      context.addIssue({ code: 'custom', message, path });
    const address = entry.address ?? '';
    const portCount = Object.keys(entry.ports ?? {}).length;
    if (portCount > MAX_PORTS) issue(`at most ${MAX_PORTS} ports are allowed (got ${portCount})`, ['ports']);
    if (address === '') {
      if (!entry.network)
        issue('address is required (it may be omitted only when network is set)', ['address']);
      return;
    }
    if (isUnixAddress(address)) {
      const problem = unixAddressProblem(address);
      if (problem !== undefined) issue(problem, ['address']);
      if (entry.ports !== undefined) issue('a unix:// endpoint takes no ports; remove them', ['ports']);
      return;
    }
    if (!isIpAddress(address) && fqdnProblem(address) !== undefined) {
      issue(`address "${address}" must be an IP address, a fully-qualified domain name or a unix:// path`, [
        'address',
      ]);
    }
  })
  .transform((entry) => ({
    ...entry,
    weight: entry.weight !== undefined && entry.weight > 0 ? entry.weight : 1,
  }));

export type WorkloadEntrySpec = z.output<typeof workloadEntrySpecSchema>;

export const workloadEntryKind: KindDefinition<WorkloadEntrySpec> = {
  kind: 'WorkloadEntry',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  isSecurity: false,
  specSchema: workloadEntrySpecSchema,
  unsupportedFields: [
    {
      path: 'network',
      reason: 'multi-network meshes (east-west gateways between networks) are out of scope in-process',
    },
  ],
  deprecatedFields: [],
};
