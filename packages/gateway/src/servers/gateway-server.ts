/**
 * One server of one Gateway, as this gateway serves it: compiled once per snapshot from the
 * Gateway's `servers[]` entry, with the VirtualServices bound to its Gateway.
 */

/** `namespace/dnsName` of `servers[].hosts`: which namespaces' VirtualServices may bind, and for which hosts. */
export interface ServerHost {
  /** `*` (any namespace), or one namespace (`.` is resolved to the Gateway's own). */
  readonly namespace: string;
  /** `*`, `*.example.com` or `bookinfo.example.com`, lower-case. */
  readonly pattern: string;
}

/** A VirtualService bound to the server's Gateway: its namespace and (normalized) hosts. */
export interface BoundVirtualService {
  readonly name: string;
  readonly namespace: string;
  readonly hosts: readonly string[];
}

export type TerminationMode = 'SIMPLE' | 'MUTUAL' | 'OPTIONAL_MUTUAL';

/** Where a server's certificate, key and client CA are read from, with the field each came from. */
export interface CertificateFiles {
  readonly certificate: FileField;
  readonly privateKey: FileField;
  /** The CAs client certificates must chain to (MUTUAL, OPTIONAL_MUTUAL). */
  readonly caCertificates: FileField | undefined;
}

export interface FileField {
  /** The Gateway field that named the file: `tls.serverCertificate`, `tls.credentialName`… */
  readonly field: string;
  readonly path: string;
}

export interface TlsTermination {
  readonly mode: TerminationMode;
  readonly files: CertificateFiles;
  /** Client certificates must carry one of these SANs (DNS, URI, IP or email), when any are given. */
  readonly subjectAltNames: readonly string[];
  /** node's `TLSv1.2` names; undefined leaves node's default. */
  readonly minVersion: TlsVersion | undefined;
  readonly maxVersion: TlsVersion | undefined;
  /** TLS 1.2 cipher suites (OpenSSL names, as Istio writes them); empty for node's default. */
  readonly cipherSuites: readonly string[];
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export type ServerTransport = 'plaintext' | 'tls';

export interface GatewayServer {
  /** `namespace/name` of the Gateway. */
  readonly gateway: string;
  readonly gatewayNamespace: string;
  /** `servers[i].name`, else its port name: how logs and status name the server. */
  readonly name: string;
  /** Index in `servers[]`, for the status's field paths. */
  readonly index: number;
  /** `istio-system/bookinfo-gateway server "https" (port 443)`: for every message about it. */
  readonly label: string;
  readonly port: number;
  readonly protocol: string;
  readonly transport: ServerTransport;
  readonly hosts: readonly ServerHost[];
  /** Plain HTTP servers with `tls.httpsRedirect`: every request gets a 301 to https. */
  readonly httpsRedirect: boolean;
  readonly tls: TlsTermination | undefined;
  readonly virtualServices: readonly BoundVirtualService[];
}

/** A server the gateway does not serve, and why; `field`/`path` when a file or a field is at fault. */
export interface ServerRefusal {
  readonly gateway: string;
  readonly server: string;
  readonly port: number;
  readonly reason: string;
  readonly field?: string;
  readonly path?: string;
}

export function serverLabel(gateway: string, name: string, port: number): string {
  return `${gateway} server "${name}" (port ${port})`;
}

/** The sentence a log line or an error carries for a refusal. */
export function describeRefusal(refusal: ServerRefusal): string {
  const where =
    refusal.field === undefined
      ? ''
      : ` [${refusal.field}${refusal.path === undefined ? '' : ` ${refusal.path}`}]`;
  return `${serverLabel(refusal.gateway, refusal.server, refusal.port)} is not served${where}: ${refusal.reason}`;
}
