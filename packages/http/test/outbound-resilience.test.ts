import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import {
  destinationRule,
  joinDocuments,
  subsetsByVersion,
  singleRoute as virtualService,
  virtualServiceRoutes,
} from '../../core/test/support/istio-yaml.ts';
import { call } from './support/mesh-client.ts';
import { createScenario } from './support/scenario.ts';
import { streamedBody } from './support/streamed-body.ts';
import { closedPort } from './support/upstream.ts';
import { eventually, sleep } from './support/waiting.ts';
import { workload } from './support/workloads.ts';

const URL = 'http://reviews:9080/reviews/1';

// Real upstreams on 127.0.0.1, one meshed client per test; everything is closed in afterEach.
const scenario = createScenario('reviews');
afterEach(() => scenario.close());

const respond = (status: number, headers: Record<string, string> = {}) =>
  ({ kind: 'respond', status, headers }) as const;

describe('retries', () => {
  it('retries a 503 under retryOn 5xx and returns the next attempt’s 200', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 3, retryOn: 5xx }',
    );
    upstream.behave((_, index) => (index === 0 ? respond(503) : respond(200)));

    const response = await call(dispatcher, URL);

    expect([response.status, response.body]).toEqual([200, 'reviews-0']);
    expect(upstream.seen).toHaveLength(2);
    const scheduled = events.retries('retry-scheduled');
    expect(scheduled.map(({ attempt, condition, cluster }) => ({ attempt, condition, cluster }))).toEqual([
      { attempt: 2, condition: '5xx', cluster: expect.stringContaining('reviews') },
    ]);
  });

  it('makes at most 1 + attempts tries and then delivers the last upstream 503 as it came, with no mesh flag', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: 5xx }',
    );
    upstream.behave((_, index) => ({ kind: 'respond', status: 503, body: `busy-${index}` }));

    const response = await call(dispatcher, URL);

    expect(upstream.seen).toHaveLength(3);
    // The upstream's own response (status, body, headers) reaches the caller. Weft adds a flags
    // header only to responses the mesh made itself; Envoy likewise only logs URX for it.
    expect([response.status, response.body, response.upstream]).toEqual([503, 'busy-2', 'reviews-0']);
    expect(response.flags).toEqual([]);
    expect(events.retries('retry-scheduled').map((event) => event.attempt)).toEqual([2, 3]);
    expect(events.retries('retry-refused').map((event) => [event.reason, event.attempts])).toEqual([
      ['attempts-exhausted', 3],
    ]);
  });

  it('retries 502, 503 and 504 under retryOn gateway-error', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 3, retryOn: gateway-error }',
    );
    const statuses = [502, 503, 504, 200];
    upstream.behave((_, index) => respond(statuses[index] ?? 200));

    const response = await call(dispatcher, URL);

    expect(response.status).toBe(200);
    expect(upstream?.seen).toHaveLength(4);
    expect(events.retries('retry-scheduled').map((event) => event.condition)).toEqual([
      'gateway-error',
      'gateway-error',
      'gateway-error',
    ]);
  });

  it('does not retry a 500 under retryOn gateway-error', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 3, retryOn: gateway-error }',
    );
    upstream.behave(() => respond(500));

    const response = await call(dispatcher, URL);

    expect(response.status).toBe(500);
    expect(upstream.seen).toHaveLength(1);
    expect(events.retry).toEqual([]);
  });

  it('retries the status codes written in retryOn ("retriable-status-codes,409") and no others', async () => {
    const { upstream, dispatcher } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: "retriable-status-codes,409" }',
    );
    upstream.behave((request, index) =>
      request.path === '/conflict' ? respond(index === 0 ? 409 : 200) : respond(503),
    );

    const conflict = await call(dispatcher, 'http://reviews:9080/conflict');
    expect(conflict.status).toBe(200);
    expect(upstream.seen).toHaveLength(2);

    const unavailable = await call(dispatcher, 'http://reviews:9080/unavailable');
    expect(unavailable.status).toBe(503);
    expect(upstream.seen).toHaveLength(3);
  });

  it('retries nothing under a bare retriable-status-codes (Istio gives it no codes)', async () => {
    const { upstream, dispatcher } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: retriable-status-codes }',
    );
    upstream.behave(() => respond(503));

    expect((await call(dispatcher, URL)).status).toBe(503);
    expect(upstream.seen).toHaveLength(1);
  });

  it('retries a connection reset under retryOn reset', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: reset }',
    );
    upstream.behave((_, index) => (index === 0 ? { kind: 'reset' } : respond(200)));

    const response = await call(dispatcher, URL);

    expect(response.status).toBe(200);
    expect(upstream.seen).toHaveLength(2);
    expect(events.retries('retry-scheduled').map((event) => event.condition)).toEqual(['reset']);
  });

  it('answers a reset that retryOn does not cover with 503 UR', async () => {
    const { upstream, dispatcher } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: retriable-4xx }',
    );
    upstream.behave(() => ({ kind: 'reset' }));

    const response = await call(dispatcher, URL);

    expect([response.status, response.flags]).toEqual([503, ['UR']]);
    expect(upstream.seen).toHaveLength(1);
  });

  it('retries a connect failure on another endpoint (round robin over a closed port and a live one)', async () => {
    const [live] = await scenario.start(1);
    const dead = await closedPort();
    const { dispatcher, events } = scenario.open(
      joinDocuments(
        virtualService('reviews', 'retries: { attempts: 1, retryOn: connect-failure }'),
        destinationRule('reviews', 'loadBalancer: { simple: ROUND_ROBIN }'),
      ),
      [workload('reviews', 'reviews-dead', dead), ...scenario.workloads()],
    );

    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(dispatcher, URL)).status);

    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(live?.seen).toHaveLength(6);
    // Rotation sends every other first try to the dead port: 5 or 6 of the 6 requests retried.
    const conditions = events.retries('retry-scheduled').map((event) => event.condition);
    expect(conditions.length).toBeGreaterThanOrEqual(5);
    expect(new Set(conditions)).toEqual(new Set(['connect-failure']));
  });

  it('sends a retry to a host other than the one that failed (retryIgnorePreviousHosts, Istio’s default)', async () => {
    // Default balancer (LEAST_REQUEST) over a closed port and a live one, one retry allowed.
    // Istio defaults retryIgnorePreviousHosts to true (Envoy's previous_hosts predicate), so the
    // retry of a connect failure never goes back to the dead endpoint and every request succeeds.
    const [live] = await scenario.start(1);
    const dead = await closedPort();
    const { dispatcher } = scenario.open(
      virtualService('reviews', 'retries: { attempts: 1, retryOn: connect-failure }'),
      [workload('reviews', 'reviews-dead', dead), ...scenario.workloads()],
    );

    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await call(dispatcher, URL)).status);

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(live?.seen).toHaveLength(20);
  });

  it('does not retry a POST that reached the upstream and got a 503', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: 5xx }',
    );
    upstream.behave(() => respond(503));

    const response = await call(dispatcher, URL, { method: 'POST', body: 'order=1' });

    expect(response.status).toBe(503);
    expect(upstream.seen).toHaveLength(1);
    expect(events.retries('retry-refused').map((event) => event.reason)).toEqual(['not-idempotent']);
  });

  it('retries a POST after a connect failure (it never reached an upstream), body intact', async () => {
    const [live] = await scenario.start(1);
    const dead = await closedPort();
    const { dispatcher, events } = scenario.open(
      joinDocuments(
        virtualService('reviews', 'retries: { attempts: 1, retryOn: connect-failure }'),
        destinationRule('reviews', 'loadBalancer: { simple: ROUND_ROBIN }'),
      ),
      [workload('reviews', 'reviews-dead', dead), ...scenario.workloads()],
    );

    // Rotation puts the first try of one of two consecutive requests on the dead port.
    const first = await call(dispatcher, URL, { method: 'POST', body: 'order=1' });
    const second = await call(dispatcher, URL, { method: 'POST', body: 'order=2' });

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(live?.seen.map((request) => request.body)).toEqual(['order=1', 'order=2']);
    expect(events.retries('retry-scheduled').length).toBeGreaterThanOrEqual(1);
  });

  it('replays a streamed body of less than 64 KiB byte for byte on the retry', async () => {
    const { upstream, dispatcher } = await scenario.withRoute('retries: { attempts: 2, retryOn: 5xx }');
    upstream.behave((_, index) => (index === 0 ? respond(503) : respond(200)));
    const { stream, text } = streamedBody(20 * 1024);

    const response = await call(dispatcher, URL, { method: 'PUT', body: stream });

    expect(response.status).toBe(200);
    expect(upstream.seen.map((request) => request.body.length)).toEqual([text.length, text.length]);
    expect(upstream.seen.every((request) => request.body === text)).toBe(true);
  });

  it('does not retry a request whose streamed body exceeded 64 KiB (body-not-replayable)', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: 5xx }',
    );
    upstream.behave(() => respond(503));
    const { stream, text } = streamedBody(100 * 1024);

    const response = await call(dispatcher, URL, { method: 'PUT', body: stream });

    expect(response.status).toBe(503);
    expect(upstream.seen.map((request) => request.body.length)).toEqual([text.length]);
    expect(events.retries('retry-refused').map((event) => event.reason)).toEqual(['body-not-replayable']);
  });

  it('retries at once when a 503 says Retry-After: 0', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: 5xx }',
    );
    upstream.behave((_, index) => (index === 0 ? respond(503, { 'retry-after': '0' }) : respond(200)));

    const response = await call(dispatcher, URL);

    expect(response.status).toBe(200);
    expect(upstream.seen).toHaveLength(2);
    expect(
      events.retries('retry-scheduled').map(({ delayMs, delaySource }) => ({ delayMs, delaySource })),
    ).toEqual([{ delayMs: 0, delaySource: 'retry-after' }]);
  });

  it('caps a huge Retry-After at 30 s, and the caller can still cancel the wait', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'retries: { attempts: 2, retryOn: 5xx }',
    );
    upstream.behave(() => respond(503, { 'retry-after': '86400' }));
    const controller = new AbortController();

    const pending = call(dispatcher, URL, { signal: controller.signal });
    expect(await eventually(() => events.retries('retry-scheduled').length === 1)).toBe(true);
    controller.abort();

    await expect(pending).rejects.toThrow();
    expect(events.retries('retry-scheduled')[0]).toMatchObject({
      delayMs: 30_000,
      delaySource: 'retry-after',
    });
    await sleep(50);
    expect(upstream.seen).toHaveLength(1);
  });

  it('refuses a retry whose Retry-After ends past the route deadline and delivers the 503', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'timeout: 2s\nretries: { attempts: 2, retryOn: 5xx }',
    );
    upstream.behave(() => respond(503, { 'retry-after': '5' }));

    const response = await call(dispatcher, URL);

    expect([response.status, response.upstream]).toEqual([503, 'reviews-0']);
    expect(upstream.seen).toHaveLength(1);
    expect(events.retries('retry-refused').map((event) => event.reason)).toEqual(['deadline']);
  });

  it('retries a 503 twice under the default policy (no retries block)', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute();
    upstream.behave(() => respond(503));

    const response = await call(dispatcher, URL);

    expect(response.status).toBe(503);
    expect(upstream.seen).toHaveLength(3);
    expect(events.retries('retry-scheduled').map((event) => event.condition)).toEqual([
      'retriable-status-codes',
      'retriable-status-codes',
    ]);
  });

  it('does not retry a 500 under the default policy (only 503 is a default code)', async () => {
    const { upstream, dispatcher } = await scenario.withRoute();
    upstream.behave(() => respond(500));

    expect((await call(dispatcher, URL)).status).toBe(500);
    expect(upstream.seen).toHaveLength(1);
  });

  it('does not retry at all with retries.attempts 0', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute('retries: { attempts: 0 }');
    upstream.behave(() => respond(503));

    expect((await call(dispatcher, URL)).status).toBe(503);
    expect(upstream.seen).toHaveLength(1);
    expect(events.retry).toEqual([]);
  });
});

describe('timeouts', () => {
  it('answers 504 UT at the route timeout when the upstream hangs, and closes the hung connection', async () => {
    const { upstream, dispatcher } = await scenario.withRoute('timeout: 100ms');
    upstream.behave(() => ({ kind: 'hang' }));

    const started = performance.now();
    const response = await call(dispatcher, URL);
    const elapsedMs = performance.now() - started;

    expect([response.status, response.flags, response.body]).toEqual([
      504,
      ['UT'],
      'upstream request timeout',
    ]);
    expect(elapsedMs).toBeGreaterThanOrEqual(95);
    // bad-inputs C2: the connection to the hung upstream is destroyed, not left open.
    expect(await eventually(() => upstream.abandoned === 1 && upstream.open === 0)).toBe(true);
    expect(upstream.seen).toHaveLength(1);
  });

  it('moves on to the next attempt when perTryTimeout expires (a hanging endpoint, then a healthy one)', async () => {
    const [hanging, healthy] = await scenario.start(2);
    hanging?.behave(() => ({ kind: 'hang' }));
    const { dispatcher, events } = scenario.open(
      joinDocuments(
        virtualService(
          'reviews',
          'timeout: 5s\nretries: { attempts: 2, perTryTimeout: 50ms, retryOn: reset }',
        ),
        destinationRule('reviews', 'loadBalancer: { simple: ROUND_ROBIN }'),
      ),
    );

    // Rotation: of two consecutive requests, one starts on the hanging endpoint.
    const first = await call(dispatcher, URL);
    const second = await call(dispatcher, URL);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.upstream, second.upstream]).toEqual(['reviews-1', 'reviews-1']);
    expect(healthy?.seen).toHaveLength(2);
    // Each request that started on the hanging endpoint was retried once, on reset (per-try timeout).
    const tries = hanging?.seen.length ?? 0;
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(events.retries('retry-scheduled').map((event) => event.condition)).toEqual(
      Array(tries).fill('reset'),
    );
    expect(await eventually(() => hanging?.abandoned === tries && hanging.open === 0)).toBe(true);
  });

  it('schedules no retry past the route deadline: the request ends with 504 UT and nothing follows', async () => {
    const { upstream, dispatcher, events, mesh } = await scenario.withRoute(
      'timeout: 150ms\nretries: { attempts: 10, perTryTimeout: 40ms, retryOn: 5xx }',
    );
    upstream.behave(() => ({ kind: 'hang' }));
    const startedAt = mesh.clock.now();

    const response = await call(dispatcher, URL);
    const heads = upstream.heads;
    await sleep(150);

    expect(response.status).toBe(504);
    expect(response.flags).toContain('UT');
    // Every try lasts its full 40 ms per-try timeout, so at most ⌈150/40⌉ fit before the deadline.
    expect(heads).toBeGreaterThanOrEqual(1);
    expect(heads).toBeLessThanOrEqual(4);
    expect(upstream.heads).toBe(heads);
    for (const retry of events.retries('retry-scheduled'))
      expect(retry.atMs + retry.delayMs).toBeLessThan(startedAt + 150 + 20);
    expect(await eventually(() => upstream.open === 0)).toBe(true);
  });
});

describe('outlier detection', () => {
  it('ejects an endpoint after 2 consecutive 5xx and sends every later request to the healthy one', async () => {
    const [bad, good] = await scenario.start(2);
    bad?.behave(() => respond(503));
    const { dispatcher, events } = scenario.open(
      joinDocuments(
        virtualService('reviews', 'retries: { attempts: 0 }'),
        destinationRule(
          'reviews',
          `loadBalancer: { simple: ROUND_ROBIN }
outlierDetection: { consecutive5xxErrors: 2, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100 }`,
        ),
      ),
    );

    for (let i = 0; i < 10 && events.outlier.length === 0; i++) await call(dispatcher, URL);

    expect(events.outlier).toEqual([
      expect.objectContaining({
        type: 'ejected',
        endpoint: `127.0.0.1:${bad?.port}`,
        reason: 'consecutive-5xx',
      }),
    ]);
    expect(bad?.seen).toHaveLength(2);
    const before = good?.seen.length ?? 0;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await call(dispatcher, URL)).status);
    expect(statuses).toEqual(Array(10).fill(200));
    expect(bad?.seen).toHaveLength(2);
    expect(good?.seen).toHaveLength(before + 10);
  });
});

describe('connection-pool limits', () => {
  it('answers 503 UO at once when http2MaxRequests 1 is taken by a hanging request', async () => {
    const [reviews] = await scenario.start(1);
    reviews?.behave((_, index) => (index === 0 ? { kind: 'hang' } : respond(200)));
    const { dispatcher, events } = scenario.open(
      joinDocuments(
        virtualService('reviews'),
        destinationRule('reviews', 'connectionPool: { http: { http2MaxRequests: 1 } }'),
      ),
    );
    const controller = new AbortController();
    const hung = call(dispatcher, URL, { signal: controller.signal });
    hung.catch(() => {});
    expect(await eventually(() => reviews?.heads === 1)).toBe(true);

    const refused = await call(dispatcher, URL);

    expect([refused.status, refused.flags]).toEqual([503, ['UO']]);
    expect(refused.body).toContain('overflow');
    expect(events.overflow).toEqual([
      expect.objectContaining({ type: 'overflow', reason: 'max-requests', limit: 1 }),
    ]);
    expect(reviews?.heads).toBe(1);
    expect(events.retry).toEqual([]);

    controller.abort();
    await expect(hung).rejects.toThrow();
    // The aborted request gave its slot back.
    expect((await call(dispatcher, URL)).status).toBe(200);
  });

  it('queues up to http1MaxPendingRequests behind maxConnections 1 and refuses the next with 503 UO', async () => {
    // Istio reads 0 as "unset" (unlimited) for http1MaxPendingRequests, so the smallest real
    // queue is 1.
    const [reviews] = await scenario.start(1);
    reviews?.behave((_, index) => (index === 0 ? { kind: 'hang' } : respond(200)));
    const { dispatcher, events } = scenario.open(
      joinDocuments(
        virtualService('reviews'),
        destinationRule(
          'reviews',
          'connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } }',
        ),
      ),
    );
    const controller = new AbortController();
    const hung = call(dispatcher, URL, { signal: controller.signal });
    hung.catch(() => {});
    expect(await eventually(() => reviews?.heads === 1)).toBe(true);
    const queued = call(dispatcher, URL);

    const refused = await call(dispatcher, URL);

    expect([refused.status, refused.flags]).toEqual([503, ['UO']]);
    expect(events.overflow).toEqual([
      expect.objectContaining({ type: 'overflow', reason: 'max-pending-requests', limit: 1 }),
    ]);
    expect(reviews?.heads).toBe(1);
    controller.abort();
    await expect(hung).rejects.toThrow();
    // The queued request gets the freed connection.
    expect((await queued).status).toBe(200);
    expect(reviews?.heads).toBe(2);
  });
});

describe('load balancing end to end', () => {
  it('sends one x-user to one endpoint across 20 requests, and different users to several (consistentHash)', async () => {
    await scenario.start(4);
    const { dispatcher } = scenario.open(
      joinDocuments(
        virtualService('reviews'),
        destinationRule('reviews', 'loadBalancer: { consistentHash: { httpHeaderName: x-user } }'),
      ),
    );

    const alice = new Set<string | undefined>();
    for (let i = 0; i < 20; i++)
      alice.add((await call(dispatcher, URL, { headers: { 'x-user': 'alice' } })).upstream);
    const users = new Set<string | undefined>();
    for (let i = 0; i < 12; i++)
      users.add((await call(dispatcher, URL, { headers: { 'x-user': `user-${i}` } })).upstream);

    expect(alice.size).toBe(1);
    expect(alice.has(undefined)).toBe(false);
    expect(users.size).toBeGreaterThanOrEqual(2);
  });

  it('alternates evenly over 4 endpoints with ROUND_ROBIN', async () => {
    const upstreams = await scenario.start(4);
    const { dispatcher } = scenario.open(
      joinDocuments(
        virtualService('reviews'),
        destinationRule('reviews', 'loadBalancer: { simple: ROUND_ROBIN }'),
      ),
    );

    const order: (string | undefined)[] = [];
    for (let i = 0; i < 40; i++) order.push((await call(dispatcher, URL)).upstream);

    expect(upstreams.map((upstream) => upstream.seen.length)).toEqual([10, 10, 10, 10]);
    for (let i = 0; i + 4 <= order.length; i += 4) expect(new Set(order.slice(i, i + 4)).size).toBe(4);
  });

  it('keeps new requests off an endpoint busy with a hanging request (LEAST_REQUEST)', async () => {
    const pair = await scenario.start(2);
    for (const upstream of pair)
      upstream.behave((request) => (request.headers['x-hang'] ? { kind: 'hang' } : respond(200)));
    const { dispatcher } = scenario.open(
      joinDocuments(
        virtualService('reviews'),
        destinationRule('reviews', 'loadBalancer: { simple: LEAST_REQUEST }'),
      ),
    );
    const controller = new AbortController();
    const hung = call(dispatcher, URL, { headers: { 'x-hang': '1' }, signal: controller.signal });
    hung.catch(() => {});
    expect(await eventually(() => pair.some((upstream) => upstream.heads === 1))).toBe(true);
    const busy = pair.find((upstream) => upstream.heads === 1);
    const idle = pair.find((upstream) => upstream !== busy);

    const answered = new Set<string | undefined>();
    for (let i = 0; i < 10; i++) answered.add((await call(dispatcher, URL)).upstream);

    expect(answered).toEqual(new Set([idle?.name]));
    expect(busy?.heads).toBe(1);
    controller.abort();
    await expect(hung).rejects.toThrow();
  });
});

describe('mirroring', () => {
  const MIRRORED = joinDocuments(
    subsetsByVersion('reviews', ['v1', 'v2']),
    virtualServiceRoutes(
      'reviews',
      `
- route: [{ destination: { host: reviews, subset: v1 } }]
  mirror: { host: reviews, subset: v2 }
  mirrorPercentage: { value: 100 }
`,
    ),
  );

  it('delivers a copy to the mirror with Host <host>-shadow:<port>, and the caller gets the primary’s response', async () => {
    const [primary, shadow] = await scenario.start(2);
    shadow?.behave(() => respond(500));
    const { dispatcher } = scenario.open(MIRRORED, [
      workload('reviews', 'reviews-0', primary?.port ?? 0, { version: 'v1' }),
      workload('reviews', 'reviews-1', shadow?.port ?? 0, { version: 'v2' }),
    ]);

    const response = await call(dispatcher, `${URL}?q=1`, { headers: { 'x-request-id': 'r-1' } });

    expect([response.status, response.upstream]).toEqual([200, 'reviews-0']);
    expect(await eventually(() => shadow?.seen.length === 1, 1000)).toBe(true);
    expect(shadow?.seen[0]?.headers.host).toBe('reviews-shadow:9080');
    expect(shadow?.seen[0]?.path).toBe('/reviews/1?q=1');
    expect(shadow?.seen[0]?.headers['x-request-id']).toBe('r-1');
    expect(primary?.seen[0]?.headers.host).toBe('reviews:9080');
  });

  it('does not let a mirror that resets its connections affect the caller', async () => {
    const [primary, shadow] = await scenario.start(2);
    shadow?.behave(() => ({ kind: 'reset' }));
    const { dispatcher } = scenario.open(MIRRORED, [
      workload('reviews', 'reviews-0', primary?.port ?? 0, { version: 'v1' }),
      workload('reviews', 'reviews-1', shadow?.port ?? 0, { version: 'v2' }),
    ]);

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(dispatcher, URL)).status);

    expect(statuses).toEqual([200, 200, 200]);
    expect(primary?.seen).toHaveLength(3);
    expect(await eventually(() => shadow?.heads === 3, 1000)).toBe(true);
  });
});
