import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';

/**
 * SPIFFE IDs (SPIFFE-ID spec §2): `spiffe://<trust-domain><path>`. Weft's workloads are
 * `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`, as Istio names them.
 *
 * Parsing is strict, so that one ID has one spelling and a comparison of strings is a comparison
 * of identities (bad-inputs E9): the trust domain is lower-case letters, digits, `.`, `-` and `_`
 * (no port, no userinfo, no upper case); path segments are letters, digits, `.`, `-` and `_`,
 * never empty, `.` or `..` (so no `//`, no trailing `/`, no percent-encoding, no query or fragment);
 * at most 255 bytes of trust domain and 2048 bytes in all.
 */
export interface SpiffeId {
  readonly trustDomain: string;
  /** `''` for a trust domain's own ID, else `/segment/...`. */
  readonly path: string;
  /** The ID as text: `spiffe://trust-domain/path`. */
  readonly uri: string;
}

export const MAX_SPIFFE_ID_BYTES = 2048;
export const MAX_TRUST_DOMAIN_BYTES = 255;
const SCHEME = 'spiffe://';

/** A SPIFFE ID that breaks the spec; the message says which rule. */
export class SpiffeIdError extends WeftError {
  constructor(message: string) {
    super(ErrorCodes.unauthenticated, message);
    this.name = 'SpiffeIdError';
  }
}

export function parseSpiffeId(text: string): SpiffeId {
  if (typeof text !== 'string') throw new SpiffeIdError('a SPIFFE ID must be a string');
  if (text.length > MAX_SPIFFE_ID_BYTES || Buffer.byteLength(text, 'utf8') > MAX_SPIFFE_ID_BYTES) {
    throw new SpiffeIdError(`SPIFFE ID is longer than ${MAX_SPIFFE_ID_BYTES} bytes`);
  }
  if (!text.startsWith(SCHEME)) {
    throw new SpiffeIdError(`${quote(text)} is not a SPIFFE ID: it must start with "spiffe://" (lower case)`);
  }
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  const domainProblem = trustDomainProblem(trustDomain);
  if (domainProblem !== undefined) throw new SpiffeIdError(`${quote(text)}: ${domainProblem}`);
  const pathProblem = pathProblemOf(path);
  if (pathProblem !== undefined) throw new SpiffeIdError(`${quote(text)}: ${pathProblem}`);
  return Object.freeze({ trustDomain, path, uri: text });
}

/** Whether `text` is a valid SPIFFE ID (see parseSpiffeId). */
export function isSpiffeId(text: string): boolean {
  try {
    parseSpiffeId(text);
    return true;
  } catch {
    return false;
  }
}

/** Throws SpiffeIdError unless `trustDomain` is a valid trust domain name. */
export function checkTrustDomain(trustDomain: string): string {
  const problem = trustDomainProblem(trustDomain);
  if (problem !== undefined) throw new SpiffeIdError(`trust domain ${quote(trustDomain)}: ${problem}`);
  return trustDomain;
}

/**
 * `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. Each part must be one path
 * segment: a namespace `a/sa/b` would otherwise format into a valid ID of another identity.
 */
export function workloadSpiffeId(trustDomain: string, namespace: string, serviceAccount: string): SpiffeId {
  for (const [what, part] of [
    ['namespace', namespace],
    ['service account', serviceAccount],
  ] as const) {
    const problem = pathProblemOf(`/${part}`);
    if (problem !== undefined || part.includes('/')) {
      throw new SpiffeIdError(
        `the ${what} ${quote(part)} is not one SPIFFE path segment${problem === undefined ? '' : `: ${problem}`}`,
      );
    }
  }
  return parseSpiffeId(`${SCHEME}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`);
}

/** The namespace and service account of an Istio-style workload ID, or undefined for other paths. */
export function workloadOf(
  id: SpiffeId,
): { readonly namespace: string; readonly serviceAccount: string } | undefined {
  const segments = id.path.split('/');
  if (segments.length !== 5 || segments[1] !== 'ns' || segments[3] !== 'sa') return undefined;
  return { namespace: segments[2] as string, serviceAccount: segments[4] as string };
}

function trustDomainProblem(trustDomain: string): string | undefined {
  if (trustDomain === '') return 'the trust domain is empty';
  if (trustDomain.length > MAX_TRUST_DOMAIN_BYTES) {
    return `the trust domain is longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`;
  }
  for (const character of trustDomain) {
    if (/^[a-z0-9._-]$/.test(character)) continue;
    if (/^[A-Z]$/.test(character)) return 'the trust domain must be lower case';
    if (character === ':') return 'a trust domain has no port';
    if (character === '@') return 'a trust domain has no userinfo';
    return `the trust domain may only hold a-z, 0-9, ".", "-" and "_", not ${quote(character)}`;
  }
  return undefined;
}

function pathProblemOf(path: string): string | undefined {
  if (path === '') return undefined;
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '')
      return path.endsWith('/') ? 'the path ends with "/"' : 'the path has an empty segment ("//")';
    if (segment === '.' || segment === '..') return `the path has a "${segment}" segment`;
    for (const character of segment) {
      if (/^[A-Za-z0-9._-]$/.test(character)) continue;
      if (character === '%') return 'the path may not be percent-encoded';
      if (character === '?' || character === '#') return 'a SPIFFE ID has no query or fragment';
      return `the path may only hold letters, digits, ".", "-" and "_", not ${quote(character)}`;
    }
  }
  return undefined;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
