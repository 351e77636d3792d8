import { isIP } from 'node:net';
import { hostName } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';

/**
 * The names and addresses Istio's validation accepts for hosts, endpoints and binds: DNS-1123 labels,
 * fully-qualified and wildcard domain names, IP addresses and CIDR blocks, and `unix://` sockets.
 * The `…Problem` functions return a message, or `undefined` when the value is valid.
 */

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/i;
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)$/i;

/** A DNS-1123 label as Istio checks it (namespaces, subset and port names): letters, digits, `-`. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

/** `a.b.c.d`, `a.b.c.d/xx` and the IPv6 forms, as Istio's ValidateIPSubnet. */
export function isIpOrCidr(value: string): boolean {
  const [address = '', bits, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Istio's ValidateDNS1123Labels over `labels` (a suffix of `domain`, which names the error). */
function dnsLabelsProblem(domain: string, labelsText: string): string | undefined {
  const parts = labelsText.split('.');
  const topLevel = parts.at(-1) ?? '';
  if (/^\d+$/.test(topLevel)) {
    return `host "${domain}" is invalid: its top-level label "${topLevel}" is all digits; use a DNS name or an IP address`;
  }
  for (const [index, label] of parts.entries()) {
    // A final empty label is a trailing dot (`istio.io.`), which is unambiguous.
    if (index === parts.length - 1 && label === '') return undefined;
    if (!isDnsLabel(label)) {
      return `host "${domain}" is invalid: "${label}" is not a DNS-1123 label (letters, digits and "-", at most 63)`;
    }
  }
  return undefined;
}

function lengthProblem(domain: string): string | undefined {
  if (domain.length === 0) return 'host must not be empty';
  if (domain.length > 255) return `host "${domain.slice(0, 32)}…" is longer than 255 characters`;
  return undefined;
}

/** Istio's ValidateWildcardDomain: a DNS name whose first label may be `*`, `*foo` or `*-foo`. */
export function wildcardDomainProblem(domain: string): string | undefined {
  const tooLong = lengthProblem(domain);
  if (tooLong !== undefined) return tooLong;
  const dot = domain.indexOf('.');
  const first = dot === -1 ? domain : domain.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) {
    return `host "${domain}" is invalid: "${first}" is neither a DNS-1123 label nor a wildcard such as "*" or "*.example.com"`;
  }
  return dot === -1 ? undefined : dnsLabelsProblem(domain, domain.slice(dot + 1));
}

/** Istio's ValidateFQDN: DNS-1123 labels only, no wildcard. */
export function fqdnProblem(name: string): string | undefined {
  return lengthProblem(name) ?? dnsLabelsProblem(name, name);
}

/** A host as VirtualService and DestinationRule use it: a (wildcard) DNS name, short or qualified. */
export const wildcardHost = hostName.superRefine((host, context) =>
  addProblem(context, wildcardDomainProblem(host)),
);

/** A (wildcard) DNS name or an IP address, as VirtualService `hosts` and TLS `sniHosts` accept. */
export const wildcardHostOrIp = hostName.superRefine((host, context) => {
  if (!isIpAddress(host)) addProblem(context, wildcardDomainProblem(host));
});

export const UNIX_ADDRESS_PREFIX = 'unix://';

export function isUnixAddress(address: string): boolean {
  return address.startsWith(UNIX_ADDRESS_PREFIX);
}

/** Istio's ValidateUnixAddress for the part after `unix://`: an absolute file path or `@abstract`. */
export function unixAddressProblem(address: string): string | undefined {
  const path = address.slice(UNIX_ADDRESS_PREFIX.length);
  if (path === '') return 'a unix:// address needs a socket path, e.g. "unix:///var/run/app.sock"';
  if (path.startsWith('@')) return undefined;
  if (!path.startsWith('/') || path.endsWith('/')) {
    return `"${address}" must name a socket file by absolute path (unix:///path) or an abstract socket (unix://@name)`;
  }
  return undefined;
}
