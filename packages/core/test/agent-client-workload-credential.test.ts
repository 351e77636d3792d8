/**
 * The workload's own credential for its registration calls (control-agent PROTOCOL.md §4.2.1):
 * the SVID proof's format (made, read back, verified with node:crypto), its parser on hostile
 * input, and which credential the client picks — the SVID while it is current, else the join token.
 */
import { verify, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bodySha256,
  createSvidProof,
  readSvidProof,
  SVID_PROOF_SCHEME,
  svidProofMessage,
} from '../src/agent-client/svid-proof.ts';
import { workloadCredential } from '../src/agent-client/workload-credential.ts';
import { readPemBlocks } from '../src/security/x509/pem.ts';
import { createTestCa } from './identity-fixtures.ts';

const ID = 'spiffe://example.org/ns/default/sa/bookinfo-reviews';
const NOW_MS = Date.now();

function svid() {
  const ca = createTestCa('example.org', NOW_MS);
  const leaf = ca.issue(ID);
  return { ca, leaf, material: ca.material(leaf, ID) };
}

describe('SVID proof', () => {
  it('carries the chain and a timestamp, and signs method, path, timestamp and body hash', () => {
    const { leaf, material } = svid();
    const body = Buffer.from('{"name":"reviews-v1"}');
    const header = createSvidProof(
      { chainPem: material.certChainPem, privateKey: leaf.privateKey },
      { method: 'POST', path: '/v1/workloads', body },
      NOW_MS + 0.7,
    );
    expect(header.startsWith(`${SVID_PROOF_SCHEME} v1.${Math.floor(NOW_MS)}.`)).toBe(true);
    const read = readSvidProof(header.slice(SVID_PROOF_SCHEME.length + 1));
    if (!read.ok) throw new Error(read.reason);
    expect(read.proof.timestampMs).toBe(Math.floor(NOW_MS));
    expect(read.proof.certificates).toEqual(readPemBlocks(material.certChainPem, 'CERTIFICATE'));
    const leafKey = new X509Certificate(read.proof.certificates[0] as Buffer).publicKey;
    const message = (method: string, path: string, hash: string) =>
      svidProofMessage({ method, path, timestampMs: read.proof.timestampMs, bodySha256: hash });
    expect(
      verify('sha256', message('POST', '/v1/workloads', bodySha256(body)), leafKey, read.proof.signature),
    ).toBe(true);
    // Any other request breaks it.
    expect(
      verify('sha256', message('PUT', '/v1/workloads', bodySha256(body)), leafKey, read.proof.signature),
    ).toBe(false);
    expect(
      verify('sha256', message('POST', '/v1/leases/1', bodySha256(body)), leafKey, read.proof.signature),
    ).toBe(false);
    expect(
      verify(
        'sha256',
        message('POST', '/v1/workloads', bodySha256(undefined)),
        leafKey,
        read.proof.signature,
      ),
    ).toBe(false);
  });

  it('hashes no body as empty bytes', () => {
    expect(bodySha256(undefined)).toBe(bodySha256(new Uint8Array()));
    expect(bodySha256(undefined)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('refuses malformed proofs, saying what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['v1.1.AAAA', /must be v1/],
      ['v2.1.AAAA.AAAA', /version "v2" is not v1/],
      ['v1.-1.AAAA.AAAA', /timestamp must be Unix milliseconds/],
      ['v1.12345678901234567.AAAA.AAAA', /timestamp/],
      ['v1.1.AA+A.AAAA', /certificate must be base64url/],
      ['v1.1.A~B~C~D~E~F.AAAA', /more than 5 certificates/],
      ['v1.1.AAAA.AA/A', /signature must be base64url/],
      [`v1.1.${'A'.repeat(13_000)}.AAAA`, /longer than/],
      ['v1.1..AAAA', /certificate must be base64url/],
    ];
    for (const [credentials, reason] of cases) {
      const read = readSvidProof(credentials);
      expect(read.ok, credentials.slice(0, 40)).toBe(false);
      if (!read.ok) expect(read.reason).toMatch(reason);
    }
  });

  it('never throws on arbitrary input, and what it accepts is bounded', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .tuple(fc.constantFrom('v1', 'v2', ''), fc.string(), fc.string(), fc.string())
            .map((parts) => parts.join('.')),
        ),
        (credentials) => {
          const read = readSvidProof(credentials);
          if (read.ok) {
            expect(read.proof.certificates.length).toBeLessThanOrEqual(5);
            expect(Number.isSafeInteger(read.proof.timestampMs)).toBe(true);
          }
        },
      ),
      { seed: 20_261_125, numRuns: 500 },
    );
  });
});

describe('workloadCredential', () => {
  it('proves with the SVID while it is current, with the join token before and after', async () => {
    const { material } = svid();
    let current: typeof material | undefined;
    let nowMs = NOW_MS;
    const credential = workloadCredential({
      svid: () => current,
      joinToken: async () => '  join-token-text\n',
      wallClock: () => nowMs,
    });
    const request = { method: 'PUT', path: '/v1/leases/7', body: undefined };
    expect(await credential(request)).toBe('Bearer join-token-text');
    current = material;
    const proof = await credential(request);
    expect(proof.startsWith(`Weft-SVID v1.${NOW_MS}.`)).toBe(true);
    // Every call is signed afresh, with its own timestamp.
    nowMs += 1_000;
    expect(await credential(request)).toMatch(new RegExp(`^Weft-SVID v1\\.${NOW_MS + 1_000}\\.`));
    nowMs = material.notAfter.getTime();
    expect(await credential(request)).toBe('Bearer join-token-text');
  });

  it('fails with WEFT_ERR_IDENTITY_UNAVAILABLE when there is neither an SVID nor a token', async () => {
    const credential = workloadCredential({
      svid: () => undefined,
      joinToken: () => ' ',
      wallClock: () => NOW_MS,
    });
    await expect(
      credential({ method: 'POST', path: '/v1/workloads', body: undefined }),
    ).rejects.toMatchObject({
      code: 'WEFT_ERR_IDENTITY_UNAVAILABLE',
    });
  });
});
