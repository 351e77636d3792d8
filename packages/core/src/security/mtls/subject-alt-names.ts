import { isIP } from 'node:net';
import type { SubjectAltNames } from '../x509/extension-reader.ts';

/**
 * DestinationRule `subjectAltNames` for TLS origination (SIMPLE, MUTUAL): the server's certificate
 * must name one of them. Each configured name is compared with SANs of its own type only
 * (bad-inputs E11): a URI (`spiffe://…`, `https://…`) with URI SANs, an IP address with IP SANs,
 * anything else with DNS SANs. Comparison is exact (case-insensitive for DNS), with one allowance:
 * a certificate's wildcard DNS SAN `*.example.com` covers exactly one label, `a.example.com` but
 * neither `a.b.example.com` nor `example.com` (bad-inputs E10, RFC 6125 §6.4.3). A configured
 * name is never a pattern: `*.example.com` in the list matches only a certificate that says
 * `*.example.com`.
 */
export function matchesSubjectAltNames(
  sans: SubjectAltNames | undefined,
  configured: readonly string[],
): boolean {
  if (sans === undefined) return false;
  return configured.some((name) => matchesOne(sans, name));
}

function matchesOne(sans: SubjectAltNames, name: string): boolean {
  if (name.includes('://')) return sans.uris.includes(name);
  if (isIP(name) !== 0) return sans.ipAddresses.some((address) => sameAddress(address, name));
  const wanted = name.toLowerCase();
  return sans.dnsNames.some((san) => dnsNameCovers(san.toLowerCase(), wanted));
}

/** Whether a certificate's DNS SAN covers a host name: equal, or a leftmost `*` label standing for one label. */
export function dnsNameCovers(san: string, host: string): boolean {
  if (san === host) return true;
  if (!san.startsWith('*.') || san.length <= 2) return false;
  // `*` must be the whole leftmost label, and the rest must not be a wildcard or a bare suffix.
  const suffix = san.slice(1); // `.example.com`
  if (suffix.includes('*') || !suffix.slice(1).includes('.')) return false;
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, host.length - suffix.length);
  return label !== '' && !label.includes('.');
}

function sameAddress(san: string, wanted: string): boolean {
  // IPv6 has many spellings (the X.509 reader writes all eight groups): compare canonical forms.
  return (
    san === wanted || (isIP(wanted) === 6 && isIP(san) === 6 && canonicalIpv6(san) === canonicalIpv6(wanted))
  );
}

function canonicalIpv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}
