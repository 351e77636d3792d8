/**
 * From one snapshot to the servers this gateway serves: every server of every Gateway that
 * selects the workload, compiled (hosts, TLS files, bound VirtualServices), or refused with the
 * reason — never half-served. Pure: the certificates themselves are read later (certificate-store).
 */
import type { GatewayResource, VirtualServiceResource } from '@weft/core';
import { certificateFiles } from '../tls/certificate-files.ts';
import { nodeTlsVersion } from '../tls/tls-versions.ts';
import type {
  BoundVirtualService,
  GatewayServer,
  ServerHost,
  ServerRefusal,
  TerminationMode,
  TlsTermination,
} from './gateway-server.ts';
import { serverLabel } from './gateway-server.ts';

type ServerSpec = GatewayResource['spec']['servers'][number];
type ServerTls = NonNullable<ServerSpec['tls']>;

export interface ServerPlan {
  readonly servers: readonly GatewayServer[];
  readonly refusals: readonly ServerRefusal[];
}

const PLAINTEXT_PROTOCOLS = new Set(['HTTP', 'HTTP2']);
const TERMINATING_MODES = new Set<string>(['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL']);

/** Modes that would need another kind of gateway; each refusal says which. */
const REFUSED_MODES: Readonly<Record<string, string>> = {
  PASSTHROUGH:
    'tls.mode PASSTHROUGH forwards TLS unterminated, chosen by SNI (VirtualService tls routes); this gateway terminates TLS and routes HTTP only',
  AUTO_PASSTHROUGH:
    'tls.mode AUTO_PASSTHROUGH is for east-west gateways between networks, which this gateway is not',
  ISTIO_MUTUAL:
    'tls.mode ISTIO_MUTUAL expects mesh workloads presenting Istio certificates (east-west traffic); this ingress gateway terminates with certificates from files: use SIMPLE or MUTUAL',
};

/** TLS fields this gateway does not implement; a server using one is refused rather than served without it. */
const UNSUPPORTED_TLS_FIELDS: readonly (keyof ServerTls)[] = [
  'credentialNames',
  'tlsCertificates',
  'caCrl',
  'caCertCredentialName',
  'verifyCertificateSpki',
  'verifyCertificateHash',
];

export interface PlanInputs {
  readonly gateways: readonly GatewayResource[];
  /** `namespace/name` of the Gateways whose selector picks this workload (mesh.outbound.gateways). */
  readonly selected: ReadonlySet<string>;
  readonly virtualServices: readonly VirtualServiceResource[];
  readonly credentialsDir: string | undefined;
}

export function planServers(inputs: PlanInputs): ServerPlan {
  const servers: GatewayServer[] = [];
  const refusals: ServerRefusal[] = [];
  for (const gateway of inputs.gateways) {
    const { namespace, name } = gateway.metadata;
    const key = `${namespace}/${name}`;
    if (!inputs.selected.has(key)) continue;
    const bound = boundVirtualServices(inputs.virtualServices, key);
    gateway.spec.servers.forEach((spec, index) => {
      const compiled = compileServer(key, namespace, spec, index, bound, inputs.credentialsDir);
      if ('reason' in compiled) refusals.push(compiled);
      else servers.push(compiled);
    });
  }
  return { servers, refusals };
}

function compileServer(
  gateway: string,
  gatewayNamespace: string,
  spec: ServerSpec,
  index: number,
  virtualServices: readonly BoundVirtualService[],
  credentialsDir: string | undefined,
): GatewayServer | ServerRefusal {
  const name = spec.name ?? spec.port.name;
  const port = spec.port.number;
  const refuse = (reason: string, field?: string): ServerRefusal => ({
    gateway,
    server: name,
    port,
    reason,
    ...(field === undefined ? {} : { field }),
  });
  const protocol = spec.port.protocol;
  if (spec.bind !== undefined && spec.bind !== '')
    return refuse(`bind "${spec.bind}" is not supported: the gateway listens on its own address`, 'bind');
  if (spec.defaultEndpoint !== undefined)
    return refuse('defaultEndpoint belongs to Sidecar ingress, not to a gateway', 'defaultEndpoint');
  const base = {
    gateway,
    gatewayNamespace,
    name,
    index,
    label: serverLabel(gateway, name, port),
    port,
    protocol,
    hosts: spec.hosts.map((host) => serverHost(host, gatewayNamespace)),
    virtualServices,
  };
  if (PLAINTEXT_PROTOCOLS.has(protocol)) {
    // An HTTP server's tls may only carry httpsRedirect (the schema refuses the rest).
    return {
      ...base,
      transport: 'plaintext',
      httpsRedirect: spec.tls?.httpsRedirect === true,
      tls: undefined,
    };
  }
  const tls = spec.tls;
  if (tls !== undefined && REFUSED_MODES[tls.mode] !== undefined)
    return refuse(REFUSED_MODES[tls.mode] as string, 'tls.mode');
  if (protocol !== 'HTTPS') {
    return refuse(
      protocol === 'TLS'
        ? 'protocol TLS carries TCP after the handshake (VirtualService tls/tcp routes); this gateway serves HTTP: use protocol HTTPS'
        : `protocol ${protocol} is not served; this gateway serves HTTP, HTTP2 (as HTTP/1.1) and HTTPS`,
      'port.protocol',
    );
  }
  if (tls === undefined || !TERMINATING_MODES.has(tls.mode))
    return refuse('HTTPS needs tls.mode SIMPLE or MUTUAL', 'tls.mode');
  for (const field of UNSUPPORTED_TLS_FIELDS) {
    const value = tls[field];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0))
      return refuse(
        `tls.${field} is not supported by this gateway; it would not be enforced`,
        `tls.${field}`,
      );
  }
  const mode = tls.mode as TerminationMode;
  const files = certificateFiles(tls, mode !== 'SIMPLE', credentialsDir);
  if (!files.ok) return refuse(files.reason, files.field);
  const termination: TlsTermination = {
    mode,
    files: files.files,
    subjectAltNames: tls.subjectAltNames ?? [],
    minVersion: nodeTlsVersion(tls.minProtocolVersion),
    maxVersion: nodeTlsVersion(tls.maxProtocolVersion),
    cipherSuites: tls.cipherSuites ?? [],
  };
  return { ...base, transport: 'tls', httpsRedirect: false, tls: termination };
}

/** `prod/*.example.com` → namespace prod; `./x` → the Gateway's namespace; a bare host → any. */
function serverHost(value: string, gatewayNamespace: string): ServerHost {
  const slash = value.indexOf('/');
  if (slash === -1) return { namespace: '*', pattern: value };
  const namespace = value.slice(0, slash);
  return { namespace: namespace === '.' ? gatewayNamespace : namespace, pattern: value.slice(slash + 1) };
}

/**
 * VirtualServices bound to `gateway` (`gateways: [name]` in their own namespace, or
 * `namespace/name`), by the whole VirtualService or by one of its match blocks.
 */
function boundVirtualServices(
  virtualServices: readonly VirtualServiceResource[],
  gateway: string,
): BoundVirtualService[] {
  const bound: BoundVirtualService[] = [];
  for (const virtualService of virtualServices) {
    const { namespace, name } = virtualService.metadata;
    const names = (list: readonly string[] | undefined): boolean =>
      (list ?? []).some((entry) => (entry.includes('/') ? entry : `${namespace}/${entry}`) === gateway);
    const isBound =
      names(virtualService.spec.gateways) ||
      (virtualService.spec.http ?? []).some((route) =>
        (route.match ?? []).some((block) => names(block.gateways)),
      );
    if (isBound) bound.push({ name, namespace, hosts: virtualService.spec.hosts });
  }
  return bound;
}
