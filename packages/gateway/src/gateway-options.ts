import type { InboundOptions } from '@weft/http';

/** One line the gateway wants an operator to see: a server refused, a listener opened or closed… */
export interface GatewayLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

export interface IngressGatewayOptions {
  /**
   * Declared port → port to listen on, for tests and demos (`{ 8080: 0, 443: 0 }`; 0 picks a free
   * one). A mapped port is bound at start and stays bound; while no Gateway server uses it, its
   * connections are closed at once. An unmapped declared port is listened on under its own
   * number when a Gateway declares it, and closed when none does (production).
   */
  readonly listenPorts?: Readonly<Record<number, number>>;
  /** The address every listener binds: `0.0.0.0` unless given. */
  readonly host?: string;
  /**
   * Where `credentialName` certificates live, as a Kubernetes TLS secret's keys:
   * `<credentialsDir>/<credentialName>/tls.crt`, `tls.key`, and `ca.crt` for MUTUAL.
   */
  readonly credentialsDir?: string;
  /** How often certificate files are re-read for rotation: 10 s unless given; 0 only on config change. */
  readonly certificateCheckIntervalMs?: number;
  /** How long a closing listener lets requests in flight finish: 30 s unless given. */
  readonly drainTimeoutMs?: number;
  /** The inbound pipeline's options (authorization, request authentication, telemetry, headers). */
  readonly inbound?: Omit<InboundOptions, 'peerAuthentication'>;
  /** Where the gateway reports what it serves and refuses; silent unless given. */
  readonly log?: (entry: GatewayLogEntry) => void;
}

/**
 * Parses `--listen DECLARED=LISTEN` values (`8080=0`, `443=8443`) into `listenPorts`; the error
 * names the value at fault.
 */
export function parseListenPorts(values: readonly string[]): Record<number, number> {
  const ports: Record<number, number> = {};
  for (const value of values) {
    const match = /^(\d{1,5})=(\d{1,5})$/.exec(value);
    const declared = Number(match?.[1]);
    const listen = Number(match?.[2]);
    if (match === null || declared < 1 || declared > 65_535 || listen > 65_535) {
      throw new Error(
        `--listen "${value}" must be DECLARED=LISTEN, a Gateway port and the port to listen on (0 = any free), e.g. 8080=0`,
      );
    }
    if (ports[declared] !== undefined) throw new Error(`--listen maps port ${declared} twice`);
    ports[declared] = listen;
  }
  return ports;
}
