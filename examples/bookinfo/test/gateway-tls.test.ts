/**
 * Secure ingress, end to end: Bookinfo started by the launcher with its gateway also serving
 * Gateway port 443 (`--listen 443=0`) and reading credentialName certificates from a directory
 * (`--credentials-dir`), then Weft's TLS task YAMLs (istio/tasks/bookinfo-gateway-tls-*.yaml,
 * Istio's "Secure Gateways" task shape) applied through the agent: the product page over https
 * with SNI bookinfo.example.com, SIMPLE and then MUTUAL. Certificates are made here.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCertificate, distinguishedName, Oids, toPem, x509Extensions } from '@weft/core';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bookinfo, startBookinfo } from '../src/launcher/bookinfo-launcher.ts';

interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA (EC P-256, one day) that issues leaf certificates for DNS names, as the task's openssl steps do. */
function createCa(organization: string): {
  readonly caPem: string;
  issue(dnsName: string, usage: string): Issued;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const nowMs = Date.now();
  const name = distinguishedName([
    { type: 'O', value: organization },
    { type: 'CN', value: `${organization} ${randomBytes(4).toString('hex')}` },
  ]);
  const certificate = (
    subject: Buffer,
    key: KeyObject,
    extensions: Parameters<typeof buildCertificate>[0]['extensions'],
  ) =>
    buildCertificate(
      {
        serialNumber: Buffer.concat([Buffer.from([0x01]), randomBytes(15)]),
        issuer: name,
        subject,
        notBefore: new Date(nowMs - 60_000),
        notAfter: new Date(nowMs + 86_400_000),
        publicKey: key,
        extensions,
      },
      privateKey as KeyObject,
    );
  const caDer = certificate(name, publicKey, [
    x509Extensions.basicConstraints(true),
    x509Extensions.keyUsage(['keyCertSign', 'cRLSign']),
    x509Extensions.subjectKeyIdentifier(publicKey),
  ]);
  return {
    caPem: toPem(caDer, 'CERTIFICATE'),
    issue(dnsName, usage) {
      const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const der = certificate(distinguishedName([{ type: 'CN', value: dnsName }]), leaf.publicKey, [
        x509Extensions.basicConstraints(false),
        x509Extensions.keyUsage(['digitalSignature']),
        x509Extensions.subjectAltName({ dnsNames: [dnsName] }, false),
        x509Extensions.extendedKeyUsage([usage]),
      ]);
      return {
        certPem: toPem(der, 'CERTIFICATE'),
        keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      };
    },
  };
}

const ca = createCa('example Inc.');
const server = ca.issue('bookinfo.example.com', Oids.serverAuth);
const client = ca.issue('client.example.com', Oids.clientAuth);
const stranger = createCa('stranger Inc.').issue('client.example.com', Oids.clientAuth);

let bookinfo: Bookinfo;
let credentialsDir: string;

beforeAll(async () => {
  credentialsDir = mkdtempSync(join(tmpdir(), 'weft-bookinfo-credentials-'));
  // bookinfo-credential, laid out as the keys of a Kubernetes TLS secret.
  const secret = join(credentialsDir, 'bookinfo-credential');
  mkdirSync(secret);
  writeFileSync(join(secret, 'tls.crt'), server.certPem);
  writeFileSync(join(secret, 'tls.key'), server.keyPem);
  writeFileSync(join(secret, 'ca.crt'), ca.caPem);
  bookinfo = await startBookinfo({ gatewayArgs: ['--listen', '443=0', '--credentials-dir', credentialsDir] });
}, 60_000);

afterAll(async () => {
  await bookinfo?.close();
  rmSync(credentialsDir, { recursive: true, force: true });
}, 30_000);

/** GET the product page on the gateway's port 443: TCP to 127.0.0.1, SNI and Host bookinfo.example.com. */
async function productPageOverTls(clientCertificate?: Issued): Promise<{ status: number; body: string }> {
  const port = bookinfo.gatewayPorts.get(443);
  if (port === undefined) throw new Error('the gateway announced no port for 443');
  const dispatcher = new Agent({
    connect: {
      servername: 'bookinfo.example.com',
      ca: ca.caPem,
      ...(clientCertificate === undefined
        ? {}
        : { cert: clientCertificate.certPem, key: clientCertificate.keyPem }),
    },
  });
  try {
    const response = await request(`https://127.0.0.1:${port}/productpage`, {
      dispatcher,
      headers: { host: 'bookinfo.example.com' },
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    return { status: response.statusCode, body: await response.body.text() };
  } finally {
    await dispatcher.close();
  }
}

describe('Secure ingress (TLS) through the Bookinfo gateway', () => {
  it('before any TLS Gateway, port 443 serves nothing', async () => {
    await expect(productPageOverTls()).rejects.toThrow();
  });

  it('SIMPLE: serves the product page over https with the bookinfo-credential certificate', async () => {
    await bookinfo.apply('tasks/bookinfo-gateway-tls-simple.yaml');
    const page = await productPageOverTls();
    expect(page.status).toBe(200);
    expect(page.body).toContain('The Comedy of Errors');
    // The plain HTTP Gateway keeps serving beside it.
    const plain = await fetch(bookinfo.productPageUrl, { signal: AbortSignal.timeout(15_000) });
    expect(plain.status).toBe(200);
    await plain.body?.cancel();
  });

  it('MUTUAL: refuses clients without a certificate from ca.crt, serves those with one', async () => {
    await bookinfo.apply('tasks/bookinfo-gateway-tls-mutual.yaml');
    await expect(productPageOverTls()).rejects.toThrow();
    await expect(productPageOverTls(stranger)).rejects.toThrow();
    const page = await productPageOverTls(client);
    expect(page.status).toBe(200);
    expect(page.body).toContain('The Comedy of Errors');
  });
});
