/**
 * PeerAuthentication on a Weft server (issue 5 "mTLS", issue 6 "Inbound"): the
 * STRICT/PERMISSIVE/DISABLE reachability matrix between a mesh client (mTLS with its SVID) and a
 * plaintext client, on one port told apart by the first byte; modes per port and by precedence;
 * a policy change applied to the next connection and to open ones; peers refused for another
 * trust domain, another CA, an expired certificate or none (openssl s_client); certificates
 * swapped without dropping connections; the identity taken from the mesh's slot.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { clientTlsOptions, type IdentityMaterial } from '@weft/core';
import { createTestCa, identityMaterialOf as materialOf, spiffeIdOf, TestIdentity } from '@weft/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createInboundHarness,
  type InboundHarness,
  type Outcome,
  peerAuthentication,
} from './support/inbound-harness.ts';
import { pemFiles } from './support/pem-files.ts';

const ca = createTestCa();
const REVIEWS = spiffeIdOf(ca.trustDomain, 'default', 'reviews');
const PRODUCTPAGE = spiffeIdOf(ca.trustDomain, 'default', 'productpage');

/** Tells the caller how it arrived: over TLS or not, the verified caller, its connection. */
function echo(request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      encrypted: (request.socket as Partial<TLSSocket>).encrypted === true,
      xfcc: request.headers['x-forwarded-client-cert'] ?? null,
      remotePort: request.socket.remotePort,
    }),
  );
}

function body(outcome: Outcome): { encrypted: boolean; xfcc: string | null; remotePort: number } {
  if (outcome.kind !== 'response') throw new Error(`no response: ${outcome.error.message}`);
  return JSON.parse(outcome.body);
}

let harness: InboundHarness;
beforeEach(() => {
  harness = createInboundHarness();
});
afterEach(() => harness.close());

async function reviewsServer(yaml: string, options: { identity?: TestIdentity | null } = {}) {
  const identity =
    options.identity === null
      ? undefined
      : (options.identity ?? new TestIdentity(ca.workload('default', 'reviews')));
  const mesh = harness.mesh('reviews', { yaml });
  const { server, port } = await harness.serve(mesh, echo, identity === undefined ? {} : { identity });
  return { mesh, server, port, identity };
}

describe('the reachability matrix on one port', () => {
  it.each([
    ['STRICT', { mtls: true, plaintext: false }],
    ['PERMISSIVE', { mtls: true, plaintext: true }],
    ['DISABLE', { mtls: false, plaintext: true }],
  ] as const)('%s: mesh client %j', async (mode, expected) => {
    const { port } = await reviewsServer(peerAuthentication(mode, { app: 'reviews' }));
    const meshClient = harness.mtls(ca.workload('default', 'productpage'), { allowedIds: [REVIEWS] });
    const plainClient = harness.plain();
    const overMtls = await meshClient.get(port);
    const overPlaintext = await plainClient.get(port);
    expect({ mtls: overMtls.kind === 'response', plaintext: overPlaintext.kind === 'response' }).toEqual(
      expected,
    );
    if (expected.mtls) {
      expect(body(overMtls)).toMatchObject({ encrypted: true, xfcc: `By=${REVIEWS};URI=${PRODUCTPAGE}` });
    }
    if (expected.plaintext) expect(body(overPlaintext)).toMatchObject({ encrypted: false, xfcc: null });
  });

  it('without any PeerAuthentication the mesh default is PERMISSIVE', async () => {
    const { port } = await reviewsServer('');
    expect((await harness.plain().get(port)).kind).toBe('response');
    expect(body(await harness.mtls(ca.workload('default', 'productpage')).get(port)).encrypted).toBe(true);
  });

  it('a plaintext caller cannot pass itself off as mTLS with a forged X-Forwarded-Client-Cert', async () => {
    const { port } = await reviewsServer(peerAuthentication('PERMISSIVE'));
    const outcome = await harness.plain().get(port, '/', { 'x-forwarded-client-cert': `URI=${PRODUCTPAGE}` });
    expect(body(outcome).xfcc).toBeNull();
  });
});

describe('which mode applies', () => {
  it('UNSET inherits: a mesh-wide STRICT holds under a namespace policy that sets nothing', async () => {
    const yaml = [
      peerAuthentication('STRICT', { namespace: 'istio-system' }),
      peerAuthentication('UNSET', { namespace: 'default' }),
    ].join('---\n');
    const { port } = await reviewsServer(yaml);
    expect((await harness.plain().get(port)).kind).toBe('refused');
    expect((await harness.mtls(ca.workload('default', 'productpage')).get(port)).kind).toBe('response');
  });

  it('portLevelMtls opens one port of a STRICT workload to plaintext, and only that port', async () => {
    const { mesh, port } = await reviewsServer('');
    const other = await harness.serve(mesh, echo, {
      identity: new TestIdentity(ca.workload('default', 'reviews')),
    });
    mesh.applyConfig({
      yaml: peerAuthentication('STRICT', { app: 'reviews', portLevel: { [port]: 'DISABLE' } }),
    });
    expect(body(await harness.plain().get(port)).encrypted).toBe(false);
    expect((await harness.plain().get(other.port)).kind).toBe('refused');
  });
});

describe('a policy change', () => {
  it('applies to the next connection, and closes an open plaintext connection at its next request', async () => {
    const { mesh, port } = await reviewsServer(peerAuthentication('PERMISSIVE', { app: 'reviews' }));
    const open = rawConnection(connectTcp(port, '127.0.0.1'));
    harness.onClose(open.close);
    expect(await open.ask('/one')).toContain('HTTP/1.1 200');
    mesh.applyConfig({ yaml: peerAuthentication('STRICT', { app: 'reviews' }) });
    expect(await open.ask('/two')).toBe('closed');
    expect((await harness.plain().get(port)).kind).toBe('refused');
    expect((await harness.mtls(ca.workload('default', 'productpage')).get(port)).kind).toBe('response');
    mesh.applyConfig({ yaml: peerAuthentication('PERMISSIVE', { app: 'reviews' }) });
    expect((await harness.plain().get(port)).kind).toBe('response');
  });

  it('counts every refused connection as a peer-authentication denial', async () => {
    const { mesh, port } = await reviewsServer(peerAuthentication('STRICT', { app: 'reviews' }));
    await harness.plain().get(port);
    await harness.plain().get(port);
    expect(mesh.telemetry.stats.get('weft.denials.peer-authentication')).toBe(2);
  });
});

describe('peers that are refused', () => {
  it('an SVID of another trust domain, from another CA', async () => {
    const { port } = await reviewsServer(peerAuthentication('STRICT', { app: 'reviews' }));
    const foreign = createTestCa('evil.example');
    const outcome = await harness.mtls(foreign.workload('default', 'productpage')).get(port);
    expect(outcome.kind).toBe('refused');
  });

  it('an SVID of another trust domain signed by the mesh CA, unless the domain is an alias', async () => {
    const foreignId = 'spiffe://legacy.example/ns/default/sa/productpage';
    const leaf = ca.issue(foreignId);
    // The client accepts the mesh's trust domain too, so only the server's check can refuse it.
    const material = materialOf(leaf, foreignId, 'legacy.example', [ca.rootPem]);
    const clientPolicy = { allowedIds: [REVIEWS], trustDomainAliases: [ca.trustDomain] };
    const strict = peerAuthentication('STRICT', { app: 'reviews' });
    const { port } = await reviewsServer(strict);
    expect((await harness.mtls(material, clientPolicy).get(port)).kind).toBe('refused');
    const mesh = harness.mesh('reviews', { yaml: strict });
    const aliased = await harness.serve(mesh, echo, {
      identity: new TestIdentity(ca.workload('default', 'reviews')),
      trustDomainAliases: ['legacy.example'],
    });
    const outcome = await harness.mtls(material, clientPolicy).get(aliased.port);
    expect(body(outcome).xfcc).toBe(`By=${REVIEWS};URI=${foreignId}`);
  });

  it('an expired certificate', async () => {
    const { port } = await reviewsServer(peerAuthentication('STRICT', { app: 'reviews' }));
    const expired = ca.workload('default', 'productpage', {
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
    expect((await harness.mtls(expired).get(port)).kind).toBe('refused');
    expect((await harness.mtls(ca.workload('default', 'productpage')).get(port)).kind).toBe('response');
  });

  it('openssl s_client without a client certificate gets no response from a STRICT port', async () => {
    const { port } = await reviewsServer(peerAuthentication('STRICT', { app: 'reviews' }));
    const files = pemFiles();
    harness.onClose(() => files.remove());
    const caller = ca.workload('default', 'productpage');
    const common = [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-CAfile',
      files.write('root.pem', ca.rootPem),
      '-quiet',
    ];
    const withoutCertificate = await openssl(common);
    expect(withoutCertificate.stdout).not.toContain('HTTP/1.1');
    expect(withoutCertificate.stderr).toMatch(/alert|certificate required/i);
    // The same command with the caller's SVID gets its answer: the refusal above is the server's.
    const withCertificate = await openssl([
      ...common,
      '-cert',
      files.write('cert.pem', caller.certChainPem),
      '-key',
      files.write('key.pem', caller.keyPem),
    ]);
    expect(withCertificate.stdout).toContain('HTTP/1.1 200');
  });

  it('every connection to a STRICT port while the workload has no certificate (fails closed)', async () => {
    const { port } = await reviewsServer(peerAuthentication('STRICT', { app: 'reviews' }), {
      identity: null,
    });
    expect((await harness.plain().get(port)).kind).toBe('refused');
    expect((await harness.mtls(ca.workload('default', 'productpage')).get(port)).kind).toBe('refused');
  });
});

describe('certificates', () => {
  it('are swapped on renewal: new connections get the new one, open ones keep working', async () => {
    const { port, identity } = await reviewsServer(peerAuthentication('STRICT', { app: 'reviews' }));
    const caller = ca.workload('default', 'productpage');
    const before = tlsConnection(port, caller);
    harness.onClose(before.close);
    const firstSerial = await before.serial;
    expect(firstSerial).toBe(identity?.current()?.serialNumber);
    expect(await before.ask('/one')).toContain('HTTP/1.1 200');
    const renewed = ca.workload('default', 'reviews');
    identity?.set(renewed);
    const after = tlsConnection(port, caller);
    harness.onClose(after.close);
    expect(await after.serial).toBe(renewed.serialNumber);
    expect(await before.ask('/two')).toContain('HTTP/1.1 200');
  });

  it('come from the mesh identity slot when no identity is given, also when it is filled later', async () => {
    const mesh = harness.mesh('reviews', { yaml: peerAuthentication('STRICT', { app: 'reviews' }) });
    const { server, port } = await harness.serve(mesh, echo);
    expect(server.isTlsReady).toBe(false);
    expect((await harness.mtls(ca.workload('default', 'productpage')).get(port)).kind).toBe('refused');
    mesh.setIdentity(new TestIdentity(ca.workload('default', 'reviews')));
    expect(server.isTlsReady).toBe(true);
    const outcome = await harness
      .mtls(ca.workload('default', 'productpage'), { allowedIds: [REVIEWS] })
      .get(port);
    expect(body(outcome).xfcc).toBe(`By=${REVIEWS};URI=${PRODUCTPAGE}`);
  });
});

/**
 * One kept-alive connection on which the test sends requests by hand and reads each answer (up to
 * the end of the echo's JSON), or `closed` when the server closed the connection instead.
 */
function rawConnection(socket: Socket) {
  let received = '';
  let isClosed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    isClosed = true;
  });
  return {
    async ask(path: string): Promise<string> {
      const before = received.length;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: reviews\r\n\r\n`);
      for (let round = 0; round < 400 && !isClosed && !received.slice(before).includes('}'); round++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const answer = received.slice(before);
      return answer === '' && isClosed ? 'closed' : answer;
    },
    close: () => socket.destroy(),
  };
}

/** A TLS connection as `material`: the server certificate's serial, and `ask` as rawConnection. */
function tlsConnection(port: number, material: IdentityMaterial) {
  const socket = connectTls({ host: '127.0.0.1', port, ...clientTlsOptions(material) });
  const serial = new Promise<string>((resolve, reject) => {
    socket.once('secureConnect', () =>
      resolve(socket.getPeerX509Certificate()?.serialNumber.toLowerCase() ?? ''),
    );
    socket.once('error', reject);
  });
  return { serial, ...rawConnection(socket) };
}

/** Runs openssl with one HTTP request on its standard input; killed after 10 s if it hangs. */
function openssl(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
    child.stdin.end('GET / HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n');
  });
}
