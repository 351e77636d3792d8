import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  boundVirtualService,
  joinDocuments as documents,
  gatewayYaml,
} from '../../core/test/support/istio-yaml.ts';
import {
  eventually,
  get,
  getWithSni,
  servedCertificate,
  startGatewayScene,
  startUpstream,
  workloadOf,
} from './support/gateway-scene.ts';
import { createTestPki, type KeyAndCertificate, writeCredential } from './support/test-pki.ts';

const pki = createTestPki('gateway tls');
const foreign = createTestPki('foreign');

describe('@weft/gateway TLS termination', () => {
  const open: { close(): Promise<void> }[] = [];
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-gateway-tls-'));
  });
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a pair as `<name>.crt`/`<name>.key` in the test's directory; returns their paths. */
  function files(name: string, pair: KeyAndCertificate): { cert: string; key: string } {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    writeFileSync(cert, pair.certPem);
    writeFileSync(key, pair.keyPem);
    return { cert, key };
  }

  function caFile(): string {
    const path = join(dir, 'ca.crt');
    writeFileSync(path, pki.caPem);
    return path;
  }

  async function scene(servers: string, hosts: readonly string[] = ['*'], options = {}) {
    const productpage = await startUpstream('productpage');
    open.push(productpage);
    const started = await startGatewayScene(
      documents(
        gatewayYaml('secure', servers),
        boundVirtualService('pages', hosts, ['istio-system/secure'], 'productpage'),
      ),
      [workloadOf('productpage', productpage)],
      { listenPorts: { 443: 0, 8443: 0 }, ...options },
    );
    open.push(started);
    return started;
  }

  it('terminates SIMPLE TLS with the certificate from files and forwards as https', async () => {
    const server = files('bookinfo', pki.server(['bookinfo.example.com']));
    const gw = await scene(`- port: { number: 443, name: https, protocol: HTTPS }
  hosts: ["bookinfo.example.com"]
  tls: { mode: SIMPLE, serverCertificate: ${server.cert}, privateKey: ${server.key} }`);
    const answer = await get(gw.port(443), 'bookinfo.example.com', '/productpage', {
      servername: 'bookinfo.example.com',
      ca: pki.caPem,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('productpage /productpage host=bookinfo.example.com proto=https');
    // A client that trusts another CA refuses the gateway's certificate.
    await expect(
      get(gw.port(443), 'bookinfo.example.com', '/', {
        servername: 'bookinfo.example.com',
        ca: foreign.caPem,
      }),
    ).rejects.toThrow();
  });

  describe('MUTUAL', () => {
    async function mutualScene(extra = '') {
      const server = files('bookinfo', pki.server(['bookinfo.example.com']));
      return scene(`- port: { number: 443, name: https, protocol: HTTPS }
  hosts: ["bookinfo.example.com"]
  tls: { mode: MUTUAL, serverCertificate: ${server.cert}, privateKey: ${server.key}, caCertificates: ${caFile()}${extra} }`);
    }
    const tlsTo = (client?: KeyAndCertificate) => ({
      servername: 'bookinfo.example.com',
      ca: pki.caPem,
      ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }),
    });

    it('accepts a client certificate from caCertificates', async () => {
      const gw = await mutualScene();
      const client = pki.client({ dnsNames: ['client.example.com'] });
      const answer = await get(gw.port(443), 'bookinfo.example.com', '/productpage', tlsTo(client));
      expect(answer.status).toBe(200);
    });

    it('refuses a client without a certificate, and one whose certificate another CA signed', async () => {
      const gw = await mutualScene();
      await expect(get(gw.port(443), 'bookinfo.example.com', '/', tlsTo())).rejects.toThrow();
      const stranger = foreign.client({ dnsNames: ['client.example.com'] });
      await expect(get(gw.port(443), 'bookinfo.example.com', '/', tlsTo(stranger))).rejects.toThrow();
    });

    it('accepts only the subjectAltNames listed, when there are some', async () => {
      const gw = await mutualScene(', subjectAltNames: ["spiffe://partner.example.com/shop"]');
      const listed = pki.client({ uris: ['spiffe://partner.example.com/shop'] });
      const other = pki.client({ uris: ['spiffe://partner.example.com/other'] });
      expect((await get(gw.port(443), 'bookinfo.example.com', '/', tlsTo(listed))).status).toBe(200);
      await expect(get(gw.port(443), 'bookinfo.example.com', '/', tlsTo(other))).rejects.toThrow();
    });
  });

  it('picks the certificate by SNI among servers on one port, and keeps each server to its hosts', async () => {
    const alpha = files('alpha', pki.server(['alpha.example.com']));
    const beta = files('beta', pki.server(['beta.example.com']));
    const gw = await scene(
      `- port: { number: 443, name: https-alpha, protocol: HTTPS }
  hosts: ["alpha.example.com"]
  tls: { mode: SIMPLE, serverCertificate: ${alpha.cert}, privateKey: ${alpha.key} }
- port: { number: 443, name: https-beta, protocol: HTTPS }
  hosts: ["beta.example.com"]
  tls: { mode: SIMPLE, serverCertificate: ${beta.cert}, privateKey: ${beta.key} }`,
      ['alpha.example.com', 'beta.example.com'],
    );
    const port = gw.port(443);
    expect((await servedCertificate(port, 'alpha.example.com', pki.caPem)).subjectaltname).toBe(
      'DNS:alpha.example.com',
    );
    expect((await servedCertificate(port, 'beta.example.com', pki.caPem)).subjectaltname).toBe(
      'DNS:beta.example.com',
    );
    // An SNI no server lists finds no certificate.
    await expect(servedCertificate(port, 'gamma.example.com', pki.caPem)).rejects.toThrow();
    const tlsTo = (servername: string) => ({ servername, ca: pki.caPem });
    expect((await get(port, 'beta.example.com', '/', tlsTo('beta.example.com'))).status).toBe(200);
    // Connected to alpha's server, a request for beta's host is not alpha's to serve.
    const crossed = await getWithSni(port, 'alpha.example.com', 'beta.example.com', '/', pki.caPem);
    expect(crossed.status).toBe(404);
    expect(crossed.body).toContain('through istio-system/secure server "https-alpha" (port 443)');
  });

  it('verifies client certificates only for the MUTUAL server when SNI picks between it and a SIMPLE one', async () => {
    const open443 = files('open', pki.server(['open.example.com']));
    const closed = files('closed', pki.server(['closed.example.com']));
    const gw = await scene(
      `- port: { number: 443, name: https-open, protocol: HTTPS }
  hosts: ["open.example.com"]
  tls: { mode: SIMPLE, serverCertificate: ${open443.cert}, privateKey: ${open443.key} }
- port: { number: 443, name: https-closed, protocol: HTTPS }
  hosts: ["closed.example.com"]
  tls: { mode: MUTUAL, serverCertificate: ${closed.cert}, privateKey: ${closed.key}, caCertificates: ${caFile()} }`,
      ['open.example.com', 'closed.example.com'],
    );
    const port = gw.port(443);
    const client = pki.client({ dnsNames: ['client.example.com'] });
    const to = (host: string, withCertificate: boolean) =>
      get(port, host, '/', {
        servername: host,
        ca: pki.caPem,
        ...(withCertificate ? { cert: client.certPem, key: client.keyPem } : {}),
      });
    expect((await to('open.example.com', false)).status).toBe(200);
    expect((await to('closed.example.com', true)).status).toBe(200);
    await expect(to('closed.example.com', false)).rejects.toThrow();
  });

  it('reads credentialName from <credentialsDir>/<name>/tls.crt, tls.key and ca.crt', async () => {
    const credentials = join(dir, 'credentials');
    writeCredential(credentials, 'bookinfo-credential', pki.server(['bookinfo.example.com']), pki.caPem);
    const gw = await scene(
      `- port: { number: 443, name: https, protocol: HTTPS }
  hosts: ["bookinfo.example.com"]
  tls: { mode: MUTUAL, credentialName: bookinfo-credential }`,
      ['*'],
      { credentialsDir: credentials },
    );
    const client = pki.client({ dnsNames: ['client.example.com'] });
    const answer = await get(gw.port(443), 'bookinfo.example.com', '/', {
      servername: 'bookinfo.example.com',
      ca: pki.caPem,
      cert: client.certPem,
      key: client.keyPem,
    });
    expect(answer.status).toBe(200);
  });

  it('refuses a server whose certificate file is missing, naming Gateway, server, field and path, and serves the others', async () => {
    const good = files('good', pki.server(['good.example.com']));
    const missing = join(dir, 'missing.crt');
    const gw = await scene(
      `- port: { number: 443, name: https-good, protocol: HTTPS }
  hosts: ["good.example.com"]
  tls: { mode: SIMPLE, serverCertificate: ${good.cert}, privateKey: ${good.key} }
- port: { number: 8443, name: https-broken, protocol: HTTPS }
  hosts: ["*"]
  tls: { mode: SIMPLE, serverCertificate: ${missing}, privateKey: ${good.key} }`,
    );
    expect(gw.gateway.status().refused).toEqual([
      {
        gateway: 'istio-system/secure',
        server: 'https-broken',
        port: 8443,
        field: 'tls.serverCertificate',
        path: missing,
        reason: 'no such file',
      },
    ]);
    expect(gw.logs.map((entry) => entry.message)).toContain(
      `gateway: istio-system/secure server "https-broken" (port 8443) is not served [tls.serverCertificate ${missing}]: no such file`,
    );
    const answer = await get(gw.port(443), 'good.example.com', '/', {
      servername: 'good.example.com',
      ca: pki.caPem,
    });
    expect(answer.status).toBe(200);
    await expect(
      get(gw.port(8443), 'x.example.com', '/', { servername: 'x.example.com', ca: pki.caPem }),
    ).rejects.toThrow();
  });

  it('picks up rotated certificate files without a restart, and keeps the last good one over a bad rotation', async () => {
    const first = pki.server(['bookinfo.example.com']);
    const server = files('bookinfo', first);
    const gw = await scene(
      `- port: { number: 443, name: https, protocol: HTTPS }
  hosts: ["bookinfo.example.com"]
  tls: { mode: SIMPLE, serverCertificate: ${server.cert}, privateKey: ${server.key} }`,
      ['*'],
      { certificateCheckIntervalMs: 100 },
    );
    const port = gw.port(443);
    const before = await servedCertificate(port, 'bookinfo.example.com', pki.caPem);
    const second = pki.server(['bookinfo.example.com']);
    files('bookinfo', second);
    await eventually(async () => {
      const now = await servedCertificate(port, 'bookinfo.example.com', pki.caPem);
      expect(now.fingerprint256).not.toBe(before.fingerprint256);
    });
    const rotated = await servedCertificate(port, 'bookinfo.example.com', pki.caPem);
    // A rotation that writes a key of another certificate is refused; the second one keeps serving.
    writeFileSync(server.key, pki.server(['bookinfo.example.com']).keyPem);
    await eventually(() => expect(gw.gateway.status().staleCertificates).toHaveLength(1));
    expect(gw.gateway.status().staleCertificates[0]).toMatchObject({
      server: 'https',
      field: 'tls.privateKey',
      path: server.key,
      reason: `the private key does not match the certificate in ${server.cert}; the previous certificate keeps serving`,
    });
    expect((await servedCertificate(port, 'bookinfo.example.com', pki.caPem)).fingerprint256).toBe(
      rotated.fingerprint256,
    );
    expect(
      (await get(port, 'bookinfo.example.com', '/', { servername: 'bookinfo.example.com', ca: pki.caPem }))
        .status,
    ).toBe(200);
  });
});
