/**
 * `@weft/core/testing`'s certificate authority and hand-set identity, which the adapters' tests,
 * the benches and the Bookinfo demo use: SVIDs that chain to the root and name the workload, leaf
 * certificates with a subject for DNS names, and a TestIdentity whose renewals reach listeners.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readCertificate } from '../src/security/x509/certificate-reader.ts';
import { Oids } from '../src/security/x509/oids.ts';
import { createTestCa, identityMaterialOf, spiffeIdOf, TestIdentity } from '../src/testing.ts';

const HOUR_MS = 3_600_000;

function subjectAltNameIsCritical(certificate: X509Certificate): boolean {
  const san = readCertificate(certificate.raw).extensions.find(
    (extension) => extension.oid === Oids.subjectAltName,
  );
  if (san === undefined) throw new Error('no subjectAltName extension');
  return san.isCritical;
}

describe('createTestCa', () => {
  it("issues a workload's SVID: its SPIFFE ID as the only URI SAN (critical, empty subject), signed by the root", () => {
    const nowMs = Date.UTC(2030, 0, 1);
    const ca = createTestCa('example.org', { nowMs });
    const material = ca.workload('shop', 'reviews');
    const leaf = new X509Certificate(material.certChainPem);
    const root = new X509Certificate(ca.rootPem);

    expect(material.spiffeId).toBe('spiffe://example.org/ns/shop/sa/reviews');
    expect(material.spiffeId).toBe(spiffeIdOf('example.org', 'shop', 'reviews'));
    expect(leaf.subjectAltName).toBe('URI:spiffe://example.org/ns/shop/sa/reviews');
    expect(leaf.subject).toBeUndefined();
    expect(subjectAltNameIsCritical(leaf)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(root.ca).toBe(true);
    expect(leaf.keyUsage).toEqual(expect.arrayContaining([Oids.serverAuth, Oids.clientAuth]));
    expect(material.trustBundlePem).toEqual([ca.rootPem]);
    expect(material.serialNumber).toBe(leaf.serialNumber.toLowerCase());
    expect(material.notBefore.getTime()).toBe(nowMs - 60_000);
    expect(material.notAfter.getTime()).toBe(nowMs + HOUR_MS);
  });

  it('issues a leaf for DNS names with a subject (SAN not critical), the usages asked for and the validity given', () => {
    const ca = createTestCa(undefined, { organization: 'example Inc.', commonName: 'example root' });
    const notAfter = new Date(Date.now() + 24 * HOUR_MS);
    const leaf = ca.issue(undefined, {
      dnsNames: ['bookinfo.example.com'],
      commonName: 'bookinfo.example.com',
      extendedKeyUsage: [Oids.serverAuth],
      notAfter,
    });
    const root = new X509Certificate(ca.rootPem);

    expect(leaf.certificate.subject).toBe('CN=bookinfo.example.com');
    expect(leaf.certificate.subjectAltName).toBe('DNS:bookinfo.example.com');
    expect(subjectAltNameIsCritical(leaf.certificate)).toBe(false);
    expect(leaf.certificate.keyUsage).toEqual([Oids.serverAuth]);
    expect(new Date(leaf.certificate.validTo).getTime()).toBe(Math.floor(notAfter.getTime() / 1000) * 1000);
    expect(root.subject).toMatch(/^O=example Inc\.\nCN=example root [0-9a-f]{8}$/);
    expect(leaf.certificate.verify(root.publicKey)).toBe(true);
  });

  it("gives two CAs different roots, so that one's leaves do not verify against the other", () => {
    const first = createTestCa();
    const second = createTestCa();
    const leaf = first.issue(spiffeIdOf('cluster.local', 'default', 'a'));
    expect(first.rootPem).not.toBe(second.rootPem);
    expect(leaf.certificate.verify(new X509Certificate(second.rootPem).publicKey)).toBe(false);
  });

  it('makes identity material of a leaf for a bundle of several roots', () => {
    const ca = createTestCa();
    const next = createTestCa();
    const id = spiffeIdOf('cluster.local', 'default', 'reviews');
    const material = identityMaterialOf(ca.issue(id), id, 'cluster.local', [ca.rootPem, next.rootPem]);
    expect(material.trustBundlePem).toEqual([ca.rootPem, next.rootPem]);
    expect(material.trustBundleVersion).not.toBe(ca.workload('default', 'reviews').trustBundleVersion);
  });
});

describe('TestIdentity', () => {
  it('holds the material it was given and tells listeners of each renewal until they unsubscribe', () => {
    const ca = createTestCa();
    const first = ca.workload('default', 'reviews');
    const renewed = ca.workload('default', 'reviews');
    const identity = new TestIdentity(first);
    const seen: string[] = [];
    const unsubscribe = identity.onChange((material) => seen.push(material.serialNumber));

    expect(identity.current()).toBe(first);
    identity.set(renewed);
    expect(identity.current()).toBe(renewed);
    unsubscribe();
    identity.set(first);
    expect(seen).toEqual([renewed.serialNumber]);
    expect(new TestIdentity().current()).toBeUndefined();
  });
});
