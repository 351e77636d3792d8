import { status as Status } from '@grpc/grpc-js';
import { FakeClock } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { singleRoute } from '../../core/test/support/istio-yaml.ts';
import { callUnary } from './support/calls.ts';
import { createScenario, SERVICE } from './support/mesh-scenario.ts';
import { eventually } from './support/waiting.ts';

const scenario = createScenario();
afterEach(() => scenario.close());

describe('fault injection', () => {
  it('aborts with the route’s grpcStatus, flag FI, sends nothing and does not retry it', async () => {
    const [server] = await scenario.start(1);
    const { client, events } = scenario.open(
      singleRoute(
        SERVICE,
        `fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 100 } } }
retries: { attempts: 3, retryOn: unavailable }`,
      ),
    );

    const result = await callUnary(client, 'Get');

    expect([result.code, result.flags, result.errorCode]).toEqual([
      Status.UNAVAILABLE,
      ['FI'],
      'WEFT_ERR_FAULT_INJECTED',
    ]);
    expect(result.error?.details).toBe('fault filter abort');
    expect(server?.seen).toEqual([]);
    expect(events.retry).toEqual([]);
    expect(events.fault.map((event) => event.type === 'fault-injected' && event.grpcStatus)).toEqual([14]);
  });

  it.each([
    [503, Status.UNAVAILABLE],
    [429, Status.UNAVAILABLE],
    [404, Status.UNIMPLEMENTED],
    [403, Status.PERMISSION_DENIED],
    [401, Status.UNAUTHENTICATED],
    [400, Status.INTERNAL],
    [500, Status.UNKNOWN],
  ])('maps an httpStatus %i abort to the gRPC status Envoy sends (%i)', async (httpStatus, code) => {
    await scenario.start(1);
    const { client } = scenario.open(
      singleRoute(SERVICE, `fault: { abort: { httpStatus: ${httpStatus}, percentage: { value: 100 } } }`),
    );

    const result = await callUnary(client, 'Post');

    expect([result.code, result.flags]).toEqual([code, ['FI']]);
  });

  it('aborts the configured share of calls (50% of 200 within bounds)', async () => {
    await scenario.start(1);
    const { client } = scenario.open(
      singleRoute(SERVICE, 'fault: { abort: { grpcStatus: INTERNAL, percentage: { value: 50 } } }'),
      undefined,
      { seed: 3 },
    );

    const results = await Promise.all(Array.from({ length: 200 }, () => callUnary(client, 'Get')));

    const aborted = results.filter((result) => result.code === Status.INTERNAL).length;
    // Binomial(200, 0.5): standard deviation about 7; ±5 of them.
    expect(aborted).toBeGreaterThanOrEqual(65);
    expect(aborted).toBeLessThanOrEqual(135);
    expect(results.filter((result) => result.code === Status.OK)).toHaveLength(200 - aborted);
  });

  it('delays a call by the fixed delay before sending it', async () => {
    const [server] = await scenario.start(1);
    const clock = new FakeClock();
    const { client } = scenario.open(
      singleRoute(SERVICE, 'fault: { delay: { fixedDelay: 2s, percentage: { value: 100 } } }'),
      undefined,
      { clock },
    );

    const pending = callUnary(client, 'Get');
    // Nothing leaves while the delay runs; then the call goes out as usual.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server?.seen).toEqual([]);
    clock.advance(2_000);
    const result = await pending;

    expect([result.code, result.reply?.servedBy]).toEqual([Status.OK, 'reviews-0']);
    expect(server?.seen).toHaveLength(1);
  });

  it('counts a delay against the route timeout: DEADLINE_EXCEEDED with flags DI,UT', async () => {
    const [server] = await scenario.start(1);
    const clock = new FakeClock();
    const { client } = scenario.open(
      singleRoute(SERVICE, 'timeout: 5s\nfault: { delay: { fixedDelay: 10s, percentage: { value: 100 } } }'),
      undefined,
      { clock },
    );

    const pending = callUnary(client, 'Get');
    clock.advance(5_000);
    const result = await pending;

    expect([result.code, result.flags]).toEqual([Status.DEADLINE_EXCEEDED, ['DI', 'UT']]);
    expect(server?.seen).toEqual([]);
  });

  it('delays, then aborts, when both are drawn (flags DI,FI)', async () => {
    const [server] = await scenario.start(1);
    const clock = new FakeClock();
    const { client } = scenario.open(
      singleRoute(
        SERVICE,
        `fault:
  delay: { fixedDelay: 1s, percentage: { value: 100 } }
  abort: { grpcStatus: RESOURCE_EXHAUSTED, percentage: { value: 100 } }`,
      ),
      undefined,
      { clock },
    );

    const pending = callUnary(client, 'Get');
    expect(await eventually(() => clock.pendingTimers > 0)).toBe(true);
    clock.advance(1_000);
    const result = await pending;

    expect([result.code, result.flags]).toEqual([Status.RESOURCE_EXHAUSTED, ['DI', 'FI']]);
    expect(server?.seen).toEqual([]);
  });
});
