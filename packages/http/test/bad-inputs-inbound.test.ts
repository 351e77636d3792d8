/**
 * bad-inputs.md rows of sections D and E that need the inbound server, one `describe` per row,
 * against real servers on 127.0.0.1 with raw sockets (an HTTP client would normalize or refuse
 * what these rows are about). The engine-level tests of the same rows are in
 * packages/core/test/bad-inputs-security-policy.test.ts; E5 was left there by
 * packages/control-agent/test/bad-inputs-identity.test.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { normalizeRequestPath, type PathNormalization } from '@weft/core';
import { createTestCa, TestIdentity } from '@weft/core/testing';
import express from 'express';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { weftExpress, weftFastify } from '../src/index.ts';
import { createInboundHarness, type InboundHarness, peerAuthentication } from './support/inbound-harness.ts';
import { type RawAnswer, rawGet, rawRequest } from './support/raw-request.ts';

const DENY_ADMIN = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-admin
  namespace: default
spec:
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin", "/admin/*"]
`;

function status(answer: RawAnswer): number | 'closed' {
  return answer === 'closed' ? 'closed' : answer.status;
}

/** The application's view: the path it was given, and whether it ran at all. */
function recorder(seen: string[]) {
  return (request: IncomingMessage, response: ServerResponse) => {
    seen.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(`saw ${request.url}`);
  };
}

describe('D1, D2 (and D3–D6): the application routes on exactly the path authorization judged', () => {
  /** One app per entry; each counts the requests its /admin routes served (always 0 under DENY /admin). */
  interface Target {
    readonly name: string;
    readonly port: number;
    /** The path the app's router saw for a request it served (query excluded). */
    readonly lastPath: () => string | undefined;
    readonly adminHits: () => number;
  }
  const harness = createInboundHarness();
  const fastifyApps: FastifyInstance[] = [];
  const targets = new Map<PathNormalization, Target[]>();

  beforeAll(async () => {
    for (const mode of ['BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const) {
      const mesh = harness.mesh('shop', { yaml: DENY_ADMIN, mesh: { pathNormalization: mode } });
      const list: Target[] = [];
      // node:http behind createMeshServer: the handler is the "router".
      {
        const seen: string[] = [];
        const { port } = await harness.serve(mesh, recorder(seen));
        list.push({
          name: 'node',
          port,
          lastPath: () => seen.at(-1)?.split('?')[0],
          adminHits: () => seen.filter((url) => url === '/admin' || url.startsWith('/admin/')).length,
        });
      }
      // express: case-sensitive routing, as Istio's paths are (express folds case by default: see README).
      {
        let lastPath: string | undefined;
        let adminHits = 0;
        const app = express();
        app.set('case sensitive routing', true);
        app.use(weftExpress(mesh));
        app.get(['/admin', '/admin/*splat'], (_request, response) => {
          adminHits++;
          response.send('admin');
        });
        app.use((request, response) => {
          lastPath = request.path;
          response.send('other');
        });
        const port = await harness.listen(app.listen(0, '127.0.0.1'));
        list.push({ name: 'express', port, lastPath: () => lastPath, adminHits: () => adminHits });
      }
      // fastify with the plugin (it routes first, so changed paths are redirected).
      {
        let lastPath: string | undefined;
        let adminHits = 0;
        const app = Fastify();
        fastifyApps.push(app);
        await app.register(weftFastify(mesh));
        const admin = async () => {
          adminHits++;
          return 'admin';
        };
        app.get('/admin', admin);
        app.get('/admin/*', admin);
        app.get('/*', async (request) => {
          lastPath = request.url.split('?')[0];
          return 'other';
        });
        await app.listen({ port: 0, host: '127.0.0.1' });
        const port = (app.server.address() as { port: number }).port;
        list.push({ name: 'fastify', port, lastPath: () => lastPath, adminHits: () => adminHits });
      }
      targets.set(mode, list);
    }
  });
  afterAll(async () => {
    for (const app of fastifyApps) await app.close();
    await harness.close();
  });

  const segment = fc.constantFrom(
    'admin',
    'public',
    'ADMIN',
    '..',
    '.',
    '',
    '%2e%2e',
    '%2E',
    '%2f',
    '%2F',
    '%5c',
    '%5C',
    '%61dmin',
    'adm%69n',
    'admin;x',
    '%252F',
    '%C0%AE',
    '%00',
    '%zz',
  );
  const target = fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom('/', '//', '\\'), segment), { minLength: 1, maxLength: 4 }),
      fc.constantFrom('', '?x=1', '#frag', '?a=/admin'),
    )
    .map(([parts, tail]) => `${parts.map(([separator, part]) => separator + part).join('')}${tail}`)
    .filter((path) => path.startsWith('/'));

  it.each(['BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const)(
    '%s: no spelling reaches an /admin route, and what is served is served on the normalized path',
    async (mode) => {
      const list = targets.get(mode) ?? [];
      await fc.assert(
        fc.asyncProperty(target, async (path) => {
          const normalized = normalizeRequestPath(path, mode);
          for (const app of list) {
            const answer = await rawGet(app.port, path);
            const got = status(answer);
            expect([400, 403, 308, 200], `${app.name} ${path}`).toContain(got);
            if (got === 200)
              expect(app.lastPath(), `${app.name} ${path}`).toBe(normalized.ok ? normalized.path : '-');
            if (got === 403) expect(normalized.ok && /^\/admin(\/|$)/.test(normalized.path)).toBe(true);
            if (got === 308 && answer !== 'closed' && normalized.ok) {
              expect(answer.head).toContain(`location: ${normalized.path}${normalized.query}`);
            }
            expect(app.adminHits(), `${app.name} ${path}`).toBe(0);
          }
        }),
        { seed: 2026, numRuns: 120 },
      );
    },
  );
});

describe('D7: case games with express’s default routing', () => {
  let harness: InboundHarness;
  beforeEach(() => {
    harness = createInboundHarness();
  });
  afterEach(() => harness.close());

  /** An app with express's defaults: routes match without case. */
  async function defaultExpress(yaml: string): Promise<number> {
    const mesh = harness.mesh('shop', { yaml });
    const app = express();
    app.use(weftExpress(mesh));
    app.get('/admin', (_request, response) => {
      response.send('admin');
    });
    app.get('/public', (_request, response) => {
      response.send('public');
    });
    return harness.listen(app.listen(0, '127.0.0.1'));
  }

  it('a DENY on /admin does not catch /ADMIN, which express serves as /admin (the README’s warning)', async () => {
    const port = await defaultExpress(DENY_ADMIN);
    expect(await rawGet(port, '/admin')).toMatchObject({ status: 403 });
    expect(await rawGet(port, '/ADMIN')).toMatchObject({ status: 200, body: 'admin' });
  });

  it('an ALLOW naming what is allowed refuses every other spelling', async () => {
    const port = await defaultExpress(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-public
  namespace: default
spec:
  rules:
  - to:
    - operation:
        paths: ["/public"]
`);
    expect(await rawGet(port, '/public')).toMatchObject({ status: 200 });
    for (const path of ['/ADMIN', '/Admin', '/admin'])
      expect(await rawGet(port, path)).toMatchObject({ status: 403 });
  });
});

describe('header attacks on a Weft server', () => {
  let harness: InboundHarness;
  let seen: string[];
  let port: number;
  beforeEach(async () => {
    harness = createInboundHarness();
    seen = [];
    ({ port } = await harness.serve(harness.mesh('shop', { yaml: DENY_ADMIN }), recorder(seen)));
  });
  afterEach(() => harness.close());

  describe('D11: two Hosts', () => {
    it('is refused with 400 before the application (node would keep the first and drop the other)', async () => {
      const answer = await rawRequest(
        port,
        'GET /public HTTP/1.1\r\nHost: shop\r\nHost: admin.internal\r\nConnection: close\r\n\r\n',
      );
      expect(answer).toMatchObject({ status: 400 });
      expect(answer !== 'closed' && answer.head).toContain('x-weft-error-code: WEFT_ERR_BAD_REQUEST');
      expect(seen).toEqual([]);
    });
  });

  describe('D12: missing Host', () => {
    it.each([
      ['HTTP/1.1 (node refuses)', 'GET /public HTTP/1.1\r\nConnection: close\r\n\r\n'],
      ['HTTP/1.0 (Weft refuses)', 'GET /public HTTP/1.0\r\n\r\n'],
    ])('%s: 400, no crash', async (_case, bytes) => {
      expect(await rawRequest(port, bytes)).toMatchObject({ status: 400 });
      expect(seen).toEqual([]);
      expect(await rawGet(port, '/public')).toMatchObject({ status: 200 });
    });
  });

  describe('D13, D15, D16: NUL, bare CR/LF, smuggling — refused by the parser of the node we run', () => {
    it.each([
      ['NUL in a header value', 'GET /public HTTP/1.1\r\nHost: shop\r\nX-A: a\0b\r\n\r\n'],
      ['bare LF line ends', 'GET /public HTTP/1.1\nHost: shop\nX-A: b\n\n'],
      ['bare CR in a header value', 'GET /public HTTP/1.1\r\nHost: shop\r\nX-A: a\rb\r\n\r\n'],
      ['obs-fold', 'GET /public HTTP/1.1\r\nHost: shop\r\nX-A: a\r\n b\r\n\r\n'],
      [
        'Transfer-Encoding with Content-Length',
        'POST /public HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
      ],
      [
        'two Transfer-Encodings',
        'POST /public HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n',
      ],
      [
        'space before the colon of Content-Length',
        'POST /public HTTP/1.1\r\nHost: shop\r\nContent-Length : 5\r\n\r\nhello',
      ],
      [
        'two different Content-Lengths',
        'POST /public HTTP/1.1\r\nHost: shop\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      ],
    ])('%s: 400, and the application never runs', async (_case, bytes) => {
      expect(await rawRequest(port, bytes)).toMatchObject({ status: 400 });
      expect(seen).toEqual([]);
    });
  });

  describe('D17: header names with underscores', () => {
    it('are refused with 400 by default (Envoy REJECT_REQUEST)', async () => {
      expect(await rawGet(port, '/public', ['x_user: admin'])).toMatchObject({ status: 400 });
      expect(seen).toEqual([]);
    });

    it('DROP_HEADER removes them before policies and the application; ALLOW lets them through', async () => {
      const headersSeen: Record<string, unknown>[] = [];
      const capture = (request: IncomingMessage, response: ServerResponse) => {
        headersSeen.push({ ...request.headers });
        response.end('ok');
      };
      const mesh = harness.mesh('other');
      const dropping = await harness.serve(mesh, capture, { headersWithUnderscoresAction: 'DROP_HEADER' });
      const allowing = await harness.serve(mesh, capture, { headersWithUnderscoresAction: 'ALLOW' });
      expect(await rawGet(dropping.port, '/', ['x_user: admin'])).toMatchObject({ status: 200 });
      expect(await rawGet(allowing.port, '/', ['x_user: admin'])).toMatchObject({ status: 200 });
      expect(headersSeen.map((headers) => headers.x_user ?? null)).toEqual([null, 'admin']);
    });
  });

  describe('D18: many small headers', () => {
    it('100 pass; 101, and 3000, are refused with 431 (never cut silently, as node would at 2000)', async () => {
      const lines = (count: number) => Array.from({ length: count }, (_, i) => `x-h${i}: v`);
      // Host is one of the request's headers: 99 more make 100.
      expect(await rawGet(port, '/public', lines(98))).toMatchObject({ status: 200 });
      expect(await rawGet(port, '/public', lines(100))).toMatchObject({ status: 431 });
      expect(await rawGet(port, '/public', lines(3000))).toMatchObject({ status: 431 });
    });
  });

  describe('D19: oversized headers', () => {
    it('a head over node’s 16 KiB maxHeaderSize gets 431 from the parser', async () => {
      expect(await rawGet(port, '/public', [`x-big: ${'a'.repeat(20 * 1024)}`])).toMatchObject({
        status: 431,
      });
      expect(seen).toEqual([]);
    });
  });

  describe('D21: spoofed internal headers', () => {
    const REMOTE_ALLOW = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: office-only
  namespace: default
spec:
  rules:
  - from:
    - source:
        remoteIpBlocks: ["10.0.0.0/8"]
`;

    it('X-Forwarded-For is not believed for remote.ip without trusted proxies', async () => {
      const mesh = harness.mesh('office', { yaml: REMOTE_ALLOW });
      const server = await harness.serve(mesh, recorder([]));
      expect(await rawGet(server.port, '/', ['X-Forwarded-For: 10.1.2.3'])).toMatchObject({ status: 403 });
    });

    it('with one trusted proxy, only the address it appended counts', async () => {
      const mesh = harness.mesh('office', { yaml: REMOTE_ALLOW });
      const server = await harness.serve(mesh, recorder([]), { numTrustedProxies: 1 });
      expect(await rawGet(server.port, '/', ['X-Forwarded-For: 10.1.2.3'])).toMatchObject({ status: 200 });
      expect(await rawGet(server.port, '/', ['X-Forwarded-For: 10.1.2.3, 192.0.2.7'])).toMatchObject({
        status: 403,
      });
    });

    it('an X-Forwarded-Client-Cert from a plaintext caller never reaches policies or the application', async () => {
      const mesh = harness.mesh('office', {
        yaml: `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: trusts-xfcc
  namespace: default
spec:
  rules:
  - when:
    - key: request.headers[x-forwarded-client-cert]
      values: ["*"]
`,
      });
      const headersSeen: unknown[] = [];
      const server = await harness.serve(mesh, (request, response) => {
        headersSeen.push(request.headers['x-forwarded-client-cert']);
        response.end('ok');
      });
      const forged = 'x-forwarded-client-cert: URI=spiffe://cluster.local/ns/default/sa/admin';
      expect(await rawGet(server.port, '/', [forged])).toMatchObject({ status: 403 });
      expect(headersSeen).toEqual([]);
    });
  });

  describe('D22: HTTP/2 floods', () => {
    // Decision: @weft/http's inbound server speaks HTTP/1.1 only (node:http, ALPN http/1.1), so
    // the HTTP/2 frame floods of this row have no HTTP/2 session to hit here; gRPC's HTTP/2 server
    // is @weft/grpc's. What can be checked: an HTTP/2 connection is not served as one.
    it('an HTTP/2 prior-knowledge preface gets no HTTP/2 session: 400 or a closed connection', async () => {
      const answer = await rawRequest(port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0');
      expect([400, 505, 'closed']).toContain(status(answer));
      expect(seen).toEqual([]);
    });
  });
});

describe('C4: connection flood on the inbound listener', () => {
  let harness: InboundHarness;
  beforeEach(() => {
    harness = createInboundHarness();
  });
  afterEach(() => harness.close());

  it('past maxConnections, new connections are closed on arrival and the open ones keep working', async () => {
    const { server, port } = await harness.serve(harness.mesh('shop'), recorder([]), { maxConnections: 2 });
    let dropped = 0;
    server.on('drop', () => {
      dropped++;
    });
    const held = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    for (const socket of held) harness.onClose(() => socket.destroy());
    await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    expect(await holdsConnections(server, 2)).toBe(true);
    expect(await rawGet(port, '/public')).toBe('closed');
    expect(dropped).toBe(1);
    held[0]?.write('GET /public HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      held[0]?.on('data', (chunk: Buffer) => {
        text += chunk;
      });
      held[0]?.once('close', () => resolve(text));
    });
    expect(answer).toContain('HTTP/1.1 200');
    expect(await holdsConnections(server, 1)).toBe(true);
    expect(await rawGet(port, '/public')).toMatchObject({ status: 200 });
  });
});

/** Waits (bounded) until `server` counts `expected` open connections; whether it did. */
async function holdsConnections(
  server: { getConnections(callback: (error: Error | null, count: number) => void): void },
  expected: number,
): Promise<boolean> {
  for (let round = 0; round < 400; round++) {
    const count = await new Promise<number>((resolve) =>
      server.getConnections((_error, value) => resolve(value)),
    );
    if (count === expected) return true;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return false;
}

describe('E5: PERMISSIVE mode, plaintext peer', () => {
  const ca = createTestCa();
  let harness: InboundHarness;
  beforeEach(() => {
    harness = createInboundHarness();
  });
  afterEach(() => harness.close());

  it.each([
    ['principals: ["*"] (require mTLS)', 'principals: ["*"]'],
    ['namespaces: ["default"]', 'namespaces: ["default"]'],
    ['notPrincipals of another caller', 'notPrincipals: ["cluster.local/ns/default/sa/evil"]'],
  ])('plaintext is served, but an ALLOW on %s never matches it', async (_case, source) => {
    const yaml = `${peerAuthentication('PERMISSIVE')}---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: mesh-callers
  namespace: default
spec:
  rules:
  - from:
    - source:
        ${source}
`;
    const mesh = harness.mesh('reviews', { yaml });
    const { port } = await harness.serve(mesh, recorder([]), {
      identity: new TestIdentity(ca.workload('default', 'reviews')),
    });
    expect(await harness.plain().get(port, '/')).toMatchObject({ kind: 'response', status: 403 });
    expect(await harness.mtls(ca.workload('default', 'productpage')).get(port, '/')).toMatchObject({
      kind: 'response',
      status: 200,
    });
  });
});
