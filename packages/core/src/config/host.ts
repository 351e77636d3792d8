/**
 * Host names in config. Istio compares hosts case-insensitively and treats a name with no dot as
 * a short name in the resource's namespace; a name with a dot is already fully qualified (so
 * `reviews.default` in config means a host literally named so, as in Istio). Callers resolving a
 * URL at run time are more lenient: see the routing table's lookup.
 */
export interface NameContext {
  /** The namespace of the resource the host appears in. */
  readonly namespace: string;
  /** The cluster's DNS suffix, `cluster.local` by default. */
  readonly domainSuffix: string;
}

export const DEFAULT_DOMAIN_SUFFIX = 'cluster.local';

/**
 * Lower-cases and strips trailing dots, so every layer compares the same string (RFC 4343).
 * Idempotent; a name with an empty label (`a..b`, `a..`) is refused by validation before this.
 */
export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  let end = lower.length;
  while (end > 0 && lower.charCodeAt(end - 1) === 46) end--;
  return end === lower.length ? lower : lower.slice(0, end);
}

/** `reviews` in `default` → `reviews.default.svc.cluster.local`; wildcards and FQDNs are kept. */
export function toFqdn(host: string, context: NameContext): string {
  const canonical = canonicalHost(host);
  if (canonical.includes('.') || canonical.includes('*')) return canonical;
  return `${canonical}.${context.namespace}.svc.${context.domainSuffix}`;
}

/** Whether `host` is the service name of a Kubernetes-style service under `domainSuffix`. */
export function isServiceFqdn(host: string, domainSuffix: string): boolean {
  return host.endsWith(`.svc.${domainSuffix}`);
}

/**
 * Whether a (possibly wildcard) pattern host covers a concrete host. `*` covers everything;
 * `*.example.com` covers `a.example.com` and `a.b.example.com`, as Istio's host matching does.
 */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** Whether two host patterns can both match some host (used to find overlapping claims). */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** Splits Sidecar/Gateway `namespace/host` notation; a bare host means any namespace (`*`). */
export function splitNamespacedHost(value: string): { readonly namespace: string; readonly host: string } {
  const slash = value.indexOf('/');
  if (slash === -1) return { namespace: '*', host: canonicalHost(value) };
  return { namespace: value.slice(0, slash), host: canonicalHost(value.slice(slash + 1)) };
}
