import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { call } from './support/mesh-client.ts';
import { createScenario } from './support/scenario.ts';
import { sleep } from './support/waiting.ts';

const URL = 'http://reviews:9080/reviews/1';

const scenario = createScenario('reviews');
afterEach(() => scenario.close());

describe('fault injection on the outbound path', () => {
  it('answers an abort with httpStatus 418 at 100% with flag FI and reaches no upstream', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }',
    );

    const response = await call(dispatcher, URL);

    expect([response.status, response.flags, response.body]).toEqual([418, ['FI'], 'fault filter abort']);
    expect(upstream.heads).toBe(0);
    expect(
      events.faults('fault-injected').map(({ httpStatus, delayMs }) => ({ httpStatus, delayMs })),
    ).toEqual([{ httpStatus: 418, delayMs: undefined }]);
  });

  it('delays by fixedDelay 50ms at 100%, then forwards to the upstream', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'fault: { delay: { fixedDelay: 50ms, percentage: { value: 100 } } }',
    );

    const started = performance.now();
    const response = await call(dispatcher, URL);
    const elapsedMs = performance.now() - started;

    expect([response.status, response.upstream]).toEqual([200, 'reviews-0']);
    expect(elapsedMs).toBeGreaterThanOrEqual(48);
    expect(upstream.seen).toHaveLength(1);
    expect(
      events.faults('fault-injected').map(({ delayMs, httpStatus }) => ({ delayMs, httpStatus })),
    ).toEqual([{ delayMs: 50, httpStatus: undefined }]);
  });

  it('aborts about half of 200 requests at percentage 50 (seeded), and only those miss the upstream', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'fault: { abort: { httpStatus: 500, percentage: { value: 50 } } }\nretries: { attempts: 0 }',
      { seed: 11 },
    );

    let aborted = 0;
    for (let i = 0; i < 200; i++) {
      const response = await call(dispatcher, URL);
      if (response.status === 500 && response.flags.includes('FI')) aborted++;
      else expect(response.status).toBe(200);
    }

    // Binomial(200, 0.5): mean 100, sd ≈ 7; ±40 is over 5 sd, and the seed fixes the draw anyway.
    expect(aborted).toBeGreaterThan(60);
    expect(aborted).toBeLessThan(140);
    expect(upstream.seen).toHaveLength(200 - aborted);
    expect(events.faults('fault-injected')).toHaveLength(aborted);
  });

  it('injects nothing when a fault has no percentage (Istio: unspecified means no request)', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      'fault: { delay: { fixedDelay: 5s }, abort: { httpStatus: 500 } }',
    );

    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await call(dispatcher, URL)).status);

    expect(statuses).toEqual(Array(20).fill(200));
    expect(upstream.seen).toHaveLength(20);
    expect(events.fault).toEqual([]);
  });

  it('does not retry an injected abort even when retryOn covers its status', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      `fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }
retries: { attempts: 3, retryOn: "5xx,gateway-error,retriable-status-codes,503" }`,
    );

    const response = await call(dispatcher, URL);

    expect([response.status, response.flags]).toEqual([503, ['FI']]);
    expect(upstream.heads).toBe(0);
    expect(events.retry).toEqual([]);
    expect(events.faults('fault-injected')).toHaveLength(1);
  });

  it('counts an injected delay against the route timeout: delay 200ms, timeout 50ms → 504 (DI,UT)', async () => {
    const { upstream, dispatcher, events, mesh } = await scenario.withRoute(
      'timeout: 50ms\nfault: { delay: { fixedDelay: 200ms, percentage: { value: 100 } } }',
    );

    const response = await call(dispatcher, URL);

    expect(response.status).toBe(504);
    expect(response.flags).toContain('UT');
    // The delayed request is not sent once the delay would have ended either.
    await sleep(250);
    expect(upstream.heads).toBe(0);
    expect(events.faults('fault-injected').map((event) => event.delayMs)).toEqual([200]);
    expect(mesh.faults.activeFaults).toBe(0);
    // docs/retries-and-faults.md §8: "ends at the timeout with WEFT_ERR_TIMEOUT (flags DI,UT)".
    expect(response.flags).toEqual(['DI', 'UT']);
  });

  it('runs the delay, then the abort, when both are drawn (flags DI,FI)', async () => {
    const { upstream, dispatcher, events } = await scenario.withRoute(
      `fault:
  delay: { fixedDelay: 30ms, percentage: { value: 100 } }
  abort: { httpStatus: 429, percentage: { value: 100 } }`,
    );

    const started = performance.now();
    const response = await call(dispatcher, URL);
    const elapsedMs = performance.now() - started;

    expect([response.status, response.flags]).toEqual([429, ['DI', 'FI']]);
    expect(elapsedMs).toBeGreaterThanOrEqual(28);
    expect(upstream.heads).toBe(0);
    expect(
      events.faults('fault-injected').map(({ delayMs, httpStatus }) => ({ delayMs, httpStatus })),
    ).toEqual([{ delayMs: 30, httpStatus: 429 }]);
  });

  it('reports each injected fault on mesh.events.fault with its route', async () => {
    const { dispatcher, events } = await scenario.withRoute(
      'fault: { abort: { httpStatus: 500, percentage: { value: 100 } } }',
    );

    await call(dispatcher, URL);
    await call(dispatcher, URL);

    expect(events.faults('fault-injected')).toHaveLength(2);
    for (const event of events.faults('fault-injected')) {
      expect(event.route).toContain('reviews');
      expect(typeof event.atMs).toBe('number');
    }
  });
});
