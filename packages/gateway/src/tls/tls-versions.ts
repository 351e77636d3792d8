import type { TlsVersion } from '../servers/gateway-server.ts';

/** Istio's `TLSV1_2` to node's `TLSv1.2`; TLS_AUTO (or none) leaves node's default (TLS 1.2–1.3). */
const NODE_VERSIONS: Readonly<Record<string, TlsVersion>> = {
  TLSV1_0: 'TLSv1',
  TLSV1_1: 'TLSv1.1',
  TLSV1_2: 'TLSv1.2',
  TLSV1_3: 'TLSv1.3',
};

export function nodeTlsVersion(istioVersion: string | undefined): TlsVersion | undefined {
  return istioVersion === undefined ? undefined : NODE_VERSIONS[istioVersion];
}

const ORDER: readonly string[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Whether a negotiated protocol (`socket.getProtocol()`) lies within the server's bounds. */
export function isVersionWithin(
  negotiated: string | null,
  min: TlsVersion | undefined,
  max: TlsVersion | undefined,
): boolean {
  const at = ORDER.indexOf(negotiated ?? '');
  if (at === -1) return min === undefined && max === undefined;
  return (min === undefined || at >= ORDER.indexOf(min)) && (max === undefined || at <= ORDER.indexOf(max));
}
