import { Metadata, status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationRule } from '../../core/test/support/istio-yaml.ts';
import { callUnary } from './support/calls.ts';
import { closedPort } from './support/echo-server.ts';
import type { EchoReply } from './support/echo-service.ts';
import { countBy, createScenario, grpcWorkload, SERVICE } from './support/mesh-scenario.ts';
import { eventually } from './support/waiting.ts';

const scenario = createScenario();
afterEach(() => scenario.close());

/** `reply`, once `gate` opens. */
async function after(gate: Promise<void>, reply: EchoReply): Promise<EchoReply> {
  await gate;
  return reply;
}

const outlierPolicy = (detection: string) =>
  destinationRule(
    SERVICE,
    `loadBalancer: { simple: ROUND_ROBIN }
outlierDetection: { ${detection}, interval: 10s, baseEjectionTime: 60s, maxEjectionPercent: 100 }`,
  );

describe('outlier detection', () => {
  it('ejects an endpoint after consecutive INTERNAL statuses (5xx) and sends it nothing more', async () => {
    const [bad, good] = await scenario.start(2);
    bad?.behave(() => ({ kind: 'fail', code: Status.INTERNAL }));
    const { client, events } = scenario.open(outlierPolicy('consecutive5xxErrors: 3'));

    const before = [];
    for (let i = 0; i < 6; i++) before.push(await callUnary(client, 'Post'));
    const after = [];
    for (let i = 0; i < 10; i++) after.push(await callUnary(client, 'Post'));

    expect(before.filter((result) => result.code === Status.INTERNAL)).toHaveLength(3);
    expect(events.outlier.filter((event) => event.type === 'ejected').map((event) => event.endpoint)).toEqual(
      [`127.0.0.1:${bad?.port}`],
    );
    expect(countBy(after, (result) => result.reply?.servedBy)).toEqual(new Map([[good?.name ?? '', 10]]));
  });

  it('counts UNAVAILABLE and DEADLINE_EXCEEDED as gateway errors (consecutiveGatewayErrors)', async () => {
    const [bad] = await scenario.start(2);
    bad?.behave((_call, index) => ({
      kind: 'fail',
      code: index % 2 === 0 ? Status.UNAVAILABLE : Status.DEADLINE_EXCEEDED,
    }));
    const { client, events } = scenario.open(outlierPolicy('consecutiveGatewayErrors: 2'));

    for (let i = 0; i < 4; i++) await callUnary(client, 'Post');

    expect(events.outlier.filter((event) => event.type === 'ejected').map((event) => event.endpoint)).toEqual(
      [`127.0.0.1:${bad?.port}`],
    );
  });

  it('ejects an endpoint that refuses connections', async () => {
    const [live] = await scenario.start(1);
    const dead = await closedPort();
    const { client, events } = scenario.open(outlierPolicy('consecutiveGatewayErrors: 2'), [
      grpcWorkload(SERVICE, 'dead', dead),
      grpcWorkload(SERVICE, 'live', live?.port ?? 0),
    ]);

    for (let i = 0; i < 6; i++) await callUnary(client, 'Get');

    expect(events.outlier.filter((event) => event.type === 'ejected').map((event) => event.endpoint)).toEqual(
      [`127.0.0.1:${dead}`],
    );
  });
});

describe('connection-pool limits', () => {
  it('refuses a call over http2MaxRequests with UNAVAILABLE, flag UO', async () => {
    const [server] = await scenario.start(1);
    server?.behave((_call, index) => (index === 0 ? { kind: 'hang' } : { kind: 'reply' }));
    const { client, events } = scenario.open(
      destinationRule(SERVICE, 'connectionPool: { http: { http2MaxRequests: 1 } }'),
    );

    const holding = client.List({ text: 'h' }, new Metadata(), {});
    holding.on('error', () => {});
    expect(await eventually(() => server?.seen.length === 1)).toBe(true);
    const refused = await callUnary(client, 'Get');
    holding.cancel();
    const afterwards = await callUnary(client, 'Get');

    expect([refused.code, refused.flags, refused.errorCode]).toEqual([
      Status.UNAVAILABLE,
      ['UO'],
      'WEFT_ERR_UPSTREAM_OVERFLOW',
    ]);
    expect(events.overflow.map((event) => event.reason)).toEqual(['max-requests']);
    expect(afterwards.code).toBe(Status.OK);
  });

  it('queues calls beyond maxConnections × maxConcurrentStreams, up to http1MaxPendingRequests', async () => {
    const [server] = await scenario.start(1);
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server?.behave((_call, index) =>
      index === 0
        ? {
            kind: 'custom',
            respond: (call) => after(gate, { text: call.requests[0]?.text ?? '', servedBy: 'gated' }),
          }
        : { kind: 'reply' },
    );
    const { client, events } = scenario.open(
      destinationRule(
        SERVICE,
        'connectionPool: { tcp: { maxConnections: 1 }, http: { maxConcurrentStreams: 1, http1MaxPendingRequests: 1 } }',
      ),
    );

    const first = callUnary(client, 'Get', { text: 'first' });
    expect(await eventually(() => server?.seen.length === 1)).toBe(true);
    const queued = callUnary(client, 'Get', { text: 'queued' });
    const overflowing = await callUnary(client, 'Get', { text: 'overflowing' });
    const seenWhileQueued = server?.seen.length;
    release?.();

    expect([overflowing.code, overflowing.flags]).toEqual([Status.UNAVAILABLE, ['UO']]);
    expect(events.overflow.map((event) => event.reason)).toEqual(['max-pending-requests']);
    expect(seenWhileQueued).toBe(1);
    expect([(await first).reply?.text, (await queued).reply?.text]).toEqual(['first', 'queued']);
  });

  it('multiplexes a gRPC port: tcp.maxConnections bounds connections, not calls in flight', async () => {
    const [server] = await scenario.start(1);
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server?.behave((_call, index) =>
      index === 0
        ? { kind: 'custom', respond: () => after(gate, { text: 'slow', servedBy: 'gated' }) }
        : { kind: 'reply' },
    );
    const { client, events } = scenario.open(
      destinationRule(SERVICE, 'connectionPool: { tcp: { maxConnections: 1 } }'),
    );

    const slow = callUnary(client, 'Get', { text: 'slow' });
    expect(await eventually(() => server?.seen.length === 1)).toBe(true);
    // On one HTTP/2 connection the second call runs beside the first instead of waiting for it.
    const fast = await callUnary(client, 'Get', { text: 'fast' });
    release?.();

    expect([fast.code, fast.reply?.text]).toEqual([Status.OK, 'fast']);
    expect((await slow).reply?.text).toBe('slow');
    expect(events.overflow).toEqual([]);
  });
});
