/**
 * Weft's X.509 codec: the strict DER reader that is the one parser of untrusted certificates and
 * CSRs, the certificate builder (forge's ASN.1 encoder + node:crypto signatures), and PKCS#10
 * requests. Hostile DER is refused with a DerError, whatever it is (bad-inputs E15), and what Weft
 * builds is accepted by OpenSSL itself.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCertificate, distinguishedName, extensions } from '../src/security/x509/certificate-builder.ts';
import { readCertificate } from '../src/security/x509/certificate-reader.ts';
import {
  buildCertificationRequest,
  readCertificationRequest,
} from '../src/security/x509/certification-request.ts';
import { DerError, readDer } from '../src/security/x509/der-reader.ts';
import { readOid } from '../src/security/x509/der-values.ts';
import { der, encodeDer } from '../src/security/x509/der-writer.ts';
import { Oids } from '../src/security/x509/oids.ts';
import { readPemBlocks, toPem } from '../src/security/x509/pem.ts';
import { createTestCa, serial } from './identity-fixtures.ts';

const SPIFFE_ID = 'spiffe://example.org/ns/default/sa/reviews';
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const scratch = mkdtempSync(join(tmpdir(), 'weft-x509-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function derError(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(DerError);
    return (error as Error).message;
  }
}

function newCsr(uris: readonly string[] = [SPIFFE_ID]): Buffer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return buildCertificationRequest({ privateKey, publicKey, uris });
}

describe('readDer', () => {
  it('reads nested elements with their exact byte ranges', () => {
    const bytes = encodeDer(der.sequence([der.oid(Oids.subjectAltName), der.sequence([der.boolean(true)])]));
    const root = readDer(bytes);
    expect(root.children).toHaveLength(2);
    expect(root.children[1]?.start).toBe(2 + 5);
    expect(root.end).toBe(bytes.length);
  });

  const refused: [string, number[], RegExp][] = [
    ['indefinite lengths (BER)', [0x30, 0x80, 0x05, 0x00, 0x00, 0x00], /indefinite length/],
    ['trailing bytes', [0x05, 0x00, 0x00], /trailing byte/],
    ['non-minimal lengths', [0x04, 0x81, 0x01, 0x41], /non-minimal length/],
    ['lengths past the input', [0x04, 0x05, 0x41], /claims 5 bytes/],
    ['a primitive SEQUENCE', [0x10, 0x00], /must be constructed/],
    ['a constructed INTEGER', [0x22, 0x00], /must be primitive/],
    ['a non-minimal high tag number', [0x1f, 0x05, 0x00], /non-minimal tag/],
    ['an empty input', [], /empty/],
  ];
  for (const [what, bytes, reason] of refused) {
    it(`refuses ${what}`, () => {
      expect(derError(() => readDer(Buffer.from(bytes)))).toMatch(reason);
    });
  }

  it('refuses nesting deeper than its cap, without recursion', () => {
    let nested = Buffer.from([0x05, 0x00]);
    for (let level = 0; level < 10_000; level += 1) {
      const length = nested.length;
      const header =
        length < 0x80
          ? Buffer.from([0x30, length])
          : length < 0x100
            ? Buffer.from([0x30, 0x81, length])
            : length < 0x10000
              ? Buffer.from([0x30, 0x82, length >> 8, length & 0xff])
              : Buffer.from([0x30, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
      nested = Buffer.concat([header, nested]);
    }
    expect(derError(() => readDer(nested, { maxBytes: 1 << 20, maxDepth: 16, maxNodes: 100_000 }))).toMatch(
      /nests deeper than 16/,
    );
  });

  it('refuses more elements than its cap, and input over its size cap before reading it', () => {
    const many = encodeDer(der.sequence(Array.from({ length: 50 }, () => der.null())));
    expect(derError(() => readDer(many, { maxBytes: 1024, maxDepth: 4, maxNodes: 10 }))).toMatch(
      /more than 10 elements/,
    );
    expect(derError(() => readDer(Buffer.alloc(70_000)))).toMatch(/over the 65536-byte cap/);
  });

  it('refuses OBJECT IDENTIFIER arcs that are non-minimal or too large to be exact', () => {
    const oid = (content: number[]): Buffer => Buffer.from([0x06, content.length, ...content]);
    expect(readOid(oid([0x2a, 0x03]), readDer(oid([0x2a, 0x03])), 'oid')).toBe('1.2.3');
    const nonMinimal = oid([0x2a, 0x80, 0x03]);
    expect(derError(() => readOid(nonMinimal, readDer(nonMinimal), 'oid'))).toMatch(/non-minimal/);
    const huge = oid([0x2a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(derError(() => readOid(huge, readDer(huge), 'oid'))).toMatch(/too large/);
  });

  it('answers any input with a tree or a DerError, never anything else (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          readDer(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(DerError);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('certification requests', () => {
  it('round-trips: the reader finds the key, the SPIFFE ID, and a valid self-signature', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const csr = readCertificationRequest(
      buildCertificationRequest({ privateKey, publicKey, uris: [SPIFFE_ID] }),
    );
    expect(csr.subjectAltNames?.uris).toEqual([SPIFFE_ID]);
    expect(csr.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      publicKey.export({ type: 'spki', format: 'der' }),
    );
    expect(csr.subject).toEqual(Buffer.from([0x30, 0x00]));
    expect(csr.otherAttributes).toEqual([]);
  });

  it.skipIf(!hasOpenssl)('is accepted by openssl req -verify', () => {
    const file = join(scratch, 'request.pem');
    writeFileSync(file, toPem(newCsr(), 'CERTIFICATE REQUEST'));
    const result = spawnSync('openssl', ['req', '-in', file, '-verify', '-noout'], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toMatch(/verify OK/);
  });

  it('refuses a request whose signed part was altered (the signature is checked over the bytes received)', () => {
    const csr = newCsr();
    const at = csr.indexOf(Buffer.from('spiffe://example.org'));
    const altered = Buffer.from(csr);
    altered[at + 'spiffe://'.length] = 'x'.charCodeAt(0); // spiffe://xxample.org…
    expect(derError(() => readCertificationRequest(altered))).toMatch(/not signed by the key it carries/);
  });

  it('refuses trailing garbage, and a request over 8 KiB before parsing it', () => {
    expect(derError(() => readCertificationRequest(Buffer.concat([newCsr(), Buffer.from([0])])))).toMatch(
      /trailing/,
    );
    expect(derError(() => readCertificationRequest(Buffer.alloc(9 * 1024, 0x30)))).toMatch(
      /over the 8192-byte cap/,
    );
  });

  it('answers mutated requests with a verified request or a DerError, never anything else (fuzz)', () => {
    const csr = newCsr();
    fc.assert(
      fc.property(fc.nat({ max: csr.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const mutated = Buffer.from(csr);
        mutated[at] = byte;
        try {
          readCertificationRequest(mutated);
        } catch (error) {
          expect(error).toBeInstanceOf(DerError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('certificates', () => {
  it('counts URI SANs with its own parser, where node joins them into one string', () => {
    const ca = createTestCa();
    const evil = 'spiffe://evil.org/ns/x/sa/y';
    const leaf = ca.issue(SPIFFE_ID, { uris: [SPIFFE_ID, evil] });
    expect(leaf.certificate.subjectAltName).toBe(`URI:${SPIFFE_ID}, URI:${evil}`);
    expect(readCertificate(leaf.der).subjectAltNames?.uris).toEqual([SPIFFE_ID, evil]);
  });

  it('refuses a certificate that carries the same extension twice (two SAN extensions of one URI each)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const name = distinguishedName([{ type: 'O', value: 'test' }]);
    const twice = buildCertificate(
      {
        serialNumber: serial(),
        issuer: name,
        subject: Buffer.from([0x30, 0x00]),
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3_600_000),
        publicKey,
        extensions: [
          extensions.subjectAltName({ uris: [SPIFFE_ID] }, true),
          extensions.subjectAltName({ uris: ['spiffe://evil.org/ns/x/sa/y'] }, true),
        ],
      },
      privateKey,
    );
    expect(derError(() => readCertificate(twice))).toMatch(/appears more than once/);
  });

  it.skipIf(!hasOpenssl)('builds certificates OpenSSL verifies, with the key usages it was asked for', () => {
    const ca = createTestCa();
    const leaf = ca.issue(SPIFFE_ID);
    writeFileSync(join(scratch, 'root.pem'), ca.rootPem);
    writeFileSync(join(scratch, 'leaf.pem'), leaf.pem);
    const verified = spawnSync(
      'openssl',
      ['verify', '-CAfile', join(scratch, 'root.pem'), join(scratch, 'leaf.pem')],
      {
        encoding: 'utf8',
      },
    );
    expect(verified.stdout).toMatch(/leaf\.pem: OK/);
    const text = spawnSync('openssl', ['x509', '-in', join(scratch, 'leaf.pem'), '-text', '-noout'], {
      encoding: 'utf8',
    }).stdout;
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/Digital Signature/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
  });

  it('reads PEM bundles strictly: other labels and broken base64 are refused', () => {
    const ca = createTestCa();
    expect(readPemBlocks(`subject=whatever\n${ca.rootPem}${ca.rootPem}`, 'CERTIFICATE')).toHaveLength(2);
    expect(
      derError(() => readPemBlocks(ca.rootPem.replace(/CERTIFICATE/g, 'PRIVATE KEY'), 'CERTIFICATE')),
    ).toMatch(/expected PEM CERTIFICATE/);
    const lines = ca.rootPem.split('\n');
    const broken = [lines[0], `*${lines[1]?.slice(1)}`, ...lines.slice(2)].join('\n');
    expect(derError(() => readPemBlocks(broken, 'CERTIFICATE'))).toMatch(/not valid base64/);
    expect(new X509Certificate(readPemBlocks(ca.rootPem, 'CERTIFICATE')[0] as Buffer).ca).toBe(true);
  });
});
