import { createHash, X509Certificate } from 'node:crypto';
import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import { readPemBlock } from '../x509/pem.ts';
import { checkTrustDomain } from './spiffe-id.ts';

/**
 * The roots a workload trusts to issue SVIDs of its trust domain, as the agent sends them (in the
 * answer to a CSR and on the watch stream: PROTOCOL.md §3.2). During a root rotation it holds old
 * and new roots (bad-inputs E13); `signingRootSha256` names the one new SVIDs chain to, so that a
 * workload whose certificate chains to another root knows to renew early (E16).
 */
export interface TrustBundle {
  readonly trustDomain: string;
  /** PEM certificates, one per root. */
  readonly roots: readonly string[];
  /** Lower-case hex SHA-256 of the DER of the root that new SVIDs chain to. */
  readonly signingRootSha256: string;
  /** Changes whenever `roots` or `signingRootSha256` change; compare, never parse. */
  readonly version: string;
}

const MAX_ROOTS = 16;

/** A trust bundle from the wire, checked whole: every root parses as a CA certificate. */
export function parseTrustBundle(value: unknown, what = 'trustBundle'): TrustBundle {
  const fail = (reason: string): never => {
    throw new WeftError(ErrorCodes.controlPlaneUnavailable, `${what}: ${reason}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('not an object');
  const bundle = value as Record<string, unknown>;
  if (typeof bundle.trustDomain !== 'string') return fail('trustDomain is not a string');
  try {
    checkTrustDomain(bundle.trustDomain);
  } catch (error) {
    return fail((error as Error).message);
  }
  const roots = bundle.roots;
  if (!Array.isArray(roots) || roots.length === 0 || roots.length > MAX_ROOTS) {
    return fail(`roots must be a list of 1 to ${MAX_ROOTS} PEM certificates`);
  }
  const fingerprints: string[] = [];
  for (const [index, root] of roots.entries()) {
    if (typeof root !== 'string') return fail(`roots[${index}] is not a string`);
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(readPemBlock(root, 'CERTIFICATE'));
    } catch (error) {
      return fail(`roots[${index}] is not a PEM certificate: ${(error as Error).message}`);
    }
    if (!certificate.ca) return fail(`roots[${index}] is not a CA certificate`);
    fingerprints.push(certificateSha256(certificate.raw));
  }
  const signing = bundle.signingRootSha256;
  if (typeof signing !== 'string' || !fingerprints.includes(signing)) {
    return fail('signingRootSha256 names none of the roots');
  }
  if (typeof bundle.version !== 'string' || bundle.version === '' || bundle.version.length > 128) {
    return fail('version is not a non-empty string');
  }
  return Object.freeze({
    trustDomain: bundle.trustDomain,
    roots: Object.freeze([...(roots as string[])]),
    signingRootSha256: signing,
    version: bundle.version,
  });
}

/** Lower-case hex SHA-256 of a certificate's DER: how roots are named in bundles and status. */
export function certificateSha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** A bundle's version: a digest of its roots, in order, and of the signing root. */
export function trustBundleVersion(rootFingerprints: readonly string[], signingRootSha256: string): string {
  return createHash('sha256')
    .update(`${rootFingerprints.join(',')};${signingRootSha256}`)
    .digest('hex')
    .slice(0, 32);
}
