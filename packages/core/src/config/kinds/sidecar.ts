import { z } from 'zod';
import type { KindDefinition } from '../kind-definition.ts';
import { cappedArray, labels, portNumber, uint32 } from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';
import { connectionPoolSettingsSchema } from './destination-rule-connection-pool.ts';
import {
  canonicalNamespacedHost,
  isTlsProtocol,
  namespacedHostProblem,
  protocolName,
  serverTlsSettingsSchema,
  withoutTargetPort,
} from './gateway.ts';
import {
  fqdnProblem,
  isDnsLabel,
  isIpAddress,
  isUnixAddress,
  unixAddressProblem,
} from './network-address.ts';
import { destinationSchema } from './virtual-service-destination.ts';

/**
 * Sidecar (networking.istio.io): which services a workload may reach (egress), how it receives
 * traffic (ingress) and what happens to unknown destinations (outboundTrafficPolicy).
 *
 * Normalized output: every google.protobuf.Duration field (inside the connection pools) holds a
 * number of MILLISECONDS under Istio's field name; port protocols are upper-cased. When
 * `outboundTrafficPolicy` is present without `mode`, mode is REGISTRY_ONLY (proto3's zero value,
 * which Istio applies; only an absent outboundTrafficPolicy falls back to the mesh default).
 * `egress[].hosts` stay `namespace/dnsName` (only the dnsName is lower-cased, by resolveNames).
 */

/** networking.v1alpha3 WorkloadSelector (`labels`, unlike type.v1beta1's `matchLabels`); ServiceEntry uses it too. */
export const labelSelectorSchema = z.strictObject({ labels: labels.optional() });

const captureMode = z.enum(['DEFAULT', 'IPTABLES', 'NONE']);

const sidecarPort = z
  .strictObject({
    // 0 is allowed only for an egress listener bound to a unix:// socket (checked below).
    number: uint32.max(65_535, 'port must be 1–65535').optional(),
    protocol: protocolName.optional(),
    name: z
      .string()
      .refine(
        (name) => name === '' || isDnsLabel(name),
        'port name must be a DNS-1123 label (letters, digits and "-")',
      )
      .optional(),
    targetPort: uint32.optional(),
  })
  .superRefine(withoutTargetPort('Sidecar'))
  .transform(({ targetPort, ...port }) => port);

const LOOPBACK_OR_ANY = new Set(['', '127.0.0.1', '0.0.0.0', '::1', '::']);

/** `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT`, `:PORT` or `unix:///path`. */
function defaultEndpointProblem(endpoint: string): string | undefined {
  if (isUnixAddress(endpoint)) return unixAddressProblem(endpoint);
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(endpoint);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined || !LOOPBACK_OR_ANY.has(host)) {
    return `defaultEndpoint "${endpoint}" must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix:///path`;
  }
  return portNumber.safeParse(Number(match[3])).success
    ? undefined
    : `defaultEndpoint "${endpoint}" needs a port 1–65535`;
}

const ingressListener = z
  .strictObject({
    port: sidecarPort,
    bind: z
      .string()
      .refine(isIpAddress, 'bind must be an IP address (unix sockets are not allowed for ingress)')
      .optional(),
    captureMode: captureMode.optional(),
    defaultEndpoint: z.string().optional(),
    tls: serverTlsSettingsSchema.optional(),
    connectionPool: connectionPoolSettingsSchema.optional(),
  })
  .superRefine((listener, context) => {
    if (!portNumber.safeParse(listener.port.number).success) {
      addProblem(context, 'an ingress listener needs a port number 1–65535', ['port', 'number']);
    }
    if (listener.defaultEndpoint)
      addProblem(context, defaultEndpointProblem(listener.defaultEndpoint), ['defaultEndpoint']);
    const { tls } = listener;
    if (tls === undefined) return;
    const refuse = (field: string, why: string) =>
      addProblem(context, `sidecar ingress TLS ${why}; remove ${field}`, ['tls', field]);
    if ((tls.subjectAltNames ?? []).length > 0) refuse('subjectAltNames', 'cannot verify client SANs');
    if (tls.httpsRedirect) refuse('httpsRedirect', 'cannot redirect');
    if (tls.credentialName) refuse('credentialName', 'reads certificates from files');
    if ((tls.credentialNames ?? []).length > 0) refuse('credentialNames', 'reads certificates from files');
    if ((tls.tlsCertificates ?? []).length > 0)
      refuse('tlsCertificates', 'takes one serverCertificate/privateKey pair');
    if (tls.mode === 'ISTIO_MUTUAL' || tls.mode === 'AUTO_PASSTHROUGH') {
      addProblem(context, `mode ${tls.mode} is not allowed in sidecar ingress TLS; use SIMPLE or MUTUAL`, [
        'tls',
        'mode',
      ]);
    }
    if (!isTlsProtocol(listener.port.protocol)) {
      addProblem(context, 'TLS settings need the port protocol HTTPS or TLS', ['port', 'protocol']);
    }
  });

const egressListener = z
  .strictObject({
    port: sidecarPort.optional(),
    bind: z.string().optional(),
    captureMode: captureMode.optional(),
    hosts: cappedArray(z.string()).optional(),
  })
  .superRefine((listener, context) => {
    const hosts = listener.hosts ?? [];
    if (hosts.length === 0) {
      addProblem(context, 'an egress listener needs at least one host, e.g. "./*" or "istio-system/*"', [
        'hosts',
      ]);
    }
    for (const [index, host] of hosts.entries())
      addProblem(context, namespacedHostProblem(host, false), ['hosts', index]);
    if (listener.port === undefined) return;
    const bind = listener.bind ?? '';
    if ((listener.port.number ?? 0) === 0) {
      if (!isUnixAddress(bind)) addProblem(context, 'port number 0 needs a unix:// bind address', ['bind']);
      else addProblem(context, unixAddressProblem(bind), ['bind']);
      if (
        listener.captureMode !== undefined &&
        listener.captureMode !== 'DEFAULT' &&
        listener.captureMode !== 'NONE'
      ) {
        addProblem(context, 'a unix:// listener takes captureMode DEFAULT or NONE', ['captureMode']);
      }
    } else if (bind !== '' && !isIpAddress(bind)) {
      addProblem(context, `bind "${bind}" must be an IP address (or unix:// with port number 0)`, ['bind']);
    }
  })
  .transform((listener) => ({ ...listener, hosts: listener.hosts ?? [] }));
type EgressListener = z.output<typeof egressListener>;

const outboundTrafficPolicy = z
  .strictObject({
    mode: z.enum(['REGISTRY_ONLY', 'ALLOW_ANY'], 'mode must be REGISTRY_ONLY or ALLOW_ANY').optional(),
    egressProxy: destinationSchema.optional(),
  })
  .superRefine((policy, context) => {
    const { egressProxy } = policy;
    if (egressProxy === undefined) return;
    if (policy.mode !== 'ALLOW_ANY')
      addProblem(context, 'egressProxy applies only with mode ALLOW_ANY', ['egressProxy']);
    addProblem(context, fqdnProblem(egressProxy.host) && 'egressProxy host must be fully qualified', [
      'egressProxy',
      'host',
    ]);
    if (egressProxy.port === undefined)
      addProblem(context, 'egressProxy needs a port', ['egressProxy', 'port']);
  })
  .transform((policy) => ({ ...policy, mode: policy.mode ?? 'REGISTRY_ONLY' }));

/** Istio: at most one catch-all (portless) egress listener, and it comes last; ports and sockets unique. */
function checkEgressListeners(egress: readonly EgressListener[], context: RefinementContext): void {
  const ports = new Set<number>();
  const sockets = new Set<string>();
  for (const [index, listener] of egress.entries()) {
    const { port } = listener;
    if (port === undefined) {
      if (index !== egress.length - 1) {
        addProblem(context, 'the egress listener without a port catches everything else; it must come last', [
          'egress',
          index,
          'port',
        ]);
      }
      continue;
    }
    const number = port.number ?? 0;
    if (number === 0) {
      const bind = listener.bind ?? '';
      if (sockets.has(bind))
        addProblem(context, `unix socket "${bind}" is bound twice`, ['egress', index, 'bind']);
      sockets.add(bind);
    } else {
      if (ports.has(number))
        addProblem(context, `port ${number} is used by two egress listeners`, [
          'egress',
          index,
          'port',
          'number',
        ]);
      ports.add(number);
    }
  }
}

export const sidecarSpecSchema = z
  .strictObject({
    workloadSelector: labelSelectorSchema.optional(),
    ingress: cappedArray(ingressListener).optional(),
    egress: cappedArray(egressListener).optional(),
    inboundConnectionPool: connectionPoolSettingsSchema.optional(),
    outboundTrafficPolicy: outboundTrafficPolicy.optional(),
  })
  .superRefine((sidecar, context) => {
    const ingress = sidecar.ingress ?? [];
    const egress = sidecar.egress ?? [];
    if (
      ingress.length === 0 &&
      egress.length === 0 &&
      sidecar.outboundTrafficPolicy === undefined &&
      sidecar.inboundConnectionPool === undefined
    ) {
      addProblem(context, 'a Sidecar needs egress, ingress, outboundTrafficPolicy or inboundConnectionPool');
    }
    const ports = new Set<number>();
    for (const [index, { port }] of ingress.entries()) {
      const number = port.number ?? 0;
      if (ports.has(number))
        addProblem(context, `port ${number} is used by two ingress listeners`, [
          'ingress',
          index,
          'port',
          'number',
        ]);
      ports.add(number);
    }
    checkEgressListeners(egress, context);
  });

export type SidecarSpec = z.output<typeof sidecarSpecSchema>;

/** Lower-cases the dnsName of every `egress[].hosts` entry; nothing is expanded. */
export function resolveSidecarNames(spec: SidecarSpec): SidecarSpec {
  if (spec.egress === undefined) return spec;
  return {
    ...spec,
    egress: spec.egress.map((listener) => ({
      ...listener,
      hosts: listener.hosts.map(canonicalNamespacedHost),
    })),
  };
}

export const sidecarKind: KindDefinition<SidecarSpec> = {
  kind: 'Sidecar',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  isSecurity: false,
  specSchema: sidecarSpecSchema,
  unsupportedFields: [
    {
      path: 'ingress',
      reason: "inbound traffic reaches the application's own server; Weft opens no inbound listeners",
    },
    { path: 'inboundConnectionPool', reason: "inbound connection limits belong to the application's server" },
    {
      path: 'egress[].bind',
      reason: 'outbound calls go through the in-process client; there is no listener to bind',
    },
    { path: 'egress[].captureMode', reason: 'there is no traffic capture (iptables) in-process' },
  ],
  deprecatedFields: [],
  resolveNames: resolveSidecarNames,
};
