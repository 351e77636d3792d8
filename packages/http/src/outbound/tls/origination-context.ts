import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { type OriginationPlan, UpstreamTlsError } from '@weft/core';

/** TLS 1.2 is the floor Istio sets for origination too. */
const MIN_VERSION = 'TLSv1.2';

export interface OriginationContext {
  readonly secureContext: SecureContext;
  /** Changes when a file's contents change: connection pools are keyed on it. */
  readonly version: string;
}

const loaded = new WeakMap<OriginationPlan, OriginationContext | UpstreamTlsError>();

/**
 * The DestinationRule's certificate files (caCertificates, caCrl, and for MUTUAL clientCertificate
 * and privateKey) as a SecureContext, read once per plan — that is, when a configuration that names
 * them is first used; a file rotated in place is picked up with the next configuration. Without
 * caCertificates the system's roots are trusted, as Istio does. A file that does not read, or does
 * not make a usable context (a key that does not fit its certificate), refuses requests to the
 * cluster with a message naming it: a broken TLS origination never sends plaintext instead.
 *
 * The read is synchronous: it happens once per configuration, and the request that triggers it
 * could not proceed before it anyway.
 */
export function originationContext(plan: OriginationPlan): OriginationContext | UpstreamTlsError {
  let context = loaded.get(plan);
  if (context === undefined) {
    context = load(plan);
    loaded.set(plan, context);
  }
  return context;
}

function load(plan: OriginationPlan): OriginationContext | UpstreamTlsError {
  const hash = createHash('sha256');
  const read = (field: keyof OriginationPlan, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    const text = readFileSync(path, 'utf8');
    hash.update(`${field}\0${text}\0`);
    return text;
  };
  let field: keyof OriginationPlan = 'caCertificates';
  try {
    const ca = read(field, plan.caCertificates);
    field = 'caCrl';
    const crl = read(field, plan.caCrl);
    const isMutual = plan.mode === 'MUTUAL';
    field = 'clientCertificate';
    const cert = isMutual ? read(field, plan.clientCertificate) : undefined;
    field = 'privateKey';
    const key = isMutual ? read(field, plan.privateKey) : undefined;
    field = 'mode';
    const secureContext = createSecureContext({
      minVersion: MIN_VERSION,
      ...(ca === undefined ? {} : { ca }),
      ...(crl === undefined ? {} : { crl }),
      ...(cert === undefined ? {} : { cert }),
      ...(key === undefined ? {} : { key }),
    });
    return { secureContext, version: hash.digest('hex').slice(0, 16) };
  } catch (error) {
    const what =
      field === 'mode'
        ? 'the certificate files do not make a usable TLS context'
        : `${field} ${plan[field] as string} cannot be read`;
    return new UpstreamTlsError(
      'configuration',
      false,
      `${plan.cluster}: TLS ${plan.mode} origination: ${what} (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
}
