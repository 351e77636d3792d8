/**
 * Shared by the identity-*.test.ts files: a small in-test CA built with Weft's own certificate
 * builder, that can also make the certificates a CA must never issue (two URI SANs, a CA leaf,
 * an expired one, one without clientAuth…), and TLS servers and clients on 127.0.0.1 whose
 * handshakes the tests observe. Everything started registers its teardown in `cleanups`.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { type ConnectionOptions, connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { IdentityMaterial } from '../src/security/identity/identity-material.ts';
import {
  certificateSha256,
  type TrustBundle,
  trustBundleVersion,
} from '../src/security/identity/trust-bundle.ts';
import {
  buildCertificate,
  type CertificateExtension,
  distinguishedName,
  extensions,
} from '../src/security/x509/certificate-builder.ts';
import type { KeyUsageName } from '../src/security/x509/oids.ts';
import { Oids } from '../src/security/x509/oids.ts';
import { toPem } from '../src/security/x509/pem.ts';

export const cleanups: (() => Promise<unknown> | unknown)[] = [];

export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

const HOUR_MS = 3_600_000;

export interface LeafOptions {
  /** URI SANs; default the one SPIFFE ID given to `issue`. */
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly isCa?: boolean;
  readonly keyUsage?: readonly KeyUsageName[];
  /** null: no extendedKeyUsage extension at all. */
  readonly extendedKeyUsage?: readonly string[] | null;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly publicKey?: KeyObject;
}

export interface IssuedLeaf {
  readonly pem: string;
  readonly der: Buffer;
  readonly certificate: X509Certificate;
  readonly keyPem: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface TestCa {
  readonly trustDomain: string;
  readonly rootPem: string;
  readonly root: X509Certificate;
  readonly privateKey: KeyObject;
  readonly bundle: TrustBundle;
  issue(spiffeId: string, options?: LeafOptions): IssuedLeaf;
  material(leaf: IssuedLeaf, spiffeId: string): IdentityMaterial;
}

export function serial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes;
}

export function createTestCa(trustDomain = 'example.org', nowMs = Date.now()): TestCa {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = distinguishedName([
    { type: 'O', value: trustDomain },
    { type: 'CN', value: `test root ${randomBytes(4).toString('hex')}` },
  ]);
  const rootDer = buildCertificate(
    {
      serialNumber: serial(),
      issuer: name,
      subject: name,
      notBefore: new Date(nowMs - HOUR_MS),
      notAfter: new Date(nowMs + 100 * 24 * HOUR_MS),
      publicKey,
      extensions: [
        extensions.basicConstraints(true),
        extensions.keyUsage(['keyCertSign', 'cRLSign']),
        extensions.subjectKeyIdentifier(publicKey),
      ],
    },
    privateKey,
  );
  const root = new X509Certificate(rootDer);
  const rootPem = toPem(rootDer, 'CERTIFICATE');
  const rootSha256 = certificateSha256(rootDer);
  const bundle: TrustBundle = {
    trustDomain,
    roots: [rootPem],
    signingRootSha256: rootSha256,
    version: trustBundleVersion([rootSha256], rootSha256),
  };
  const ca: TestCa = {
    trustDomain,
    rootPem,
    root,
    privateKey,
    bundle,
    issue(spiffeId, options = {}) {
      const keys =
        options.publicKey === undefined ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : undefined;
      const leafPublic = options.publicKey ?? (keys?.publicKey as KeyObject);
      const leafExtensions: CertificateExtension[] = [
        extensions.basicConstraints(options.isCa === true),
        extensions.keyUsage(options.keyUsage ?? ['digitalSignature']),
        extensions.subjectAltName(
          { uris: options.uris ?? [spiffeId], dnsNames: options.dnsNames ?? [] },
          true,
        ),
      ];
      if (options.extendedKeyUsage !== null) {
        leafExtensions.push(
          extensions.extendedKeyUsage(options.extendedKeyUsage ?? [Oids.serverAuth, Oids.clientAuth]),
        );
      }
      const der = buildCertificate(
        {
          serialNumber: serial(),
          issuer: name,
          subject: Buffer.from([0x30, 0x00]),
          notBefore: options.notBefore ?? new Date(nowMs - 60_000),
          notAfter: options.notAfter ?? new Date(nowMs + HOUR_MS),
          publicKey: leafPublic,
          extensions: leafExtensions,
        },
        privateKey,
      );
      const leafPrivate = keys?.privateKey;
      return {
        pem: toPem(der, 'CERTIFICATE'),
        der,
        certificate: new X509Certificate(der),
        keyPem: (leafPrivate?.export({ type: 'pkcs8', format: 'pem' }) as string | undefined) ?? '',
        privateKey: leafPrivate as KeyObject,
        publicKey: leafPublic,
      };
    },
    material(leaf, spiffeId) {
      return {
        spiffeId,
        trustDomain,
        certChainPem: leaf.pem,
        keyPem: leaf.keyPem,
        trustBundlePem: [rootPem],
        trustBundleVersion: bundle.version,
        serialNumber: leaf.certificate.serialNumber.toLowerCase(),
        issuer: leaf.certificate.issuer,
        notBefore: new Date(leaf.certificate.validFrom),
        notAfter: new Date(leaf.certificate.validTo),
      };
    },
  };
  return ca;
}

/** A TLS server on 127.0.0.1 port 0 that answers every accepted connection with `reply(socket)`. */
export async function startTlsServer(
  options: Parameters<typeof createServer>[0],
  onSecure: (socket: TLSSocket) => void,
): Promise<{ readonly server: Server; readonly port: number; readonly errors: Error[] }> {
  const errors: Error[] = [];
  const server = createServer(options, onSecure);
  server.on('tlsClientError', (error) => errors.push(error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port: (server.address() as { port: number }).port, errors };
}

export type Exchange =
  | { readonly ok: true; readonly data: string; readonly peerCertificate: X509Certificate | undefined }
  | { readonly ok: false; readonly error: Error & { code?: string } };

/**
 * Connects, waits for the server's first bytes (or the end), and reports what happened. Reading
 * before judging matters under TLS 1.3: a server's refusal of the client certificate arrives
 * after the client's handshake completed (bad-inputs E4).
 */
export function exchange(options: ConnectionOptions): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(options);
    let data = '';
    let settled = false;
    const finish = (result: Exchange): void => {
      if (settled) return;
      settled = true;
      resolve(result);
      socket.destroy();
    };
    socket.setEncoding('utf8');
    const success = (): Exchange => ({ ok: true, data, peerCertificate: socket.getPeerX509Certificate() });
    socket.on('data', (chunk: string) => {
      data += chunk;
      finish(success());
    });
    socket.on('error', (error) => finish({ ok: false, error }));
    socket.on('end', () =>
      finish(data === '' ? { ok: false, error: new Error('closed without data') } : success()),
    );
  });
}
