/**
 * Secure ingress, end to end: Bookinfo started by the launcher with its gateway also serving
 * Gateway port 443 (`--listen 443=0`) and reading credentialName certificates from a directory
 * (`--credentials-dir`), then Weft's TLS task YAMLs (istio/tasks/bookinfo-gateway-tls-*.yaml,
 * Istio's "Secure Gateways" task shape) applied through the agent: the product page over https
 * with SNI bookinfo.example.com, SIMPLE and then MUTUAL. Certificates are made here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Oids } from '@weft/core';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bookinfo, startBookinfo } from '../src/launcher/bookinfo-launcher.ts';
import {
  createDemoCa,
  type IssuedCertificate,
  type SecureIngressFiles,
  writeSecureIngressFiles,
} from '../src/launcher/demo-credentials.ts';

/** A client certificate for client.example.com from a CA the credential does not trust. */
const stranger = createDemoCa('stranger Inc.').issue('client.example.com', Oids.clientAuth);

let bookinfo: Bookinfo;
let filesDir: string;
let files: SecureIngressFiles;

beforeAll(async () => {
  filesDir = mkdtempSync(join(tmpdir(), 'weft-bookinfo-credentials-'));
  // bookinfo-credential, laid out as the keys of a Kubernetes TLS secret, as npm start writes it.
  files = await writeSecureIngressFiles(filesDir);
  bookinfo = await startBookinfo({
    gatewayArgs: ['--listen', '443=0', '--credentials-dir', files.credentialsDir],
  });
}, 60_000);

afterAll(async () => {
  await bookinfo?.close();
  rmSync(filesDir, { recursive: true, force: true });
}, 30_000);

/** GET the product page on the gateway's port 443: TCP to 127.0.0.1, SNI and Host bookinfo.example.com. */
async function productPageOverTls(
  clientCertificate?: IssuedCertificate,
): Promise<{ status: number; body: string }> {
  const port = bookinfo.gatewayPorts.get(443);
  if (port === undefined) throw new Error('the gateway announced no port for 443');
  const dispatcher = new Agent({
    connect: {
      servername: 'bookinfo.example.com',
      ca: files.ca.caPem,
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
    const page = await productPageOverTls(files.client);
    expect(page.status).toBe(200);
    expect(page.body).toContain('The Comedy of Errors');
  });
});
