/**
 * What the agent does with requests it must not trust (bad-inputs B8): authentication of writes
 * before any body is read, size caps enforced while reading, request timeouts, malformed input
 * answered with a clear 4xx, unknown routes, and a watch limit — and it keeps serving after all
 * of them. Real agent on 127.0.0.1 (and once on a non-loopback local address), MemoryStore.
 */
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentOptions, createAgent } from '../src/index.ts';
import { MemoryStore } from '../src/store/memory-store.ts';

const TOKEN = 'test-admin-token-0123456789';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Partial<AgentOptions> = {}) {
  const store = await MemoryStore.open();
  const agent = await createAgent({ store, ...options });
  cleanups.push(async () => {
    await agent.close();
    await store.close();
  });
  return { agent, store, url: agent.url };
}

const rule = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec: { host: reviews }
`;

const workload = {
  name: 'reviews-1',
  namespace: 'default',
  service: 'reviews',
  serviceAccount: 'reviews',
  labels: {},
  address: '127.0.0.1',
  ports: { '9080': 40000 },
  ttlMs: 30_000,
};

async function call(url: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === '' ? {} : JSON.parse(text)) as { error: { code: string; message: string } } & Record<
      string,
      unknown
    >,
  };
}

async function storedCount(url: string): Promise<number> {
  return ((await call(`${url}/v1/resources`)).body.items as unknown[]).length;
}

/** Sends raw bytes and collects what comes back until the agent closes or `waitMs` passes. */
function raw(port: number, bytes: string | Buffer, waitMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, waitMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      // The agent may reset a connection it refused while the test is still writing to it.
      if (answer === '') reject(error);
      else resolve(answer);
    });
    socket.write(bytes);
  });
}

describe('authentication of writes', () => {
  it('requires the bearer token on every write and not on loopback reads; the watch needs a credential', async () => {
    const { url } = await start({ adminToken: TOKEN });
    const writes: [string, string, string | undefined][] = [
      ['POST', '/v1/apply', rule],
      ['DELETE', '/v1/resources/DestinationRule/default/reviews', undefined],
      ['POST', '/v1/workloads', JSON.stringify(workload)],
      ['PUT', '/v1/leases/some-lease', undefined],
      ['DELETE', '/v1/workloads/default/reviews-1', undefined],
    ];
    for (const [method, path, body] of writes) {
      const missing = await call(`${url}${path}`, { method, body });
      expect(missing.status, `${method} ${path}`).toBe(401);
      expect(missing.body.error.code).toBe('unauthorized');
      expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await call(`${url}${path}`, { method, body, token: `${TOKEN}-not` });
      expect(wrong.status, `${method} ${path}`).toBe(401);
    }
    expect(await storedCount(url)).toBe(0);

    const applied = await call(`${url}/v1/apply`, { method: 'POST', body: rule, token: TOKEN });
    expect(applied.status).toBe(200);
    for (const path of ['/v1/resources', '/v1/workloads', '/v1/clients', '/v1/analyze', '/healthz']) {
      expect((await call(`${url}${path}`)).status, path).toBe(200);
    }
    // The watch needs a credential even from loopback (PROTOCOL.md §3.1): here the admin token.
    const watchUrl = `${url}/v1/watch?clientId=c&namespace=default&workload=w&protocolVersion=1`;
    const anonymous = await fetch(watchUrl);
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    const watch = await fetch(watchUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(watch.status).toBe(200);
    await watch.body?.cancel();
  });

  it('checks the token before reading the body', async () => {
    const { url } = await start({ adminToken: TOKEN, limits: { maxApplyBytes: 1024 } });
    const answer = await call(`${url}/v1/apply`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(answer.status).toBe(401);
  });

  it('without a token, accepts writes from loopback only', async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)?.address;
    if (address === undefined) {
      // Nothing to test without a second local address; loopback writes are covered everywhere else.
      return;
    }
    const { agent } = await start({ host: '0.0.0.0' });
    const local = `http://127.0.0.1:${agent.port}`;
    const remote = `http://${address}:${agent.port}`;
    const refused = await call(`${remote}/v1/apply`, { method: 'POST', body: rule });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await call(`${remote}/v1/resources`)).status).toBe(200);
    expect((await call(`${local}/v1/apply`, { method: 'POST', body: rule })).status).toBe(200);
  });

  it('refuses a token too short to be a secret', async () => {
    const store = await MemoryStore.open();
    cleanups.push(() => store.close());
    await expect(createAgent({ store, adminToken: 'short' })).rejects.toThrow(/adminToken/);
    await expect(createAgent({ store, heartbeatMs: 0 })).rejects.toThrow(/heartbeatMs/);
  });
});

describe('size caps', () => {
  it('refuses an apply body over the cap, declared or streamed, and stores nothing', async () => {
    const { url } = await start({ limits: { maxApplyBytes: 2048 } });
    const big = `${rule}# ${'x'.repeat(4096)}\n`;
    const declared = await call(`${url}/v1/apply`, { method: 'POST', body: big });
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatchObject({ code: 'payload-too-large', limitBytes: 2048 });

    const chunks = [rule, `# ${'x'.repeat(1024)}\n`, `# ${'x'.repeat(1024)}\n`, `# ${'x'.repeat(1024)}\n`];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const streamed = await call(`${url}/v1/apply`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await storedCount(url)).toBe(0);
    // Just under the cap is fine.
    expect((await call(`${url}/v1/apply`, { method: 'POST', body: rule })).status).toBe(200);
  });

  it('caps the other bodies (registrations, status reports) at maxRequestBytes', async () => {
    const { url } = await start({ limits: { maxRequestBytes: 512 } });
    const registration = await call(`${url}/v1/workloads`, {
      method: 'POST',
      body: JSON.stringify({ ...workload, labels: { big: 'x'.repeat(1000) } }),
    });
    expect(registration.status).toBe(413);
    const status = await call(`${url}/v1/status`, {
      method: 'POST',
      body: JSON.stringify({ clientId: 'c', status: 'ack', configDump: 'x'.repeat(1000) }),
    });
    expect(status.status).toBe(413);
    expect((await call(`${url}/v1/workloads`)).body.items).toEqual([]);
  });

  it('refuses an alias bomb and too-deep documents as invalid YAML/config without exhausting memory', async () => {
    const { url } = await start();
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    ].join('\n');
    const answer = await call(`${url}/v1/apply`, { method: 'POST', body: bomb });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid-yaml');
    const deep = `${'['.repeat(200)}${']'.repeat(200)}`;
    const tooDeep = await call(`${url}/v1/apply`, { method: 'POST', body: deep });
    expect([400, 422]).toContain(tooDeep.status);
    expect(await storedCount(url)).toBe(0);
  });
});

describe('malformed requests', () => {
  it('answers malformed JSON, invalid UTF-8 and bad percent-encoding with 400', async () => {
    const { url } = await start();
    const json = await call(`${url}/v1/workloads`, { method: 'POST', body: '{"name": ' });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('invalid-json');
    const utf8 = await call(`${url}/v1/apply`, {
      method: 'POST',
      body: new Uint8Array([0x6b, 0x3a, 0xff, 0xfe]),
    });
    expect(utf8.status).toBe(400);
    expect(utf8.body.error.message).toMatch(/UTF-8/);
    const percent = await call(`${url}/v1/resources/DestinationRule/default/%E0%A4%A`);
    expect(percent.status).toBe(400);
    const notObject = await call(`${url}/v1/workloads`, { method: 'POST', body: '[1,2,3]' });
    expect(notObject.status).toBe(400);
  });

  it('answers unknown routes with 404 and known routes with another method with 405', async () => {
    const { url } = await start();
    expect((await call(`${url}/v2/apply`)).status).toBe(404);
    expect((await call(`${url}/v1/resources/DestinationRule/default`)).status).toBe(404);
    expect((await call(`${url}/`)).body.error.code).toBe('not-found');
    const wrong = await call(`${url}/v1/apply`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    const patch = await call(`${url}/v1/resources/DestinationRule/default/x`, { method: 'PATCH' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('GET, DELETE');
  });

  it('survives garbage on the wire and keeps serving', async () => {
    const { agent, url } = await start();
    const garbage = await raw(agent.port, 'GARBAGE \u0000\u0001 nonsense\r\n\r\n', 2_000);
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    const hugeHeader = await raw(
      agent.port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
      2_000,
    );
    expect(hugeHeader).toMatch(/^HTTP\/1\.1 431/);
    expect((await call(`${url}/healthz`)).status).toBe(200);
  });

  it('times out a request whose body never finishes arriving', async () => {
    const { agent, url } = await start({ limits: { requestTimeoutMs: 300 } });
    const started = Date.now();
    const answer = await raw(
      agent.port,
      'POST /v1/apply HTTP/1.1\r\nHost: agent\r\nContent-Type: application/yaml\r\nContent-Length: 1000\r\n\r\nkind: Virt',
      5_000,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await storedCount(url)).toBe(0);
  });
});

describe('watch limit', () => {
  it('refuses watches past maxWatchClients with 503, but lets a known client reconnect', async () => {
    const { url } = await start({ limits: { maxWatchClients: 1 } });
    const query = (clientId: string) =>
      `${url}/v1/watch?clientId=${clientId}&namespace=default&workload=w&protocolVersion=1`;
    const first = await fetch(query('one'));
    expect(first.status).toBe(200);
    const second = await call(query('two'));
    expect(second.status).toBe(503);
    expect(second.body.error.code).toBe('too-many-clients');
    expect(second.headers.get('retry-after')).toBe('5');
    const again = await fetch(query('one'));
    expect(again.status).toBe(200);
    await again.body?.cancel();
    await first.body?.cancel();
  });
});
