/**
 * The agent's identity API over HTTP, against a real agent on 127.0.0.1: join tokens (admin only,
 * expiring, revocable by id or by identity), certificate requests with a token or with the
 * current SVID as proof, and what the issued SVIDs are — checked with OpenSSL itself: exactly one
 * URI SAN, CA:FALSE, the key usages of an X509-SVID, verifying against the trust bundle.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCertificate, readPemBlocks } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  call,
  cleanups,
  createToken,
  HAS_OPENSSL,
  REVIEWS_ID,
  requestRenewal,
  requestWithToken,
  runCleanups,
  startIdentityAgent,
  workloadKey,
} from './support/identity-harness.ts';

afterEach(runCleanups);

const HOUR_MS = 3_600_000;

async function scratchDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'weft-ca-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

describe('join tokens', () => {
  it('are issued only with the admin token, which loopback does not replace', async () => {
    const withoutToken = await startIdentityAgent({ adminToken: undefined });
    const refused = await call(withoutToken.url, 'POST', '/v1/tokens', {
      body: { namespace: 'default', serviceAccount: 'bookinfo-reviews' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/loopback is not trusted/);

    const { url } = await startIdentityAgent();
    expect(
      (await call(url, 'POST', '/v1/tokens', { body: { namespace: 'default', serviceAccount: 'a' } })).status,
    ).toBe(401);
    const wrong = await call(url, 'POST', '/v1/tokens', {
      token: 'not-the-admin-token-000',
      body: { namespace: 'default', serviceAccount: 'a' },
    });
    expect(wrong.status).toBe(401);
    const created = await createToken(url, 'default', 'bookinfo-reviews', '2h');
    expect(created.spiffeId).toBe(REVIEWS_ID);
    expect(created.tokenId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuse malformed identities and TTLs, naming the field', async () => {
    const { url } = await startIdentityAgent();
    const create = (body: unknown) => call(url, 'POST', '/v1/tokens', { token: ADMIN_TOKEN, body });
    expect((await create({ namespace: 'Default', serviceAccount: 'a' })).body.error.message).toMatch(
      /^namespace must be/,
    );
    expect((await create({ namespace: 'a', serviceAccount: 'a/sa/b' })).body.error.message).toMatch(
      /^serviceAccount must be/,
    );
    expect(
      (await create({ namespace: 'a', serviceAccount: 'b', ttl: 'forever' })).body.error.message,
    ).toMatch(/^ttl:/);
    expect((await create({ namespace: 'a', serviceAccount: 'b', ttl: '9000h' })).body.error.message).toMatch(
      /ttl must be between/,
    );
    expect((await create({ namespace: 'a', serviceAccount: 'b', extra: 1 })).status).toBe(400);
  });

  it('expire', async () => {
    const { url, wall } = await startIdentityAgent();
    const { token } = await createToken(url, 'default', 'bookinfo-reviews', '1h');
    wall.advance(HOUR_MS + 1_000);
    const answer = await requestWithToken(url, token);
    expect(answer.status).toBe(401);
    expect(answer.body.error.message).toMatch(/has expired/);
  });

  it('can be revoked by id, and every token of an identity can be revoked at once', async () => {
    const { url, wall } = await startIdentityAgent();
    const first = await createToken(url);
    const second = await createToken(url);
    const revoked = await call(url, 'POST', '/v1/tokens/revocations', {
      token: ADMIN_TOKEN,
      body: { tokenId: first.tokenId },
    });
    expect(revoked.status).toBe(200);
    expect((await requestWithToken(url, first.token)).body.error.message).toMatch(/has been revoked/);
    expect((await requestWithToken(url, second.token)).status).toBe(200);

    wall.advance(2_000);
    const byIdentity = await call(url, 'POST', '/v1/tokens/revocations', {
      token: ADMIN_TOKEN,
      body: { namespace: 'default', serviceAccount: 'bookinfo-reviews' },
    });
    expect(byIdentity.body.revoked.spiffeId).toBe(REVIEWS_ID);
    expect((await requestWithToken(url, second.token)).status).toBe(401);
    wall.advance(2_000);
    const fresh = await createToken(url);
    expect((await requestWithToken(url, fresh.token)).status).toBe(200);
  });
});

describe('certificate requests', () => {
  it('issue an X509-SVID for the token identity, with the trust bundle, valid 24 h and back-dated', async () => {
    const { url, wall } = await startIdentityAgent();
    const { token } = await createToken(url);
    const key = workloadKey();
    const answer = await requestWithToken(url, token, key);
    expect(answer.status).toBe(200);
    expect(answer.body.spiffeId).toBe(REVIEWS_ID);
    const [leafDer] = readPemBlocks(answer.body.certificateChain, 'CERTIFICATE');
    const facts = readCertificate(leafDer as Buffer);
    expect(facts.subjectAltNames?.uris).toEqual([REVIEWS_ID]);
    expect(facts.subject).toEqual(Buffer.from([0x30, 0x00]));
    expect(facts.basicConstraints).toEqual({ isCa: false });
    expect([...(facts.keyUsage ?? [])]).toEqual(['digitalSignature']);
    expect(facts.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(facts.serialNumber).toBe(answer.body.serialNumber);
    expect(facts.serialNumber.length).toBeGreaterThanOrEqual(30); // 127 random bits
    expect(Math.floor(wall.now() / 1000) * 1000 - facts.notBefore.getTime()).toBe(60_000);
    expect(facts.notAfter.getTime() - facts.notBefore.getTime()).toBe(24 * HOUR_MS + 60_000);
    const leaf = new X509Certificate(leafDer as Buffer);
    expect(leaf.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      key.publicKey.export({ type: 'spki', format: 'der' }),
    );
    const root = new X509Certificate(answer.body.trustBundle.roots[0]);
    expect(leaf.verify(root.publicKey)).toBe(true);
    const bundle = await call(url, 'GET', '/v1/ca/bundle');
    expect(bundle.body).toEqual(answer.body.trustBundle);
  });

  it.skipIf(!HAS_OPENSSL)(
    'issue SVIDs that openssl shows with exactly one URI SAN and CA:FALSE, and verifies',
    async () => {
      const { url } = await startIdentityAgent();
      const { token } = await createToken(url);
      const answer = await requestWithToken(url, token);
      const directory = await scratchDirectory();
      await writeFile(join(directory, 'svid.pem'), answer.body.certificateChain);
      await writeFile(join(directory, 'root.pem'), answer.body.trustBundle.roots.join(''));
      const text = spawnSync('openssl', ['x509', '-in', join(directory, 'svid.pem'), '-text', '-noout'], {
        encoding: 'utf8',
      }).stdout;
      expect(text.match(/URI:/g)).toHaveLength(1);
      expect(text).toContain(`URI:${REVIEWS_ID}`);
      expect(text).toMatch(/X509v3 Subject Alternative Name: critical/);
      expect(text).toMatch(/CA:FALSE/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
      expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
      expect(text).toMatch(/Public-Key: \(256 bit\)/);
      const verified = spawnSync(
        'openssl',
        [
          'verify',
          '-CAfile',
          join(directory, 'root.pem'),
          '-purpose',
          'sslserver',
          join(directory, 'svid.pem'),
        ],
        { encoding: 'utf8' },
      );
      expect(verified.stdout.trim()).toBe(`${join(directory, 'svid.pem')}: OK`);
    },
  );

  it('renew with the current SVID as proof, for a new key, without any token', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const first = workloadKey();
    const issued = await requestWithToken(url, token, first);
    const renewed = await requestRenewal(url, {
      chainPem: issued.body.certificateChain,
      privateKey: first.privateKey,
    });
    expect(renewed.status).toBe(200);
    expect(renewed.body.spiffeId).toBe(REVIEWS_ID);
    expect(renewed.body.serialNumber).not.toBe(issued.body.serialNumber);
  });

  it('refuse a renewal whose proof is not signed by the current key, and one after the identity was revoked', async () => {
    const { url, wall } = await startIdentityAgent();
    const { token } = await createToken(url);
    const first = workloadKey();
    const issued = await requestWithToken(url, token, first);
    const stolen = await requestRenewal(url, {
      chainPem: issued.body.certificateChain,
      privateKey: workloadKey().privateKey,
    });
    expect(stolen.status).toBe(401);
    expect(stolen.body.error.message).toMatch(/not a signature of the CSR by the current certificate's key/);
    wall.advance(2_000);
    await call(url, 'POST', '/v1/tokens/revocations', {
      token: ADMIN_TOKEN,
      body: { namespace: 'default', serviceAccount: 'bookinfo-reviews' },
    });
    const revoked = await requestRenewal(url, {
      chainPem: issued.body.certificateChain,
      privateKey: first.privateKey,
    });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.message).toMatch(/was revoked after this certificate was issued/);
  });

  it('refuse a request with both a token and a renewal proof', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url);
    const key = workloadKey();
    const issued = await requestWithToken(url, token, key);
    const answer = await call(url, 'POST', '/v1/certificates', {
      token,
      body: { csr: key.csrPem, renewal: { certificateChain: issued.body.certificateChain, signature: 'AA' } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/give one credential/);
  });
});

describe('CA status and rotation over HTTP', () => {
  it('reports the signing root, and rotates only with the admin token', async () => {
    const { url } = await startIdentityAgent();
    const status = await call(url, 'GET', '/v1/ca');
    expect(status.body.mode).toBe('generated');
    expect(status.body.authorities.map((entry: { state: string }) => entry.state)).toEqual(['signing']);
    expect((await call(url, 'POST', '/v1/ca/rotate', { body: {} })).status).toBe(401);
    const rotated = await call(url, 'POST', '/v1/ca/rotate', {
      token: ADMIN_TOKEN,
      body: { activateAfter: '2m', overlap: '25h' },
    });
    expect(rotated.status).toBe(200);
    expect(Date.parse(rotated.body.previousRetiresAt) - Date.parse(rotated.body.activatesAt)).toBe(
      25 * HOUR_MS,
    );
    const again = await call(url, 'POST', '/v1/ca/rotate', { token: ADMIN_TOKEN, body: {} });
    expect(again.status).toBe(409);
    expect((await call(url, 'GET', '/v1/ca/bundle')).body.roots).toHaveLength(2);
    expect(
      (await call(url, 'POST', '/v1/ca/rotate', { token: ADMIN_TOKEN, body: { overlap: 'soon' } })).status,
    ).toBe(400);
  });
});
