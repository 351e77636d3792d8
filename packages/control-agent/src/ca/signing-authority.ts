import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import {
  type CertificateFacts,
  certificateSha256,
  readCertificate,
  readPemBlock,
  readPemBlocks,
} from '@weft/core';

/**
 * A CA certificate with its key, checked to be usable for issuing SVIDs: a CA (basicConstraints
 * cA=true, keyCertSign when keyUsage is present), whose key is the one given, and which leads up
 * its chain to `root`, every signature verified with node:crypto.
 */
export interface SigningAuthority {
  readonly certificate: X509Certificate;
  readonly facts: CertificateFacts;
  readonly privateKey: KeyObject;
  /** PEM intermediates an SVID is followed by: this certificate (unless it is the root) and its chain. */
  readonly intermediatesPem: readonly string[];
  /** The root the chain ends at, as it appears in the trust bundle. */
  readonly root: X509Certificate;
  readonly rootSha256: string;
}

/** A problem with CA material (operator files or a stored record); the message says which and why. */
export class CaMaterialError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaMaterialError';
  }
}

export function loadSigningAuthority(input: {
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly chainPem?: string;
  /** Candidates for the root; for a self-signed CA certificate, itself. */
  readonly roots: readonly X509Certificate[];
  readonly what: string;
}): SigningAuthority {
  const { what } = input;
  const certificate = parseCertificate(input.certificatePem, `${what} certificate`);
  const facts = readCertificate(certificate.raw);
  if (facts.basicConstraints?.isCa !== true)
    throw new CaMaterialError(`${what} certificate is not a CA (basicConstraints cA is not true)`);
  if (facts.keyUsage !== undefined && !facts.keyUsage.has('keyCertSign')) {
    throw new CaMaterialError(`${what} certificate may not sign certificates (no keyCertSign key usage)`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(input.keyPem);
  } catch (error) {
    throw new CaMaterialError(`${what} key is not a PEM private key: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(privateKey)).equals(spki(certificate.publicKey))) {
    throw new CaMaterialError(`${what} key does not belong to its certificate`);
  }
  const chain = input.chainPem === undefined ? [] : parseCertificates(input.chainPem, `${what} chain`);
  // Istio's cert-chain.pem starts with the CA certificate itself: skip it, and any root.
  const path = [
    certificate,
    ...chain.filter((candidate) => !candidate.raw.equals(certificate.raw) && !isSelfSigned(candidate)),
  ];
  for (let index = 0; index + 1 < path.length; index += 1) {
    const [child, parent] = [path[index] as X509Certificate, path[index + 1] as X509Certificate];
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new CaMaterialError(
        `${what} chain is broken: ${child.subject} is not signed by ${parent.subject}`,
      );
    }
  }
  const top = path[path.length - 1] as X509Certificate;
  const root = input.roots.find(
    (candidate) =>
      candidate.raw.equals(top.raw) || (top.checkIssued(candidate) && top.verify(candidate.publicKey)),
  );
  if (root === undefined) throw new CaMaterialError(`${what} certificate does not chain to any of the roots`);
  const intermediates = path.filter((entry) => !entry.raw.equals(root.raw));
  return {
    certificate,
    facts,
    privateKey,
    intermediatesPem: intermediates.map((entry) => entry.toString()),
    root,
    rootSha256: certificateSha256(root.raw),
  };
}

export function parseCertificates(pem: string, what: string): X509Certificate[] {
  try {
    return readPemBlocks(pem, 'CERTIFICATE').map((der) => new X509Certificate(der));
  } catch (error) {
    throw new CaMaterialError(`${what} is not PEM certificates: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function parseCertificate(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(readPemBlock(pem, 'CERTIFICATE'));
  } catch (error) {
    throw new CaMaterialError(`${what} is not one PEM certificate: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export function isSelfSigned(certificate: X509Certificate): boolean {
  return certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);
}
