import { Metadata, type ServiceError, status as Status } from '@grpc/grpc-js';
import { FakeClock } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { singleRoute } from '../../core/test/support/istio-yaml.ts';
import { RESPONSE_FLAGS_METADATA } from '../src/index.ts';
import { callUnary } from './support/calls.ts';
import type { EchoReply } from './support/echo-service.ts';
import { createScenario, SERVICE } from './support/mesh-scenario.ts';
import { eventually } from './support/waiting.ts';

const scenario = createScenario();
afterEach(() => scenario.close());

// Timers of the mesh run on a FakeClock: a route timeout fires when the test advances it, never
// on its own. Timeouts are long in wall time, so grpc-js's own deadline never fires first.

describe('timeouts as deadlines', () => {
  it('ends a call at the route timeout with DEADLINE_EXCEEDED, flag UT, and cancels it upstream', async () => {
    const [server] = await scenario.start(1);
    server?.behave(() => ({ kind: 'hang' }));
    const clock = new FakeClock();
    const { client, events } = scenario.open(singleRoute(SERVICE, 'timeout: 30s'), undefined, { clock });

    const pending = callUnary(client, 'Get');
    expect(await eventually(() => server?.seen.length === 1)).toBe(true);
    clock.advance(30_000);
    const result = await pending;

    expect([result.code, result.flags, result.errorCode]).toEqual([
      Status.DEADLINE_EXCEEDED,
      ['UT'],
      'WEFT_ERR_TIMEOUT',
    ]);
    // The server saw the call cancelled: nothing keeps working on it.
    expect(await eventually(() => server?.open === 0)).toBe(true);
    expect(events.calls.map((event) => [event.grpcStatusName, event.responseFlags])).toEqual([
      ['DEADLINE_EXCEEDED', ['UT']],
    ]);
  });

  it('sends the route timeout upstream as the call’s deadline (grpc-timeout)', async () => {
    const [server] = await scenario.start(1);
    const { client } = scenario.open(singleRoute(SERVICE, 'timeout: 30s'), undefined, {
      clock: new FakeClock(),
    });

    await callUnary(client, 'Get');

    const remaining = server?.seen[0]?.deadlineRemainingMs ?? 0;
    expect(remaining).toBeLessThanOrEqual(30_000);
    expect(remaining).toBeGreaterThan(20_000);
  });

  it('keeps the caller’s deadline when it is shorter than the route timeout', async () => {
    const [server] = await scenario.start(1);
    const { client } = scenario.open(singleRoute(SERVICE, 'timeout: 60s'));

    await callUnary(client, 'Get', { text: 'd' }, { deadlineMs: 20_000 });

    const remaining = server?.seen[0]?.deadlineRemainingMs ?? 0;
    expect(remaining).toBeLessThanOrEqual(20_000);
    expect(remaining).toBeGreaterThan(10_000);
  });

  it('takes the route timeout when it is shorter than the caller’s deadline', async () => {
    const [server] = await scenario.start(1);
    const { client } = scenario.open(singleRoute(SERVICE, 'timeout: 15s'));

    await callUnary(client, 'Get', { text: 'd' }, { deadlineMs: 60_000 });

    const remaining = server?.seen[0]?.deadlineRemainingMs ?? 0;
    expect(remaining).toBeLessThanOrEqual(15_000);
    expect(remaining).toBeGreaterThan(5_000);
  });

  it('ends a stream that outlives the route timeout, after the messages it already delivered', async () => {
    const [server] = await scenario.start(1);
    server?.behave(() => ({ kind: 'hang', afterMessages: 1 }));
    const clock = new FakeClock();
    const { client } = scenario.open(singleRoute(SERVICE, 'timeout: 10s'), undefined, { clock });

    const received: string[] = [];
    const stream = client.List({ text: 's', count: 1 }, new Metadata(), {});
    stream.on('data', (reply: EchoReply) => received.push(reply.text));
    const ended = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    expect(await eventually(() => received.length === 1)).toBe(true);
    clock.advance(10_000);
    const error = await ended;

    expect([error.code, error.metadata.get(RESPONSE_FLAGS_METADATA)]).toEqual([
      Status.DEADLINE_EXCEEDED,
      ['UT'],
    ]);
    expect(received).toEqual(['held-0']);
  });
});

describe('per-try timeouts', () => {
  it('retries an attempt that outlived perTryTimeout on the next attempt', async () => {
    const [server] = await scenario.start(1);
    server?.behave((_call, index) => (index === 0 ? { kind: 'hang' } : { kind: 'reply' }));
    const clock = new FakeClock();
    const { client, events } = scenario.open(
      singleRoute(SERVICE, 'retries: { attempts: 2, perTryTimeout: 5s, retryOn: reset }'),
      undefined,
      { clock },
    );

    const pending = callUnary(client, 'Get');
    expect(await eventually(() => server?.seen.length === 1)).toBe(true);
    clock.advance(5_000);
    // The retry waits out its back-off (at most 10 × 25 ms) on the fake clock.
    clock.advance(250);
    const result = await pending;

    expect([result.code, result.reply?.servedBy]).toEqual([Status.OK, 'reviews-0']);
    expect(server?.seen).toHaveLength(2);
    expect(events.attempts.map((event) => event.outcome)).toEqual(['per-try-timeout', 'response']);
    // The attempt saw its per-try deadline, not the (absent) call deadline.
    expect(server?.seen[0]?.deadlineRemainingMs).toBeLessThanOrEqual(5_000);
  });

  it('answers DEADLINE_EXCEEDED with flags UT,URX when every attempt timed out', async () => {
    const [server] = await scenario.start(1);
    server?.behave(() => ({ kind: 'hang' }));
    const clock = new FakeClock();
    const { client } = scenario.open(
      singleRoute(SERVICE, 'retries: { attempts: 1, perTryTimeout: 5s, retryOn: reset }'),
      undefined,
      { clock },
    );

    const pending = callUnary(client, 'Get');
    expect(await eventually(() => server?.seen.length === 1)).toBe(true);
    clock.advance(5_000);
    clock.advance(250);
    expect(await eventually(() => server?.seen.length === 2)).toBe(true);
    clock.advance(5_000);
    const result = await pending;

    expect([result.code, result.flags, result.errorCode]).toEqual([
      Status.DEADLINE_EXCEEDED,
      ['UT', 'URX'],
      'WEFT_ERR_RETRIES_EXHAUSTED',
    ]);
  });
});
