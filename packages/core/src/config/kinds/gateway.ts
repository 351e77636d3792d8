import { z } from 'zod';
import { canonicalHost } from '../host.ts';
import type { KindDefinition } from '../kind-definition.ts';
import { cappedArray, labels, uint32 } from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';
import {
  isDnsLabel,
  isIpAddress,
  isUnixAddress,
  unixAddressProblem,
  wildcardDomainProblem,
} from './network-address.ts';

/**
 * Gateway (networking.istio.io): the ports, hosts and TLS settings a gateway workload serves.
 *
 * Normalized output: Gateway has no Duration fields (had it any, they would hold milliseconds
 * under Istio's field name, as in the other kinds); BoolValue wrappers are plain booleans; port
 * protocols are upper-cased (`http` → `HTTP`). `tls.mode` defaults to PASSTHROUGH when `tls` is
 * present, which is what proto3's zero value means to Istio. `servers[].hosts` stay in their
 * `namespace/dnsName` form (only the dnsName is lower-cased, by resolveNames).
 *
 * The port, protocol, server-TLS and `namespace/host` helpers here are shared with Sidecar.
 */

/** Istio's protocol.Parse: names compare case-insensitively. */
const PROTOCOLS = new Set([
  'HTTP',
  'HTTPS',
  'HTTP2',
  'HTTP_PROXY',
  'GRPC',
  'GRPC-WEB',
  'TCP',
  'TLS',
  'UDP',
  'MONGO',
  'REDIS',
  'MYSQL',
]);
const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-WEB']);
const TLS_PROTOCOLS = new Set(['HTTPS', 'TLS']);

export const protocolName = z
  .string()
  .max(256, 'protocol must be at most 256 characters')
  .transform((protocol) => protocol.toUpperCase())
  .refine((protocol) => PROTOCOLS.has(protocol), `protocol must be one of ${[...PROTOCOLS].join(', ')}`);

export function isHttpProtocol(protocol: string | undefined): boolean {
  return protocol !== undefined && HTTP_PROTOCOLS.has(protocol);
}

export function isTlsProtocol(protocol: string | undefined): boolean {
  return protocol !== undefined && TLS_PROTOCOLS.has(protocol);
}

/** `targetPort` is deprecated and "has no effect"; Istio refuses a non-zero one, so does Weft. */
export function withoutTargetPort<T extends { readonly targetPort?: number }>(owner: string) {
  return (port: T, context: RefinementContext): void => {
    if ((port.targetPort ?? 0) > 0)
      addProblem(context, `targetPort has no effect on a ${owner}; remove it`, ['targetPort']);
  };
}

/** Istio's host part of `namespace/dnsName`: `*` or a (wildcard) FQDN, never a short name. */
function dnsNameProblem(name: string, isGateway: boolean): string | undefined {
  if (name !== '*' && !name.includes('.')) {
    return `"${name}" is a short name; write it fully qualified (e.g. "${name}.default.svc.cluster.local") or use "*"`;
  }
  const problem = wildcardDomainProblem(name);
  if (problem !== undefined && !(isGateway && isIpAddress(name))) return problem;
  if (name.includes('*') && name !== '*' && !name.startsWith('*.')) {
    return `partial wildcard "${name}" is not allowed; use "*" or "*.example.com"`;
  }
  return undefined;
}

/**
 * Istio's ValidateNamespaceSlashWildcardHostname. Gateways accept a bare dnsName (any namespace);
 * Sidecars need `namespace/dnsName` and may prefix the namespace with `~` to exclude it.
 */
export function namespacedHostProblem(value: string, isGateway: boolean): string | undefined {
  const slash = value.indexOf('/');
  if (slash === -1) {
    if (isGateway) return dnsNameProblem(value, true);
    return `host "${value}" must be "namespace/dnsName", e.g. "./${value}" or "*/${value}"`;
  }
  const namespace = value.slice(0, slash);
  const name = value.slice(slash + 1);
  if (namespace === '' || name === '')
    return `host "${value}" needs a namespace and a dnsName on both sides of "/"`;
  const bareNamespace = !isGateway && namespace.startsWith('~') ? namespace.slice(1) : namespace;
  if (!['', '*', '.'].includes(bareNamespace) && !isDnsLabel(bareNamespace)) {
    return `"${namespace}" in "${value}" is not a namespace: use "*", ".", or a namespace name`;
  }
  return dnsNameProblem(name, isGateway);
}

/** Lower-cases the dnsName of a `namespace/dnsName` (or bare dnsName) host; the namespace is kept. */
export function canonicalNamespacedHost(value: string): string {
  const slash = value.indexOf('/');
  return slash === -1
    ? canonicalHost(value)
    : `${value.slice(0, slash)}/${canonicalHost(value.slice(slash + 1))}`;
}

const tlsCertificate = z.strictObject({
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
});

const TLS_PROTOCOL_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;

const serverTlsFields = z.strictObject({
  httpsRedirect: z.boolean().optional(),
  mode: z
    .enum(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'])
    .optional(),
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  caCrl: z.string().optional(),
  credentialName: z.string().optional(),
  credentialNames: cappedArray(z.string().min(1, 'credentialNames entries must not be empty'), 2)
    .min(1, 'credentialNames needs one or two entries')
    .optional(),
  caCertCredentialName: z.string().optional(),
  tlsCertificates: cappedArray(tlsCertificate, 2)
    .min(1, 'tlsCertificates needs one or two entries')
    .optional(),
  subjectAltNames: cappedArray(z.string()).optional(),
  verifyCertificateSpki: cappedArray(z.string()).optional(),
  verifyCertificateHash: cappedArray(z.string()).optional(),
  minProtocolVersion: z.enum(TLS_PROTOCOL_VERSIONS).optional(),
  maxProtocolVersion: z.enum(TLS_PROTOCOL_VERSIONS).optional(),
  cipherSuites: cappedArray(z.string()).optional(),
  insecureSkipVerify: z.boolean().optional(),
});
type ServerTlsFields = z.output<typeof serverTlsFields>;

const ISTIO_MUTUAL_FORBIDS = [
  'serverCertificate',
  'privateKey',
  'caCertificates',
  'tlsCertificates',
  'credentialName',
  'credentialNames',
] as const;

/** Istio's validateTLSOptions (the errors; its warnings about ciphers are not reproduced). */
function checkServerTls(tls: ServerTlsFields, context: RefinementContext): void {
  const mode = tls.mode ?? 'PASSTHROUGH';
  if (mode === 'ISTIO_MUTUAL') {
    for (const field of ISTIO_MUTUAL_FORBIDS) {
      const value = tls[field];
      if (value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)) {
        addProblem(context, `ISTIO_MUTUAL uses Istio-issued certificates; remove ${field}`, [field]);
      }
    }
    return;
  }
  const sources = [
    tls.serverCertificate && tls.privateKey ? 'serverCertificate/privateKey' : undefined,
    tls.credentialName ? 'credentialName' : undefined,
    (tls.credentialNames ?? []).length > 0 ? 'credentialNames' : undefined,
    (tls.tlsCertificates ?? []).length > 0 ? 'tlsCertificates' : undefined,
  ].filter((source) => source !== undefined);
  if (sources.length > 1)
    addProblem(context, `certificates come from ${sources.join(' and ')}; keep only one source`);
  const terminates = mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  checkProtocolVersionRange(tls, context);
  if (tls.caCrl) {
    if (tls.credentialName)
      addProblem(context, 'with credentialName the CRL belongs in the credential; remove caCrl', ['caCrl']);
    if (mode === 'SIMPLE')
      addProblem(context, 'SIMPLE TLS does not verify clients, so caCrl has no use; remove it', ['caCrl']);
  }
  if (!terminates || tls.credentialName || (tls.credentialNames ?? []).length > 0) return;
  if (mode !== 'SIMPLE' && !tls.caCertificates) {
    addProblem(context, `${mode} TLS needs caCertificates to verify client certificates`, ['caCertificates']);
  }
  const certificates = tls.tlsCertificates ?? [tls];
  const base = tls.tlsCertificates === undefined ? [] : ['tlsCertificates'];
  for (const [index, certificate] of certificates.entries()) {
    const at = (field: string) => (base.length === 0 ? [field] : [...base, index, field]);
    if (!certificate.serverCertificate)
      addProblem(context, `${mode} TLS needs a serverCertificate`, at('serverCertificate'));
    if (!certificate.privateKey) addProblem(context, `${mode} TLS needs a privateKey`, at('privateKey'));
  }
}

/** TLSV1_0 < … < TLSV1_3; TLS_AUTO (the proxy's default) bounds nothing. */
const VERSION_ORDER: Readonly<Record<string, number>> = { TLSV1_0: 0, TLSV1_1: 1, TLSV1_2: 2, TLSV1_3: 3 };

/** A range no version fits would make every handshake fail; refuse it where it is written. */
function checkProtocolVersionRange(tls: ServerTlsFields, context: RefinementContext): void {
  const min = VERSION_ORDER[tls.minProtocolVersion ?? 'TLS_AUTO'];
  const max = VERSION_ORDER[tls.maxProtocolVersion ?? 'TLS_AUTO'];
  if (min !== undefined && max !== undefined && max < min) {
    addProblem(
      context,
      `maxProtocolVersion ${tls.maxProtocolVersion} is below minProtocolVersion ${tls.minProtocolVersion}; no TLS version fits`,
      ['maxProtocolVersion'],
    );
  }
}

/** Shared with Sidecar (`ingress[].tls`). */
export const serverTlsSettingsSchema = serverTlsFields
  .superRefine(checkServerTls)
  .transform((tls) => ({ ...tls, mode: tls.mode ?? 'PASSTHROUGH' }));
export type ServerTlsSettings = z.output<typeof serverTlsSettingsSchema>;

const gatewayPort = z
  .strictObject({
    number: uint32.max(65_535, 'port must be 1–65535'),
    protocol: protocolName,
    name: z.string().min(1, 'port name must be set'),
    targetPort: uint32.optional(),
  })
  .superRefine(withoutTargetPort('Gateway'))
  .transform(({ targetPort, ...port }) => port);

const server = z
  .strictObject({
    port: gatewayPort,
    bind: z.string().optional(),
    hosts: cappedArray(z.string()).optional(),
    tls: serverTlsSettingsSchema.optional(),
    defaultEndpoint: z.string().optional(),
    name: z.string().optional(),
  })
  .superRefine((server, context) => {
    const hosts = server.hosts ?? [];
    if (hosts.length === 0)
      addProblem(context, 'a server needs at least one host, e.g. "*" or "prod/*.example.com"', ['hosts']);
    for (const [index, host] of hosts.entries())
      addProblem(context, namespacedHostProblem(host, true), ['hosts', index]);
    const bind = server.bind ?? '';
    const { number, protocol } = server.port;
    if (isUnixAddress(bind)) {
      addProblem(context, unixAddressProblem(bind), ['bind']);
      if (number !== 0)
        addProblem(context, 'a server bound to a unix:// socket must use port number 0', ['port', 'number']);
    } else {
      if (number === 0)
        addProblem(context, 'port must be 1–65535 (0 only with a unix:// bind)', ['port', 'number']);
      if (bind !== '' && !isIpAddress(bind))
        addProblem(context, `bind "${bind}" must be an IP address or unix:// path`, ['bind']);
    }
    const { tls } = server;
    if (isTlsProtocol(protocol) && tls === undefined) {
      addProblem(context, `${protocol} servers need tls settings (mode SIMPLE, MUTUAL, PASSTHROUGH, …)`, [
        'tls',
      ]);
    }
    if (!isTlsProtocol(protocol) && tls !== undefined) {
      const isRedirectOnly =
        isHttpProtocol(protocol) &&
        (tls.mode === 'PASSTHROUGH' || tls.mode === 'AUTO_PASSTHROUGH') &&
        !tls.caCertificates &&
        !tls.privateKey &&
        !tls.serverCertificate;
      if (!isRedirectOnly) {
        addProblem(
          context,
          `a ${protocol} server cannot terminate TLS; use protocol HTTPS or keep only tls.httpsRedirect`,
          ['tls'],
        );
      }
    }
  })
  .transform((server) => ({ ...server, hosts: server.hosts ?? [] }));

export const gatewaySpecSchema = z
  .strictObject({
    servers: cappedArray(server).optional(),
    selector: labels.optional(),
  })
  .superRefine((gateway, context) => {
    const servers = gateway.servers ?? [];
    if (servers.length === 0) addProblem(context, 'a Gateway needs at least one server', ['servers']);
    const seen = new Set<string>();
    for (const [index, { port }] of servers.entries()) {
      if (seen.has(port.name)) {
        addProblem(context, `port name "${port.name}" is used by two servers; port names must be unique`, [
          'servers',
          index,
          'port',
          'name',
        ]);
      }
      seen.add(port.name);
    }
  })
  .transform((gateway) => ({ ...gateway, servers: gateway.servers ?? [] }));

export type GatewaySpec = z.output<typeof gatewaySpecSchema>;

/** Lower-cases the dnsName of every `servers[].hosts` entry; nothing is expanded. */
export function resolveGatewayNames(spec: GatewaySpec): GatewaySpec {
  return {
    ...spec,
    servers: spec.servers.map((server) => ({ ...server, hosts: server.hosts.map(canonicalNamespacedHost) })),
  };
}

export const gatewayKind: KindDefinition<GatewaySpec> = {
  kind: 'Gateway',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  isSecurity: false,
  specSchema: gatewaySpecSchema,
  // credentialName is served by @weft/gateway from a credentials directory
  // (`<credentialsDir>/<credentialName>/tls.crt`, `tls.key`, `ca.crt`), so it is not listed here.
  unsupportedFields: [
    {
      path: 'servers[].tls.credentialNames',
      reason: 'certificates come from files or the agent, not Kubernetes secrets',
    },
  ],
  deprecatedFields: [],
  resolveNames: resolveGatewayNames,
};
