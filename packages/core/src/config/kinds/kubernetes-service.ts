import { z } from 'zod';
import type { KindDefinition } from '../kind-definition.ts';
import { cappedArray, labels, portNumber } from '../schema-primitives.ts';

/**
 * Kubernetes' core `v1/Service`, read for what Istio reads from it: the service's name, ports
 * (with targetPort and protocol) and selector. With it, a file like Istio's bookinfo.yaml
 * declares the mesh's services; workloads that register (or match the selector) are its
 * endpoints. Fields Weft has no use for (clusterIP, type, sessionAffinity, …) are accepted and
 * left alone: they belong to Kubernetes, not to the mesh, so they are not reported.
 */
const servicePort = z.looseObject({
  name: z.string().max(63).optional(),
  port: portNumber,
  targetPort: z.union([portNumber, z.string().min(1).max(15)]).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  appProtocol: z.string().optional(),
});

export const kubernetesServiceSpecSchema = z.looseObject({
  ports: cappedArray(servicePort, 1024).optional(),
  selector: labels.optional(),
});

export type KubernetesServiceSpec = z.output<typeof kubernetesServiceSpecSchema>;
export type KubernetesServicePort = NonNullable<KubernetesServiceSpec['ports']>[number];

export const kubernetesServiceKind: KindDefinition<KubernetesServiceSpec> = {
  kind: 'Service',
  group: '',
  versions: ['v1'],
  isSecurity: false,
  specSchema: kubernetesServiceSpecSchema,
  unsupportedFields: [],
  deprecatedFields: [],
};

/** The port-name prefixes Istio reads as a protocol (`http`, `http-web`, `grpc-api`, …). */
const KNOWN_PROTOCOLS: ReadonlySet<string> = new Set([
  'http',
  'http2',
  'https',
  'grpc',
  'grpc-web',
  'mongo',
  'mysql',
  'redis',
  'tcp',
  'tls',
  'udp',
]);

/**
 * Istio's protocol selection for a Service port: `appProtocol`, else the port name's prefix
 * when it is one Istio knows. Any other port is HTTP for Weft, which only carries HTTP and gRPC
 * in-process (Istio would sniff it).
 */
export function protocolOfServicePort(port: KubernetesServicePort): string {
  if (port.appProtocol !== undefined && port.appProtocol !== '') return port.appProtocol.toUpperCase();
  const name = port.name?.toLowerCase() ?? '';
  const prefix = name.startsWith('grpc-web') ? 'grpc-web' : (name.split('-')[0] ?? '');
  return (KNOWN_PROTOCOLS.has(prefix) ? prefix : 'http').toUpperCase();
}

/**
 * Kubernetes kinds that appear in the same files as Istio config (Istio's samples mix them) and
 * carry nothing Weft uses: they are skipped with a warning instead of refused.
 */
export const IGNORED_KUBERNETES_KINDS: ReadonlySet<string> = new Set([
  'apps/Deployment',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'apps/ReplicaSet',
  '/ServiceAccount',
  '/Namespace',
  '/ConfigMap',
  '/Pod',
]);
