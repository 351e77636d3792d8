/**
 * Certificates for the gateway tests, from @weft/core's test CA: server certificates for DNS names,
 * client certificates, and files laid out as the gateway reads a credentialName.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Oids } from '@weft/core';
import { createTestCa } from '@weft/core/testing';

export interface KeyAndCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TestPki {
  readonly caPem: string;
  /** A server certificate for these DNS names. */
  server(dnsNames: readonly string[]): KeyAndCertificate;
  /** A client certificate with these SANs (DNS names and URIs). */
  client(names: {
    readonly dnsNames?: readonly string[];
    readonly uris?: readonly string[];
  }): KeyAndCertificate;
}

/** A PKI of its own root, named after `label`; its leaves name their first DNS name as subject. */
export function createTestPki(label: string): TestPki {
  const ca = createTestCa(undefined, { organization: 'weft gateway tests', commonName: label });
  const issue = (names: Parameters<TestPki['client']>[0], usage: string): KeyAndCertificate => {
    const leaf = ca.issue(undefined, {
      uris: names.uris ?? [],
      dnsNames: names.dnsNames ?? [],
      commonName: names.dnsNames?.[0] ?? 'client',
      extendedKeyUsage: [usage],
    });
    return { certPem: leaf.pem, keyPem: leaf.keyPem };
  };
  return {
    caPem: ca.rootPem,
    server: (dnsNames) => issue({ dnsNames }, Oids.serverAuth),
    client: (names) => issue(names, Oids.clientAuth),
  };
}

/** Writes `<dir>/<name>/tls.crt`, `tls.key` and, if given, `ca.crt`: a credentialName's directory. */
export function writeCredential(dir: string, name: string, pair: KeyAndCertificate, caPem?: string): string {
  const directory = join(dir, name);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'tls.crt'), pair.certPem);
  writeFileSync(join(directory, 'tls.key'), pair.keyPem);
  if (caPem !== undefined) writeFileSync(join(directory, 'ca.crt'), caPem);
  return directory;
}
