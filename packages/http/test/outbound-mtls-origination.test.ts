/**
 * TLS origination to external hosts (issue 5): DestinationRule `tls.mode` SIMPLE and MUTUAL for a
 * ServiceEntry host, with `sni`, `subjectAltNames`, `caCertificates`, `clientCertificate` and
 * `privateKey` files, `insecureSkipVerify`; `credentialName` refused by name. The "external" host
 * is a node:https server on 127.0.0.1 with a certificate from its own CA. A TLS failure is never
 * followed by plaintext.
 */
import { createTestCa } from '@weft/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { joinDocuments } from '../../core/test/support/istio-yaml.ts';
import { ERROR_CODE_HEADER } from '../src/index.ts';
import { createMtlsHarness } from './support/mtls-harness.ts';
import { pemFiles } from './support/pem-files.ts';

const HOST = 'api.example.com';
const URL = `http://${HOST}/v1/items`;

const harness = createMtlsHarness();
const files = pemFiles();
afterEach(() => harness.close());
beforeAll(() => () => files.remove());

/** The external service's own CA (not the mesh's), and a certificate for api.example.com from it. */
const externalCa = createTestCa('external.example');
const serverLeaf = externalCa.issue(undefined, { dnsNames: [HOST] });
const caFile = files.write('external-ca.pem', externalCa.rootPem);

/** A ServiceEntry for api.example.com port 80 → 127.0.0.1:`port`, and a DestinationRule with `tls`. */
function external(port: number, tls: string): string {
  return joinDocuments(
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api, namespace: default }
spec:
  hosts: [${HOST}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${port} } }]
`,
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: api, namespace: default }
spec:
  host: ${HOST}
  trafficPolicy:
    tls: ${tls}
`,
  );
}

async function externalServer(leaf = serverLeaf, extra: Record<string, unknown> = {}) {
  return harness.customUpstream('api', { cert: leaf.pem, key: leaf.keyPem, minVersion: 'TLSv1.2', ...extra });
}

describe('SIMPLE', () => {
  it('originates TLS with the configured SNI, trusting the CA file and checking subjectAltNames', async () => {
    const server = await externalServer();
    const client = harness.client(
      external(
        server.port,
        `{ mode: SIMPLE, caCertificates: ${caFile}, sni: ${HOST}, subjectAltNames: [${HOST}] }`,
      ),
      [],
    );
    expect(await client.get(URL)).toMatchObject({ status: 200, body: 'api' });
    expect(server.requests).toEqual([
      { path: '/v1/items', host: HOST, clientId: undefined, clientSerial: undefined, sni: HOST },
    ]);
    expect(client.tlsEvents).toEqual([
      expect.objectContaining({ type: 'handshake', mode: 'SIMPLE', cluster: `outbound|80||${HOST}` }),
    ]);
  });

  it('sends the request host as SNI when none is configured, and checks the certificate against it', async () => {
    const server = await externalServer();
    const client = harness.client(external(server.port, `{ mode: SIMPLE, caCertificates: ${caFile} }`), []);
    expect(await client.get(URL)).toMatchObject({ status: 200 });
    expect(server.requests[0]?.sni).toBe(HOST);
    const elsewhere = await externalServer(externalCa.issue(undefined, { dnsNames: ['other.example.com'] }));
    const refused = harness.client(
      external(elsewhere.port, `{ mode: SIMPLE, caCertificates: ${caFile} }`),
      [],
    );
    const result = await refused.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_UNAUTHENTICATED');
    expect(result.body).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(elsewhere.requests).toEqual([]);
  });

  it('refuses a certificate that names none of subjectAltNames', async () => {
    const server = await externalServer();
    const client = harness.client(
      external(
        server.port,
        `{ mode: SIMPLE, caCertificates: ${caFile}, subjectAltNames: [billing.example.com] }`,
      ),
      [],
    );
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_UNAUTHENTICATED');
    expect(result.body).toMatch(/certificate names api\.example\.com, none of billing\.example\.com/);
    expect(server.requests).toEqual([]);
    expect(client.tlsEvents).toEqual([
      expect.objectContaining({ type: 'handshake-failed', reason: 'san-mismatch' }),
    ]);
  });

  it('refuses a certificate the CA file did not sign', async () => {
    const server = await externalServer(createTestCa('rogue.example').issue(undefined, { dnsNames: [HOST] }));
    const client = harness.client(external(server.port, `{ mode: SIMPLE, caCertificates: ${caFile} }`), []);
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.body).toMatch(
      /the server's certificate was refused: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO)/,
    );
    expect(server.requests).toEqual([]);
  });

  it('with insecureSkipVerify, encrypts to a server it cannot authenticate', async () => {
    const server = await externalServer(
      createTestCa('rogue.example').issue(undefined, { dnsNames: ['x.invalid'] }),
    );
    const client = harness.client(external(server.port, '{ mode: SIMPLE, insecureSkipVerify: true }'), []);
    expect(await client.get(URL)).toMatchObject({ status: 200, body: 'api' });
    expect(server.handshakes).toBe(1);
  });
});

describe('MUTUAL', () => {
  const clientCa = createTestCa('partner.example');
  const clientLeaf = clientCa.issue(undefined, { dnsNames: ['productpage.partner.example'] });
  const clientCertificate = files.write('client.pem', clientLeaf.pem);
  const privateKey = files.write('client-key.pem', clientLeaf.keyPem);

  it('presents the client certificate from the files to a server that requires one', async () => {
    const server = await externalServer(serverLeaf, {
      ca: clientCa.rootPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const client = harness.client(
      external(
        server.port,
        `{ mode: MUTUAL, caCertificates: ${caFile}, clientCertificate: ${clientCertificate}, privateKey: ${privateKey} }`,
      ),
      [],
    );
    expect(await client.get(URL)).toMatchObject({ status: 200, body: 'api' });
    expect(server.requests[0]?.clientSerial).toBe(clientLeaf.certificate.serialNumber.toLowerCase());
  });

  it('refuses, naming the file, when a certificate file does not read; nothing is sent', async () => {
    const server = await externalServer();
    const missing = `${clientCertificate}.missing`;
    const client = harness.client(
      external(server.port, `{ mode: MUTUAL, clientCertificate: ${missing}, privateKey: ${privateKey} }`),
      [],
    );
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.body).toContain(`clientCertificate ${missing} cannot be read`);
    expect(server.connections).toBe(0);
  });

  it('refuses credentialName by name: Weft reads certificates from files', async () => {
    const server = await externalServer();
    const client = harness.client(
      external(server.port, '{ mode: MUTUAL, credentialName: api-client-cert }'),
      [],
    );
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_CONFIG_VALIDATION');
    expect(result.body).toMatch(/tls\.credentialName \(api-client-cert\) is not supported/);
    expect(server.connections).toBe(0);
  });
});

describe('no plaintext after a TLS failure', () => {
  it('retries a handshake with a server that does not speak TLS as a connect failure, always over TLS', async () => {
    const plain = await harness.plainUpstream('api-plaintext');
    const client = harness.client(external(plain.port, `{ mode: SIMPLE, caCertificates: ${caFile} }`), []);
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF', 'URX'] });
    expect(result.body).toMatch(/does not speak TLS on this port/);
    // Istio's default policy retries connect failures twice: three handshakes, no HTTP request.
    expect(plain.heads).toBe(0);
    expect(client.tlsEvents.map((event) => event.type === 'handshake-failed' && event.reason)).toEqual([
      'handshake',
      'handshake',
      'handshake',
    ]);
  });

  it("never sends a caller's https:// request as plaintext", async () => {
    const server = await externalServer();
    const client = harness.client(
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api, namespace: default }
spec:
  hosts: [${HOST}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: https, protocol: HTTPS }]
  endpoints: [{ address: 127.0.0.1, ports: { https: ${server.port} } }]
`,
      [],
    );
    // No DestinationRule: verified as the caller's own https request would be, against the
    // system's roots, which do not include this test CA.
    const result = await client.get(`https://${HOST}/v1/items`);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(result.headers[ERROR_CODE_HEADER]).toBe('WEFT_ERR_UNAUTHENTICATED');
    expect(server.requests).toEqual([]);
    expect(server.clientErrors).not.toContain('ERR_SSL_HTTP_REQUEST');
  });
});
