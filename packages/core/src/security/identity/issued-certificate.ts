import { type KeyObject, X509Certificate } from 'node:crypto';
import { ErrorCodes, WeftError } from '../../errors/weft-error.ts';
import { readCertificate } from '../x509/certificate-reader.ts';
import { readPemBlock, readPemBlocks, toPem } from '../x509/pem.ts';
import type { CertificateAnswer } from './certificate-exchange.ts';
import type { IdentityMaterial } from './identity-material.ts';
import { verifySvidChain } from './peer-verification.ts';
import type { SpiffeId } from './spiffe-id.ts';
import { certificateSha256, type TrustBundle } from './trust-bundle.ts';

/** A workload's SVID as it holds it: the material it hands out, and what renewal needs. */
export interface IssuedCertificate {
  readonly material: IdentityMaterial;
  /** The SVID and its intermediates, leaf first. */
  readonly chain: readonly X509Certificate[];
  readonly privateKey: KeyObject;
  /** SHA-256 of the bundle root the chain leads to: when the agent signs with another, renew. */
  readonly issuingRootSha256: string;
}

/**
 * Accepts the agent's answer only if it is what was asked for: an SVID for `spiffeId`, for this
 * key, whose chain verifies (node:crypto) up to a root of the bundle that came with it, valid now.
 */
export function acceptCertificateAnswer(
  answer: CertificateAnswer,
  expected: {
    readonly spiffeId: SpiffeId;
    readonly privateKey: KeyObject;
    readonly publicKey: KeyObject;
    readonly nowMs: number;
  },
): IssuedCertificate {
  const refuse = (reason: string, cause?: unknown): never => {
    throw new WeftError(ErrorCodes.identityUnavailable, `the agent's certificate is not usable: ${reason}`, {
      cause,
    });
  };
  let chain: X509Certificate[];
  let roots: X509Certificate[];
  try {
    chain = readPemBlocks(answer.certificateChain, 'CERTIFICATE', 5).map((der) => new X509Certificate(der));
    roots = answer.trustBundle.roots.map((pem) => new X509Certificate(readPemBlock(pem, 'CERTIFICATE')));
  } catch (error) {
    return refuse(`it does not parse (${(error as Error).message})`, error);
  }
  const leaf = chain[0];
  if (leaf === undefined) return refuse('the chain is empty');
  const keyDer = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });
  if (!keyDer(leaf.publicKey).equals(keyDer(expected.publicKey))) return refuse('it is for another key');
  let spiffeId: string;
  try {
    spiffeId = verifySvidChain(chain, {
      trustDomain: answer.trustBundle.trustDomain,
      roots,
      nowMs: expected.nowMs,
    }).spiffeId.uri;
  } catch (error) {
    return refuse((error as Error).message, error);
  }
  if (spiffeId !== expected.spiffeId.uri)
    return refuse(`it is for ${spiffeId}, not ${expected.spiffeId.uri}`);
  const top = chain[chain.length - 1] as X509Certificate;
  const root = roots.find((candidate) => top.raw.equals(candidate.raw) || top.checkIssued(candidate));
  return {
    material: buildMaterial(
      spiffeId,
      chain,
      expected.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      answer.trustBundle,
    ),
    chain,
    privateKey: expected.privateKey,
    issuingRootSha256: root === undefined ? '' : certificateSha256(root.raw),
  };
}

/** The same SVID with another trust bundle. */
export function withTrustBundle(issued: IssuedCertificate, bundle: TrustBundle): IssuedCertificate {
  return {
    ...issued,
    material: buildMaterial(issued.material.spiffeId, issued.chain, issued.material.keyPem, bundle),
  };
}

function buildMaterial(
  spiffeId: string,
  chain: readonly X509Certificate[],
  keyPem: string,
  bundle: TrustBundle,
): IdentityMaterial {
  const leaf = chain[0] as X509Certificate;
  const facts = readCertificate(leaf.raw);
  return Object.freeze({
    spiffeId,
    trustDomain: bundle.trustDomain,
    certChainPem: chain.map((certificate) => toPem(certificate.raw, 'CERTIFICATE')).join(''),
    keyPem,
    trustBundlePem: Object.freeze([...bundle.roots]),
    trustBundleVersion: bundle.version,
    serialNumber: facts.serialNumber,
    issuer: leaf.issuer,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
  });
}
