/**
 * ../shared/reference/bad-inputs.md section E (mTLS, SPIFFE identities, CA and rotation), row by
 * row, and the certificate-request side of B8 and B9. Real TLS handshakes on 127.0.0.1 with
 * node:tls, a real agent for the CA rows, OpenSSL's verdicts as node reports them. The outbound
 * transport's parts of E1, E4, E10 and E12 (retry classification, metrics, origination, session
 * caches) are in packages/http/test/bad-inputs-mtls.test.ts; the inbound one (E5, PERMISSIVE ports)
 * is in packages/http/test/bad-inputs-inbound.test.ts.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { checkServerIdentity, connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import {
  acceptTlsPeer,
  buildCertificationRequest,
  checkPeerCertificate,
  clientTlsOptions,
  ErrorCodes,
  followIdentity,
  PeerVerificationError,
  parseSpiffeId,
  readCertificate,
  readPemBlocks,
  SpiffeIdError,
  SvidRequester,
  serverTlsOptions,
  toPem,
  verifySvidChain,
  WorkloadCertificates,
} from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTestCa,
  exchange,
  type IssuedLeaf,
  runCleanups as runTlsCleanups,
  startTlsServer,
  type TestCa,
} from '../../core/test/identity-fixtures.ts';
import { BufferedSink } from '../src/cli/cli-io.ts';
import { main } from '../src/cli/main.ts';
import {
  ADMIN_TOKEN,
  call,
  cleanups,
  createToken,
  REVIEWS_ID,
  requestRenewal,
  requestWithToken,
  runCleanups,
  startIdentityAgent,
  TestWall,
  workloadKey,
} from './support/identity-harness.ts';

afterEach(async () => {
  await runCleanups();
  await runTlsCleanups();
});

const SERVER_ID = 'spiffe://example.org/ns/default/sa/reviews';
const CLIENT_ID = 'spiffe://example.org/ns/default/sa/productpage';
const HOUR_MS = 3_600_000;

function refusalOf(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return error instanceof PeerVerificationError ? error.refusal : `other: ${(error as Error).message}`;
  }
}

/** An mTLS server presenting `leaf` that greets accepted peers by SPIFFE ID. */
async function spiffeServer(ca: TestCa, leaf: IssuedLeaf, spiffeId = SERVER_ID) {
  const material = ca.material(leaf, spiffeId);
  return startTlsServer(serverTlsOptions(material), (socket: TLSSocket) => {
    try {
      socket.end(`hello ${acceptTlsPeer(socket, material).spiffeId.uri}`);
    } catch {
      socket.destroy();
    }
  });
}

describe('E1: peer certificate expired', () => {
  it('fails the handshake with CERT_HAS_EXPIRED, as a non-retryable authentication error', async () => {
    const ca = createTestCa();
    const now = Date.now();
    const { port } = await spiffeServer(
      ca,
      ca.issue(SERVER_ID, { notBefore: new Date(now - 2 * HOUR_MS), notAfter: new Date(now - HOUR_MS) }),
    );
    const result = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(ca.material(ca.issue(CLIENT_ID), CLIENT_ID)),
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('CERT_HAS_EXPIRED');
    // Outside TLS (a renewal proof), the same verdict is a PeerVerificationError with a stable reason.
    const expired = ca.issue(CLIENT_ID, {
      notBefore: new Date(now - 2 * HOUR_MS),
      notAfter: new Date(now - HOUR_MS),
    });
    expect(
      refusalOf(() =>
        verifySvidChain([expired.certificate], { trustDomain: 'example.org', roots: [ca.root], nowMs: now }),
      ),
    ).toBe('expired');
    expect(new PeerVerificationError('expired', 'x').code).toBe(ErrorCodes.unauthenticated);
  });

  it('renews our own SVID at no more than half its lifetime, against a real agent', async () => {
    const wall = new TestWall();
    const { url } = await startIdentityAgent({ wall });
    const { token } = await createToken(url);
    const clock = new FakeClock();
    const startMs = wall.now();
    const requester = new SvidRequester({ agents: [url], clock, timeoutMs: 5_000 });
    cleanups.push(() => requester.close());
    let requests = 0;
    const certificates = new WorkloadCertificates({
      spiffeId: parseSpiffeId(REVIEWS_ID),
      joinToken: token,
      send: (body, joinToken, signal) => {
        requests += 1;
        return requester.request(body, joinToken, signal);
      },
      clock,
      wallClock: () => startMs + clock.now(),
      random: { next: () => 0 }, // the latest renewal the jitter allows
    });
    cleanups.push(() => certificates.close());
    clock.advance(0);
    const first = await certificates.ready;
    // Half of what is left of it from when it arrived (notBefore is back-dated before that).
    const heldFromMs = Math.max(first.notBefore.getTime(), startMs);
    const halfLifeFromNow = heldFromMs + (first.notAfter.getTime() - heldFromMs) / 2 - startMs;
    clock.advance(halfLifeFromNow - 1);
    wall.advance(halfLifeFromNow - 1);
    expect(requests).toBe(1);
    clock.advance(1);
    wall.advance(1);
    const renewed = await new Promise((resolve) => certificates.events.renewed.on(resolve));
    expect(requests).toBe(2);
    expect(renewed).toBeDefined();
  });

  // The transport half (no retry of a handshake refused for expiry, weft_tls_handshake_failures_total):
  // packages/http/test/bad-inputs-mtls.test.ts, "E1".
});

describe('E2: peer certificate not yet valid (clock skew)', () => {
  it('fails the handshake with CERT_NOT_YET_VALID', async () => {
    const ca = createTestCa();
    const now = Date.now();
    const { port } = await spiffeServer(
      ca,
      ca.issue(SERVER_ID, { notBefore: new Date(now + HOUR_MS), notAfter: new Date(now + 2 * HOUR_MS) }),
    );
    const result = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(ca.material(ca.issue(CLIENT_ID), CLIENT_ID)),
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('CERT_NOT_YET_VALID');
  });

  it('the CA back-dates notBefore by 60 s: a peer 30 s behind accepts a fresh SVID, one 90 s behind does not', async () => {
    const { url, wall } = await startIdentityAgent();
    const { token } = await createToken(url);
    const answer = await requestWithToken(url, token);
    const bundle = answer.body.trustBundle;
    const chain = [new X509Certificate(answer.body.certificateChain)];
    const verification = (nowMs: number) => ({
      trustDomain: bundle.trustDomain,
      roots: [new X509Certificate(bundle.roots[0])],
      nowMs,
    });
    expect(verifySvidChain(chain, verification(wall.now() - 30_000)).spiffeId.uri).toBe(REVIEWS_ID);
    expect(refusalOf(() => verifySvidChain(chain, verification(wall.now() - 90_000)))).toBe('not-yet-valid');
  });
});

describe('E3: wrong trust domain', () => {
  it('refuses a chain from a CA outside the bundle during the handshake', async () => {
    const ours = createTestCa();
    const theirs = createTestCa();
    const { port } = await spiffeServer(theirs, theirs.issue(SERVER_ID));
    const result = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(ours.material(ours.issue(CLIENT_ID), CLIENT_ID)),
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']).toContain(result.error.code);
  });

  it('refuses a valid chain for a foreign trust domain, unless that domain is an alias', () => {
    const ca = createTestCa();
    const foreign = ca.issue('spiffe://evil.org/ns/default/sa/reviews');
    expect(refusalOf(() => checkPeerCertificate(foreign.certificate, 'example.org', {}, 'server'))).toBe(
      'foreign-trust-domain',
    );
    expect(
      refusalOf(() =>
        checkPeerCertificate(
          foreign.certificate,
          'example.org',
          { trustDomainAliases: ['evil.org'] },
          'server',
        ),
      ),
    ).toBe('accepted');
  });

  it('the agent never issues an SVID of another trust domain', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const answer = await requestWithToken(
      url,
      token,
      workloadKey(['spiffe://evil.org/ns/default/sa/bookinfo-reviews']),
    );
    expect(answer.status).toBe(403);
  });
});

describe('E4: client certificate missing under STRICT', () => {
  it('is refused; under TLS 1.3 the client learns it on its first read (CERTIFICATE_REQUIRED)', async () => {
    const ca = createTestCa();
    const { port } = await spiffeServer(ca, ca.issue(SERVER_ID));
    let wasAuthorizedAtConnect: boolean | undefined;
    const result = await exchange({
      host: '127.0.0.1',
      port,
      ca: [ca.rootPem],
      checkServerIdentity: (_host, certificate) => {
        wasAuthorizedAtConnect =
          checkPeerCertificate(certificate.raw, 'example.org', {}, 'server').spiffeId.uri === SERVER_ID;
        return undefined;
      },
    });
    expect(wasAuthorizedAtConnect).toBe(true);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });

  // The transport half (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED on the first read is an
  // authentication failure, not a reset to retry): packages/http/test/bad-inputs-mtls.test.ts, "E4".
});

// E5 (a PERMISSIVE port serves plaintext, and principal/namespace rules never match it) needs the
// inbound server: packages/http/test/bad-inputs-inbound.test.ts, "E5".

describe('E6: two URI SANs, or none', () => {
  it("refuses both in the handshake, counting SANs with an X.509 parser rather than splitting node's string", async () => {
    const ca = createTestCa();
    const two = ca.issue(SERVER_ID, { uris: [SERVER_ID, 'spiffe://evil.org/ns/x/sa/y'] });
    expect(two.certificate.subjectAltName).toBe(`URI:${SERVER_ID}, URI:spiffe://evil.org/ns/x/sa/y`);
    for (const leaf of [two, ca.issue(SERVER_ID, { uris: [], dnsNames: ['reviews'] })]) {
      const { port } = await spiffeServer(ca, leaf);
      const result = await exchange({
        host: '127.0.0.1',
        port,
        ...clientTlsOptions(ca.material(ca.issue(CLIENT_ID), CLIENT_ID)),
      });
      expect(result.ok).toBe(false);
      if (!result.ok) expect((result.error as PeerVerificationError).refusal).toBe('not-an-svid');
    }
  });

  it('the agent refuses a CSR asking for two URI SANs', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const answer = await requestWithToken(
      url,
      token,
      workloadKey([REVIEWS_ID, 'spiffe://cluster.local/ns/kube-system/sa/admin']),
    );
    expect(answer.status).toBe(403);
  });
});

describe('E7: URI SAN not checked at all', () => {
  it("node's own checkServerIdentity ignores URI SANs; Weft's checks them on both sides", async () => {
    const ca = createTestCa();
    const leaf = ca.issue(SERVER_ID);
    const legacy = { ...leaf.certificate.toLegacyObject(), raw: leaf.der } as PeerCertificate;
    expect(checkServerIdentity('reviews', legacy)?.message).toMatch(
      /does not contain a DNS name|not in the cert's altnames/,
    );
    const { port } = await spiffeServer(ca, leaf);
    const client = ca.material(ca.issue(CLIENT_ID), CLIENT_ID);
    const right = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(client, { allowedIds: [SERVER_ID] }),
    });
    expect(right.ok && right.data).toBe(`hello ${CLIENT_ID}`);
    const wrong = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(client, { allowedIds: ['spiffe://example.org/ns/default/sa/ratings'] }),
    });
    expect(wrong.ok).toBe(false);
  });
});

describe('E8: a leaf that is a CA, or has keyCertSign', () => {
  it('is refused as a peer identity', () => {
    const ca = createTestCa();
    const caLeaf = ca.issue(SERVER_ID, { isCa: true, keyUsage: ['digitalSignature', 'keyCertSign'] });
    const signer = ca.issue(SERVER_ID, { keyUsage: ['digitalSignature', 'keyCertSign'] });
    expect(refusalOf(() => checkPeerCertificate(caLeaf.certificate, 'example.org', {}, 'server'))).toBe(
      'not-an-svid',
    );
    expect(refusalOf(() => checkPeerCertificate(signer.certificate, 'example.org', {}, 'server'))).toBe(
      'not-an-svid',
    );
  });

  it('the agent never issues one, even when the CSR asks for cA=true', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const answer = await requestWithToken(url, token);
    const facts = readCertificate(readPemBlocks(answer.body.certificateChain, 'CERTIFICATE')[0] as Buffer);
    expect(facts.basicConstraints?.isCa).toBe(false);
    expect(facts.keyUsage?.has('keyCertSign')).toBe(false);
  });
});

describe('E9: malformed SPIFFE IDs', () => {
  it('are refused at parse (the fuzzing is in core identity-spiffe-id.test.ts)', () => {
    for (const text of [
      'spiffe://Cluster.local/ns/a/sa/b',
      'spiffe://cluster.local/ns/a%2Fb/sa/c',
      'spiffe://cluster.local/ns/../sa/b',
      'spiffe://cluster.local/ns/a/sa/b/',
      'spiffe://cluster.local:443/ns/a/sa/b',
      'spiffe://user@cluster.local/ns/a/sa/b',
      'spiffe://cluster.local/ns/a/sa/b?q',
      `spiffe://cluster.local/${'a'.repeat(2100)}`,
    ]) {
      expect(() => parseSpiffeId(text), text).toThrow(SpiffeIdError);
    }
  });

  it('a leaf whose URI SAN is a malformed SPIFFE ID is not an SVID', () => {
    const ca = createTestCa();
    const leaf = ca.issue(SERVER_ID, { uris: ['spiffe://example.org/ns/a/../sa/b'] });
    expect(refusalOf(() => checkPeerCertificate(leaf.certificate, 'example.org', {}, 'server'))).toBe(
      'not-an-svid',
    );
  });
});

describe('E10: wildcard DNS SANs', () => {
  it('SVIDs carry no DNS names: the agent refuses a CSR asking for *.example.com', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const csr = buildCertificationRequest({
      privateKey,
      publicKey,
      uris: [REVIEWS_ID],
      dnsNames: ['*.example.com'],
    });
    const answer = await call(url, 'POST', '/v1/certificates', {
      token,
      body: { csr: toPem(csr, 'CERTIFICATE REQUEST') },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toMatch(/\*\.example\.com/);
  });

  // Origination to external hosts (SIMPLE/MUTUAL) matching a wildcard against exactly one label:
  // packages/http/test/bad-inputs-mtls.test.ts, "E10".
});

describe('E11: SAN type confusion and extended key usage', () => {
  it('a SPIFFE ID in a DNS SAN is not a URI SAN', () => {
    const ca = createTestCa();
    const confused = ca.issue(SERVER_ID, { uris: [], dnsNames: ['spiffe.example.org'] });
    expect(refusalOf(() => checkPeerCertificate(confused.certificate, 'example.org', {}, 'server'))).toBe(
      'not-an-svid',
    );
  });

  it('a client certificate without clientAuth, and a server one without serverAuth, are refused', async () => {
    const ca = createTestCa();
    const serverOnly = ca.issue(CLIENT_ID, { extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] });
    expect(refusalOf(() => checkPeerCertificate(serverOnly.certificate, 'example.org', {}, 'client'))).toBe(
      'not-an-svid',
    );
    const { port } = await spiffeServer(ca, ca.issue(SERVER_ID, { extendedKeyUsage: ['1.3.6.1.5.5.7.3.2'] }));
    const result = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(ca.material(ca.issue(CLIENT_ID), CLIENT_ID)),
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('INVALID_PURPOSE');
  });
});

describe('E12: TLS session resumption after a trust change', () => {
  it('a server that swapped its secure context (followIdentity) does not resume sessions from before', async () => {
    const ca = createTestCa();
    const serverMaterial = ca.material(ca.issue(SERVER_ID), SERVER_ID);
    const listeners: ((material: typeof serverMaterial) => void)[] = [];
    const source = {
      current: () => serverMaterial,
      onChange: (listener: (material: typeof serverMaterial) => void) => {
        listeners.push(listener);
        return () => {};
      },
    };
    const { server, port } = await startTlsServer(serverTlsOptions(serverMaterial), (socket) =>
      socket.end('hi'),
    );
    followIdentity(server, source);
    const client = clientTlsOptions(ca.material(ca.issue(CLIENT_ID), CLIENT_ID));
    const connectOnce = (session?: Buffer) =>
      new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
        let ticket: Buffer | undefined;
        const socket = connect({
          host: '127.0.0.1',
          port,
          ...client,
          ...(session === undefined ? {} : { session }),
        });
        socket.on('session', (value: Buffer) => {
          ticket = value;
        });
        socket.on('error', reject);
        socket.on('data', () => undefined);
        socket.on('end', () => resolve({ reused: socket.isSessionReused(), session: ticket }));
      });
    const first = await connectOnce();
    expect(first.session).toBeDefined();
    expect((await connectOnce(first.session)).reused).toBe(true); // control: resumption works
    for (const listener of listeners)
      listener({ ...serverMaterial, trustBundlePem: [ca.rootPem, createTestCa().rootPem] });
    expect((await connectOnce(first.session)).reused).toBe(false);
  });
});

describe('E13: CA root rotation', () => {
  it('distributes old+new roots first, signs with the new one after activation, removes the old one after the overlap', async () => {
    const wall = new TestWall(Date.now() - 2 * HOUR_MS);
    const { url } = await startIdentityAgent({ wall });
    const before = (await call(url, 'GET', '/v1/ca/bundle')).body;
    const rotated = (
      await call(url, 'POST', '/v1/ca/rotate', {
        token: ADMIN_TOKEN,
        body: { activateAfter: '1h', overlap: '25h' },
      })
    ).body;
    const prepared = (await call(url, 'GET', '/v1/ca/bundle')).body;
    expect(prepared.roots).toHaveLength(2);
    expect(prepared.signingRootSha256).toBe(before.signingRootSha256);
    wall.advance(HOUR_MS);
    const active = (await call(url, 'GET', '/v1/ca/bundle')).body;
    expect(active.signingRootSha256).toBe(rotated.newRootSha256);
    expect(active.roots).toHaveLength(2);
    wall.advance(25 * HOUR_MS);
    const retired = (await call(url, 'GET', '/v1/ca/bundle')).body;
    expect(retired.roots).toHaveLength(1);
    expect(retired.signingRootSha256).toBe(rotated.newRootSha256);
    // Reachability before, during and after, with workloads on the watch: ca-tls.test.ts.
  });
});

describe('E14: expired root or issuer (nobody rotated)', () => {
  it('is surfaced loudly: weft ca status exits 1 with a warning, and no SVID is issued once it expired', async () => {
    const wall = new TestWall(Date.now());
    const { url } = await startIdentityAgent({ wall, ca: { rootTtlMs: 30 * 24 * HOUR_MS } });
    const stdout = new BufferedSink();
    const stderr = new BufferedSink();
    const io = {
      stdout,
      stderr,
      readStdin: async () => '',
      env: {},
      cwd: process.cwd(),
      now: () => Date.now(),
      shutdown: new AbortController().signal,
    };
    expect(await main(['ca', 'status', '--agent', url], io)).toBe(1);
    expect(stderr.text).toMatch(/warning: the signing CA certificate expires at .* \(in 29 days\)/);
    wall.advance(31 * 24 * HOUR_MS);
    const { token } = await createToken(url);
    const answer = await requestWithToken(url, token);
    expect(answer.status).toBe(503);
    expect(answer.body.error.message).toMatch(/expired.*rotate it/);
  });
});

describe('E15: malicious CSR or DER sent to the CA', () => {
  const hostile: [string, () => Buffer][] = [
    [
      'deep nesting',
      () => {
        let nested = Buffer.from([0x05, 0x00]);
        for (let level = 0; level < 60; level += 1)
          nested = Buffer.concat([Buffer.from([0x30, nested.length]), nested]);
        return nested;
      },
    ],
    [
      'a huge OBJECT IDENTIFIER arc',
      () =>
        Buffer.from([
          0x30, 0x0d, 0x06, 0x0b, 0x2a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ]),
    ],
    [
      'trailing garbage after a valid CSR',
      () => Buffer.concat([workloadKey().csrDer, Buffer.from([0x00, 0x01])]),
    ],
    ['an indefinite length', () => Buffer.from([0x30, 0x80, 0x05, 0x00, 0x00, 0x00])],
  ];
  for (const [what, make] of hostile) {
    it(`refuses ${what} with 400, after authentication, and keeps serving`, async () => {
      const { url } = await startIdentityAgent();
      const { token } = await createToken(url);
      const answer = await call(url, 'POST', '/v1/certificates', {
        token,
        body: { csr: toPem(make(), 'CERTIFICATE REQUEST') },
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error.message).toMatch(/^csr: /);
      expect((await call(url, 'GET', '/healthz')).status).toBe(200);
    });
  }

  it('verifies the CSR signature with node:crypto over the bytes received (an altered CSR is refused)', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const key = workloadKey();
    const altered = Buffer.from(key.csrDer);
    const at = altered.indexOf(Buffer.from('bookinfo-reviews'));
    altered[at] = 'B'.charCodeAt(0);
    const answer = await call(url, 'POST', '/v1/certificates', {
      token,
      body: { csr: toPem(altered, 'CERTIFICATE REQUEST') },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/not signed by the key it carries/);
  });

  it('node-forge (used to encode only) is pinned at 1.4.3 or later', () => {
    const require = createRequire(import.meta.url);
    const manifest = JSON.parse(readFileSync(require.resolve('node-forge/package.json'), 'utf8')) as {
      version: string;
    };
    const [major = 0, minor = 0, patch = 0] = manifest.version.split('.').map(Number);
    expect(major * 1_000_000 + minor * 1_000 + patch).toBeGreaterThanOrEqual(1_004_003);
  });
});

describe('E16: CA key compromise, forced re-issue', () => {
  it('a rotation without overlap drops the old root at once: its SVIDs no longer renew, a join token gets one from the new root', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const key = workloadKey();
    const issued = await requestWithToken(url, token, key);
    const rotated = await call(url, 'POST', '/v1/ca/rotate', {
      token: ADMIN_TOKEN,
      body: { activateAfter: '0s', overlap: '0s' },
    });
    expect(rotated.status).toBe(200);
    expect((await call(url, 'GET', '/v1/ca/bundle')).body.roots).toHaveLength(1);
    const renewal = await requestRenewal(url, {
      chainPem: issued.body.certificateChain,
      privateKey: key.privateKey,
    });
    expect(renewal.status).toBe(401);
    const rejoined = await requestWithToken(url, token);
    expect(rejoined.status).toBe(200);
    expect(rejoined.body.trustBundle.signingRootSha256).toBe(rotated.body.newRootSha256);
  });
  // Workloads renew early on their own when the signing root changes: core identity-certificate-manager.test.ts.
});

describe('B8: crafted certificate requests from an unauthenticated peer', () => {
  it('never reach the CSR parser: no credential is refused before the CSR is read', async () => {
    const { url } = await startIdentityAgent();
    const garbage = toPem(Buffer.from([0x30, 0x80, 0x30, 0x80, 0x00, 0x00]), 'CERTIFICATE REQUEST');
    const answer = await call(url, 'POST', '/v1/certificates', { body: { csr: garbage } });
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).not.toMatch(/^csr:/);
    const forged = await call(url, 'POST', '/v1/certificates', {
      token: 'eyJhbGciOiJub25lIn0.e30.',
      body: { csr: garbage },
    });
    expect(forged.status).toBe(401);
  });

  it('a body over the cap is refused from its Content-Length (413), and the agent keeps serving', async () => {
    const { url } = await startIdentityAgent();
    const answer = await call(url, 'POST', '/v1/certificates', {
      rawBody: JSON.stringify({ csr: 'A'.repeat(100 * 1024) }),
    });
    expect(answer.status).toBe(413);
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('B9: a local caller impersonates a workload through the CA', () => {
  it('loopback is no credential: a request from 127.0.0.1 without a token is refused', async () => {
    const { url } = await startIdentityAgent({ adminToken: undefined });
    const answer = await requestWithToken(url, undefined);
    expect(answer.status).toBe(401);
    // Nor may a local caller mint itself a token when the agent has no admin token.
    const minted = await call(url, 'POST', '/v1/tokens', {
      body: { namespace: 'default', serviceAccount: 'bookinfo-reviews' },
    });
    expect(minted.status).toBe(403);
  });

  it('a token for one identity gets no SVID for another (403)', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url, 'default', 'bookinfo-ratings');
    const answer = await requestWithToken(url, token, workloadKey([REVIEWS_ID]));
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toMatch(
      /the credential is for spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-ratings/,
    );
  });
});
