/**
 * Who may read an agent that has an admin token (PROTOCOL.md §3.1, §4): the watch stream needs a
 * credential — the admin token, a join token, or an SVID proof of this CA over `GET /v1/watch` —
 * and a workload's stream is tied to its identity; the admin reads (resources, workloads, clients,
 * analysis, CA status) need the admin token unless made on the agent's machine; /healthz and the
 * trust bundle stay open. An agent without an admin token serves every read openly (development
 * mode). Against real agents with a CA on 127.0.0.1, and a real agent client holding only a join
 * token.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createSvidProof, PROTOCOL_VERSION } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminAuth } from '../src/http/admin-auth.ts';
import { HttpError } from '../src/http/http-error.ts';
import {
  connect,
  newMesh,
  reviewsRoute,
  reviewsSubsetsRouted,
  runCleanups as runClientCleanups,
  seed,
  startAgent,
} from './client-harness.ts';
import {
  ADMIN_TOKEN,
  call,
  cleanups,
  createToken,
  eventually,
  type IdentityAgent,
  requestWithToken,
  runCleanups,
  startIdentityAgent,
  workloadKey,
} from './support/identity-harness.ts';

afterEach(async () => {
  await runClientCleanups();
  await runCleanups();
});

const MINUTE_MS = 60_000;
const WATCH_PATH = '/v1/watch';

function watchQuery(clientId = 'reviews-v1-0.default', namespace = 'default'): string {
  const query = new URLSearchParams({
    clientId,
    namespace,
    workload: 'reviews-v1-0',
    protocolVersion: String(PROTOCOL_VERSION),
  });
  return `${WATCH_PATH}?${query}`;
}

interface WatchAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The first frame of a stream (200), or the refusal's JSON body. */
  // biome-ignore lint/suspicious/noExplicitAny: read field by field in assertions.
  readonly body: any;
}

/**
 * Opens `GET path` with exactly these headers and reads either the whole refusal or the stream's
 * first line, then drops the connection. `host` overrides the Host header (a foreign name makes a
 * loopback peer count as off the machine, as after DNS rebinding).
 */
function get(url: string, path: string, headers: Record<string, string> = {}): Promise<WatchAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const outgoing = httpRequest(
      { host: target.hostname, port: target.port, path, method: 'GET', headers, timeout: 10_000 },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        const finish = (): void => {
          outgoing.destroy();
          const line = response.statusCode === 200 ? text.slice(0, text.indexOf('\n')) : text;
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: line === '' ? undefined : JSON.parse(line),
          });
        };
        response.on('data', (chunk: string) => {
          text += chunk;
          if (response.statusCode === 200 && response.headers['content-type']?.includes('ndjson')) {
            if (text.includes('\n')) finish();
          }
        });
        response.on('end', finish);
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`GET ${path}: no answer within 10 s`)));
    outgoing.on('error', reject);
    outgoing.end();
  });
}

interface Svid {
  readonly chainPem: string;
  readonly privateKey: ReturnType<typeof workloadKey>['privateKey'];
}

/** An SVID for `default/bookinfo-reviews`, obtained as a workload does: a join token, then a CSR. */
async function obtainSvid(url: string, namespace = 'default'): Promise<Svid> {
  const { token, spiffeId } = await createToken(url, namespace, 'bookinfo-reviews');
  const key = workloadKey([spiffeId]);
  const answer = await requestWithToken(url, token, key);
  expect(answer.status).toBe(200);
  return { chainPem: answer.body.certificateChain, privateKey: key.privateKey };
}

/** The proof a workload's watch carries: method GET, the routed path, no body. */
function watchProof(
  identity: IdentityAgent,
  svid: Svid,
  overrides: { timestampMs?: number; path?: string; method?: string } = {},
): string {
  return createSvidProof(
    svid,
    { method: overrides.method ?? 'GET', path: overrides.path ?? WATCH_PATH, body: undefined },
    overrides.timestampMs ?? identity.wall.now(),
  );
}

async function seededAgent(options: Parameters<typeof startIdentityAgent>[0] = {}): Promise<IdentityAgent> {
  const identity = await startIdentityAgent(options);
  await seed(identity.store);
  return identity;
}

function expectConfig(answer: WatchAnswer): void {
  expect(answer.status).toBe(200);
  expect(answer.body.type).toBe('snapshot');
  expect(answer.body.resources.map((resource: { kind: string }) => resource.kind).sort()).toEqual([
    'DestinationRule',
    'VirtualService',
  ]);
  expect(answer.body.workloads).toHaveLength(2);
}

async function watchers(
  url: string,
): Promise<{ clientId: string; credential: string; identity: string | null }[]> {
  const answer = await call(url, 'GET', '/v1/clients');
  expect(answer.status).toBe(200);
  return answer.body.clients;
}

describe('the watch on an agent with an admin token', () => {
  it('refuses (401, saying what it needs) a watch without a credential, even from loopback, and sends nothing', async () => {
    const identity = await seededAgent();
    const answer = await get(identity.url, watchQuery());
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['x-weft-stream-token']).toBeUndefined();
    expect(answer.body.error.code).toBe('unauthorized');
    expect(answer.body.error.message).toMatch(/Authorization: Bearer <admin token or join token>/);
    expect(answer.body.error.message).toContain('Weft-SVID');
    expect(answer.headers['www-authenticate']).toContain('Weft-SVID');
    // No client was ever recorded: the refusal came before the stream.
    expect(await watchers(identity.url)).toEqual([]);
  });

  it('serves the config to a join token, and ties the stream to the token’s identity', async () => {
    const identity = await seededAgent();
    const { token, spiffeId } = await createToken(identity.url, 'default', 'bookinfo-reviews');
    expectConfig(await get(identity.url, watchQuery(), { authorization: `Bearer ${token}` }));
    expect(await watchers(identity.url)).toMatchObject([
      { clientId: 'reviews-v1-0.default', credential: 'join-token', identity: spiffeId },
    ]);
  });

  it('serves the config to an SVID proof of GET /v1/watch', async () => {
    const identity = await seededAgent();
    const svid = await obtainSvid(identity.url);
    expectConfig(await get(identity.url, watchQuery(), { authorization: watchProof(identity, svid) }));
    expect(await watchers(identity.url)).toMatchObject([
      {
        clientId: 'reviews-v1-0.default',
        credential: 'svid',
        identity: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
      },
    ]);
  });

  it('serves the config to the admin token', async () => {
    const identity = await seededAgent();
    expectConfig(await get(identity.url, watchQuery(), { authorization: `Bearer ${ADMIN_TOKEN}` }));
    expect(await watchers(identity.url)).toMatchObject([{ credential: 'admin', identity: null }]);
  });

  it('refuses (401) a stale, forged or misdirected proof, and a token that is not one', async () => {
    const identity = await seededAgent();
    const svid = await obtainSvid(identity.url);
    const refusals: Record<string, string> = {
      stale: watchProof(identity, svid, { timestampMs: identity.wall.now() - 6 * MINUTE_MS }),
      'signed by another key': createSvidProof(
        { chainPem: svid.chainPem, privateKey: workloadKey().privateKey },
        { method: 'GET', path: WATCH_PATH, body: undefined },
        identity.wall.now(),
      ),
      'signed for another path': watchProof(identity, svid, { path: '/v1/workloads' }),
      'signed for another method': watchProof(identity, svid, { method: 'POST' }),
      'not a token': 'Bearer not-a-join-token-nor-the-admin-token',
      'unknown scheme': `Basic ${Buffer.from(`x:${ADMIN_TOKEN}`).toString('base64')}`,
    };
    const statuses: Record<string, number> = {};
    for (const [name, authorization] of Object.entries(refusals)) {
      const answer = await get(identity.url, watchQuery(), { authorization });
      statuses[name] = answer.status;
      expect(answer.body.error.code, name).toBe('unauthorized');
    }
    expect(statuses).toEqual({
      stale: 401,
      'signed by another key': 401,
      'signed for another path': 401,
      'signed for another method': 401,
      'not a token': 401,
      'unknown scheme': 401,
    });
    // The SVID has expired by the agent's clock: the same (fresh) proof is refused.
    identity.wall.advance(25 * 60 * MINUTE_MS);
    const expired = await get(identity.url, watchQuery(), { authorization: watchProof(identity, svid) });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toMatch(/not a current SVID of this CA/);
    expect(await watchers(identity.url)).toEqual([]);
  });

  it('lets a workload watch only its own namespace, and not take over another identity’s live stream (403)', async () => {
    const identity = await seededAgent();
    const { token: reviews } = await createToken(identity.url, 'default', 'bookinfo-reviews');
    const { token: ratings } = await createToken(identity.url, 'default', 'bookinfo-ratings');
    const { token: other } = await createToken(identity.url, 'other', 'bookinfo-reviews');

    const foreign = await get(identity.url, watchQuery('x', 'default'), { authorization: `Bearer ${other}` });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('not-own-namespace');

    // A live stream of reviews: ratings may not replace it under the same clientId; reviews may.
    const live = await fetch(`${identity.url}${watchQuery('shared')}`, {
      headers: { authorization: `Bearer ${reviews}` },
    });
    cleanups.push(() => live.body?.cancel());
    expect(live.status).toBe(200);
    const takeover = await get(identity.url, watchQuery('shared'), { authorization: `Bearer ${ratings}` });
    expect(takeover.status).toBe(403);
    expect(takeover.body.error.code).toBe('client-id-taken');
    expectConfig(await get(identity.url, watchQuery('shared'), { authorization: `Bearer ${reviews}` }));
  });
});

describe('admin reads on an agent with an admin token', () => {
  const ADMIN_READS = [
    '/v1/resources',
    '/v1/resources/VirtualService/default/reviews',
    '/v1/workloads',
    '/v1/clients',
    '/v1/analyze',
    '/v1/ca',
  ];

  it('serves them from loopback without the token (`weft get` on the agent’s machine)', async () => {
    const identity = await seededAgent();
    for (const path of ADMIN_READS) {
      expect((await get(identity.url, path)).status, path).toBe(200);
    }
  });

  it('refuses them (401) to a request that is not local, unless it carries the admin token', async () => {
    const identity = await seededAgent();
    // A loopback peer that names a foreign host is off-machine as far as reads go (DNS rebinding).
    const foreign = { host: 'mesh.example.com' };
    for (const path of ADMIN_READS) {
      const refused = await get(identity.url, path, foreign);
      expect(refused.status, path).toBe(401);
      expect(refused.body.error.message, path).toMatch(/need "Authorization: Bearer <admin token>"/);
      expect(
        (await get(identity.url, path, { ...foreign, authorization: 'Bearer wrong-token-0123456789' }))
          .status,
      ).toBe(401);
      expect(
        (await get(identity.url, path, { ...foreign, authorization: `Bearer ${ADMIN_TOKEN}` })).status,
        path,
      ).toBe(200);
    }
    // A join token is a workload's credential, not an admin's.
    const { token } = await createToken(identity.url);
    expect(
      (await get(identity.url, '/v1/resources', { ...foreign, authorization: `Bearer ${token}` })).status,
    ).toBe(401);
    // Open by design: health, and the roots every peer needs.
    expect((await get(identity.url, '/healthz', foreign)).status).toBe(200);
    expect((await get(identity.url, '/v1/ca/bundle', foreign)).status).toBe(200);
  });

  it('decides by the peer’s address: another machine needs the token, loopback does not', () => {
    const auth = new AdminAuth(ADMIN_TOKEN);
    const from = (remoteAddress: string, headers: Record<string, string> = {}) => ({
      socket: { remoteAddress },
      headers,
    });
    const refusal = (request: ReturnType<typeof from>): number | undefined => {
      try {
        auth.checkAdminRead(request);
        return undefined;
      } catch (error) {
        return error instanceof HttpError ? error.status : -1;
      }
    };
    expect(refusal(from('10.1.2.3'))).toBe(401);
    expect(refusal(from('::ffff:192.168.0.7', { host: '127.0.0.1:15000' }))).toBe(401);
    expect(refusal(from('10.1.2.3', { authorization: 'Bearer wrong-token-0123456789' }))).toBe(401);
    expect(refusal(from('10.1.2.3', { authorization: `Bearer ${ADMIN_TOKEN}` }))).toBeUndefined();
    expect(refusal(from('127.0.0.1', { host: 'localhost:15000' }))).toBeUndefined();
    expect(refusal(from('::1'))).toBeUndefined();
    expect(refusal(from('127.0.0.1', { host: 'evil.example:15000' }))).toBe(401);
    // Without an admin token (development mode) reads are open to every address.
    expect(() => new AdminAuth(undefined).checkAdminRead(from('10.1.2.3'))).not.toThrow();
  });
});

describe('an agent without an admin token (development mode)', () => {
  it('serves the watch and every read openly', async () => {
    const identity = await seededAgent({ adminToken: undefined });
    expectConfig(await get(identity.url, watchQuery()));
    expect(await watchers(identity.url)).toMatchObject([{ credential: 'open', identity: null }]);
    const foreign = { host: 'mesh.example.com' };
    for (const path of ['/v1/resources', '/v1/workloads', '/v1/clients', '/v1/analyze', '/v1/ca']) {
      expect((await get(identity.url, path, foreign)).status, path).toBe(200);
    }
  });
});

describe('an agent client holding only a join token', () => {
  it('connects, gets the config, and keeps it across SVID renewals and a reconnect made with its SVID', async () => {
    const identity = await startIdentityAgent({ ca: { svidTtlMs: MINUTE_MS } });
    await seed(identity.store);
    const { token, tokenId } = await createToken(identity.url, 'default', 'bookinfo-productpage');
    const mesh = newMesh();
    const { client } = connect(mesh, {
      agents: [identity.url],
      // Renews every ~3 s of a one-minute SVID.
      identity: { joinToken: token, renewal: { renewAtFraction: 0.05, jitterFraction: 0.01 } },
    });
    expect(await client.ready).toBe('synced');
    expect(reviewsSubsetsRouted(mesh)).toEqual(['v1']);
    const first = await watchers(identity.url);
    expect(first).toMatchObject([
      {
        clientId: client.clientId,
        credential: 'join-token',
        identity: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
      },
    ]);

    // Renewals: the stream and its config carry on.
    let renewals = 0;
    client.identity?.events.renewed.on(() => {
      renewals += 1;
    });
    await client.identity?.ready;
    expect(await eventually(() => renewals >= 2, 20_000)).toBe(true);
    expect(client.state).toBe('synced');
    await identity.store.putResources([reviewsRoute('v2')]);
    expect(await eventually(() => reviewsSubsetsRouted(mesh).join() === 'v2', 10_000)).toBe(true);

    // The join token stops working, and the agent restarts on the same port: the client comes
    // back with its (renewed) SVID alone.
    expect(
      (await call(identity.url, 'POST', '/v1/tokens/revocations', { token: ADMIN_TOKEN, body: { tokenId } }))
        .status,
    ).toBe(200);
    const { port } = identity.agent;
    await identity.agent.close();
    await identity.store.putResources([reviewsRoute('v1')]);
    await startAgent(identity.store, {
      port,
      adminToken: ADMIN_TOKEN,
      wallClock: identity.wall.now,
      ca: { svidTtlMs: MINUTE_MS, refreshIntervalMs: 60_000 },
    });
    expect(
      await eventually(() => client.state === 'synced' && reviewsSubsetsRouted(mesh).join() === 'v1', 20_000),
    ).toBe(true);
    expect(await watchers(identity.url)).toMatchObject([
      {
        clientId: client.clientId,
        connected: true,
        credential: 'svid',
        identity: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
      },
    ]);
  });
});
