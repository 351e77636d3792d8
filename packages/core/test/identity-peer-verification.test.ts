/**
 * Peer verification for mTLS between workloads: real TLS handshakes on 127.0.0.1 with node:tls,
 * using the options `serverTlsOptions`/`clientTlsOptions` build from an identity, and SVIDs from
 * an in-test CA. Node verifies chains and dates; Weft's checks decide the SPIFFE identity on both
 * sides (one URI SAN, not a CA, the right key usages, an accepted trust domain, an allowed ID).
 */
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPeerCertificate, verifySvidChain } from '../src/security/identity/peer-verification.ts';
import { PeerVerificationError } from '../src/security/identity/peer-verification-error.ts';
import { acceptTlsPeer, clientTlsOptions, serverTlsOptions } from '../src/security/identity/tls-options.ts';
import { Oids } from '../src/security/x509/oids.ts';
import {
  createTestCa,
  exchange,
  type IssuedLeaf,
  runCleanups,
  startTlsServer,
  type TestCa,
} from './identity-fixtures.ts';

afterEach(runCleanups);

const SERVER_ID = 'spiffe://example.org/ns/default/sa/reviews';
const CLIENT_ID = 'spiffe://example.org/ns/default/sa/productpage';

/** A server that answers each connection with the SPIFFE ID it accepted, or closes on refusal. */
async function spiffeServer(ca: TestCa, leaf: IssuedLeaf, refusals: unknown[] = []) {
  const material = ca.material(leaf, SERVER_ID);
  return startTlsServer(serverTlsOptions(material), (socket: TLSSocket) => {
    try {
      socket.end(`hello ${acceptTlsPeer(socket, material).spiffeId.uri}`);
    } catch (error) {
      refusals.push(error);
      socket.destroy();
    }
  });
}

function refusalOf(error: unknown): string | undefined {
  return error instanceof PeerVerificationError ? error.refusal : undefined;
}

describe('mutual TLS between two SVIDs', () => {
  it('completes the handshake, and each side identifies the other by SPIFFE ID', async () => {
    const ca = createTestCa();
    const { port } = await spiffeServer(ca, ca.issue(SERVER_ID));
    const client = ca.material(ca.issue(CLIENT_ID), CLIENT_ID);
    const result = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(client, { allowedIds: [SERVER_ID] }),
    });
    expect(result.ok && result.data).toBe(`hello ${CLIENT_ID}`);
    if (!result.ok) return;
    const seen = checkPeerCertificate(
      result.peerCertificate?.raw ?? Buffer.alloc(0),
      'example.org',
      {},
      'server',
    );
    expect(seen.spiffeId.uri).toBe(SERVER_ID);
  });

  it('refuses a server whose SPIFFE ID is not one the client allows', async () => {
    const ca = createTestCa();
    const { port } = await spiffeServer(ca, ca.issue(SERVER_ID));
    const client = ca.material(ca.issue(CLIENT_ID), CLIENT_ID);
    const result = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(client, { allowedIds: ['spiffe://example.org/ns/default/sa/ratings'] }),
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(refusalOf(result.error)).toBe('identity-not-allowed');
  });

  it('refuses a server of another trust domain under the same root, unless it is an alias', async () => {
    const ca = createTestCa();
    const foreignId = 'spiffe://other.org/ns/default/sa/reviews';
    const { port } = await spiffeServer(ca, ca.issue(foreignId));
    const client = ca.material(ca.issue(CLIENT_ID), CLIENT_ID);
    const refused = await exchange({ host: '127.0.0.1', port, ...clientTlsOptions(client) });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refusalOf(refused.error)).toBe('foreign-trust-domain');
    const aliased = await exchange({
      host: '127.0.0.1',
      port,
      ...clientTlsOptions(client, { trustDomainAliases: ['other.org'] }),
    });
    expect(aliased.ok).toBe(true);
  });

  it('refuses a client of another trust domain on the server side', async () => {
    const ca = createTestCa();
    const refusals: unknown[] = [];
    const { port } = await spiffeServer(ca, ca.issue(SERVER_ID), refusals);
    const foreignId = 'spiffe://other.org/ns/default/sa/productpage';
    const client = { ...ca.material(ca.issue(foreignId), foreignId), trustDomain: 'example.org' };
    const result = await exchange({ host: '127.0.0.1', port, ...clientTlsOptions(client) });
    expect(result.ok).toBe(false);
    expect(refusals.map(refusalOf)).toEqual(['foreign-trust-domain']);
  });

  it('fails the handshake against a server whose chain leads to another CA', async () => {
    const ours = createTestCa();
    const theirs = createTestCa();
    const { port } = await spiffeServer(theirs, theirs.issue(SERVER_ID));
    const client = ours.material(ours.issue(CLIENT_ID), CLIENT_ID);
    const result = await exchange({ host: '127.0.0.1', port, ...clientTlsOptions(client) });
    expect(result.ok).toBe(false);
    // The server sends its own root along; OpenSSL finds it is not one of ours either way.
    if (!result.ok)
      expect(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']).toContain(result.error.code);
  });

  it('refuses a client that presents no certificate, on the first read (TLS 1.3)', async () => {
    const ca = createTestCa();
    const { port } = await spiffeServer(ca, ca.issue(SERVER_ID));
    const result = await exchange({
      host: '127.0.0.1',
      port,
      ca: [ca.rootPem],
      checkServerIdentity: () => undefined,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });
});

describe('certificates that are not acceptable SVIDs', () => {
  const cases: [string, (ca: TestCa) => IssuedLeaf, string][] = [
    [
      'two URI SANs',
      (ca) => ca.issue(SERVER_ID, { uris: [SERVER_ID, 'spiffe://evil.org/ns/x/sa/y'] }),
      'not-an-svid',
    ],
    ['no URI SAN', (ca) => ca.issue(SERVER_ID, { uris: [], dnsNames: ['reviews'] }), 'not-an-svid'],
    [
      'a URI SAN that is not spiffe://',
      (ca) => ca.issue(SERVER_ID, { uris: ['https://reviews.default'] }),
      'not-an-svid',
    ],
    [
      'a CA certificate as leaf',
      (ca) => ca.issue(SERVER_ID, { isCa: true, keyUsage: ['digitalSignature', 'keyCertSign'] }),
      'not-an-svid',
    ],
    [
      'keyCertSign on a leaf',
      (ca) => ca.issue(SERVER_ID, { keyUsage: ['digitalSignature', 'keyCertSign'] }),
      'not-an-svid',
    ],
    [
      'no serverAuth in its extended key usage',
      (ca) => ca.issue(SERVER_ID, { extendedKeyUsage: [Oids.clientAuth] }),
      'not-an-svid',
    ],
  ];
  for (const [name, make, refusal] of cases) {
    it(`refuses a server certificate with ${name}`, async () => {
      const ca = createTestCa();
      const { port } = await spiffeServer(ca, make(ca));
      const client = ca.material(ca.issue(CLIENT_ID), CLIENT_ID);
      const result = await exchange({ host: '127.0.0.1', port, ...clientTlsOptions(client) });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        // OpenSSL's own purpose check refuses a missing serverAuth first (INVALID_PURPOSE);
        // everything else reaches Weft's check, in checkServerIdentity.
        if (refusalOf(result.error) === undefined) expect(result.error.code).toBe('INVALID_PURPOSE');
        else expect(refusalOf(result.error)).toBe(refusal);
      }
    });
  }

  it('accepts a leaf without an extended key usage extension (it is optional)', () => {
    const ca = createTestCa();
    const leaf = ca.issue(SERVER_ID, { extendedKeyUsage: null });
    expect(checkPeerCertificate(leaf.certificate, 'example.org', {}, 'server').spiffeId.uri).toBe(SERVER_ID);
  });
});

describe('validity dates', () => {
  it('fails the handshake with a server whose certificate expired (CERT_HAS_EXPIRED)', async () => {
    const ca = createTestCa();
    const now = Date.now();
    const expired = ca.issue(SERVER_ID, {
      notBefore: new Date(now - 7_200_000),
      notAfter: new Date(now - 3_600_000),
    });
    const { port } = await spiffeServer(ca, expired);
    const client = ca.material(ca.issue(CLIENT_ID), CLIENT_ID);
    const result = await exchange({ host: '127.0.0.1', port, ...clientTlsOptions(client) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('CERT_HAS_EXPIRED');
  });

  it('fails the handshake with a server whose certificate is not yet valid (CERT_NOT_YET_VALID)', async () => {
    const ca = createTestCa();
    const now = Date.now();
    const early = ca.issue(SERVER_ID, {
      notBefore: new Date(now + 3_600_000),
      notAfter: new Date(now + 7_200_000),
    });
    const { port } = await spiffeServer(ca, early);
    const client = ca.material(ca.issue(CLIENT_ID), CLIENT_ID);
    const result = await exchange({ host: '127.0.0.1', port, ...clientTlsOptions(client) });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('CERT_NOT_YET_VALID');
  });

  it('refuses a client whose certificate expired: during the handshake, and by name after it', async () => {
    const ca = createTestCa();
    const refusals: unknown[] = [];
    const { port } = await spiffeServer(ca, ca.issue(SERVER_ID), refusals);
    const now = Date.now();
    const expired = ca.material(
      ca.issue(CLIENT_ID, { notBefore: new Date(now - 7_200_000), notAfter: new Date(now - 3_600_000) }),
      CLIENT_ID,
    );
    const result = await exchange({ host: '127.0.0.1', port, ...clientTlsOptions(expired) });
    expect(result.ok).toBe(false);
    expect(refusals).toEqual([]); // node refused it before the server's handler ran
    // A server that lets node's verdict through (rejectUnauthorized: false) gets it as `expired`.
    const material = ca.material(ca.issue(SERVER_ID), SERVER_ID);
    const lenient = await startTlsServer(
      { ...serverTlsOptions(material), rejectUnauthorized: false },
      (socket) => {
        try {
          acceptTlsPeer(socket, material);
          socket.end('accepted');
        } catch (error) {
          socket.end(`refused ${refusalOf(error)}`);
        }
      },
    );
    const seen = await exchange({ host: '127.0.0.1', port: lenient.port, ...clientTlsOptions(expired) });
    expect(seen.ok && seen.data).toBe('refused expired');
  });
});

describe('verifySvidChain (chains that do not come through TLS)', () => {
  it('accepts an SVID of the bundle and names its identity', () => {
    const ca = createTestCa();
    const leaf = ca.issue(CLIENT_ID);
    const peer = verifySvidChain([leaf.certificate], {
      trustDomain: 'example.org',
      roots: [ca.root],
      nowMs: Date.now(),
    });
    expect(peer.spiffeId.uri).toBe(CLIENT_ID);
  });

  it('refuses one signed by another CA, an expired one, and one not yet valid', () => {
    const ca = createTestCa();
    const other = createTestCa();
    const now = Date.now();
    const verification = { trustDomain: 'example.org', roots: [ca.root], nowMs: now };
    const refusal = (run: () => unknown): string | undefined => {
      try {
        run();
        return 'accepted';
      } catch (error) {
        return refusalOf(error);
      }
    };
    expect(refusal(() => verifySvidChain([other.issue(CLIENT_ID).certificate], verification))).toBe(
      'untrusted',
    );
    expect(
      refusal(() =>
        verifySvidChain([ca.issue(CLIENT_ID).certificate], { ...verification, nowMs: now + 2 * 3_600_000 }),
      ),
    ).toBe('expired');
    expect(
      refusal(() =>
        verifySvidChain([ca.issue(CLIENT_ID).certificate], { ...verification, nowMs: now - 3_600_000 }),
      ),
    ).toBe('not-yet-valid');
    expect(refusal(() => verifySvidChain([], verification))).toBe('untrusted');
  });
});
