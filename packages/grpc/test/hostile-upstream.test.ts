/**
 * bad-inputs C11: an upstream whose HTTP/2 is hostile — GOAWAY before or during a call, SETTINGS
 * that allow no stream or one at a time, a flow-control window that never opens, no SETTINGS at
 * all. Weft's meshed client must not crash or hang: a call is retried where that is safe (nothing
 * was processed) or fails with a clear status within its deadline, the channel reconnects, and
 * later calls succeed. The upstream is test/support/hostile-h2-server.ts (node:http2, node:net).
 */
import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { singleRoute } from '../../core/test/support/istio-yaml.ts';
import { SETTINGS_TIMEOUT_OPTION, settingsTimeoutOf } from '../src/security/settings-deadline.ts';
import { type CallResult, callUnary } from './support/calls.ts';
import type { EchoReply } from './support/echo-service.ts';
import {
  type HostileServer,
  type HostileServerOptions,
  type SilentServer,
  startHostileServer,
  startSilentServer,
} from './support/hostile-h2-server.ts';
import { createScenario, grpcWorkload, SERVICE } from './support/mesh-scenario.ts';

const scenario = createScenario();
const upstreams: (HostileServer | SilentServer)[] = [];
afterEach(async () => {
  await scenario.close();
  for (const upstream of upstreams.splice(0)) await upstream.close();
});

async function hostile(options: HostileServerOptions): Promise<HostileServer> {
  const server = await startHostileServer({ name: 'hostile-0', ...options });
  upstreams.push(server);
  return server;
}

/** Calls `Get` with a deadline; how it ended and how long it took. */
async function timedGet(
  client: Parameters<typeof callUnary>[0],
  deadlineMs: number,
): Promise<{ result: CallResult<EchoReply>; elapsedMs: number }> {
  const startedAtMs = performance.now();
  const result = await callUnary(client, 'Get', { text: 'hi' }, { deadlineMs });
  return { result, elapsedMs: performance.now() - startedAtMs };
}

/** Waits (bounded: 3 s) until `condition` holds; whether it did. */
async function waitFor(condition: () => boolean): Promise<boolean> {
  for (let round = 0; round < 300 && !condition(); round++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

describe('C11: GOAWAY from the upstream', () => {
  it('retries a call the upstream refused with GOAWAY before processing it, even a POST, on a new connection', async () => {
    const server = await hostile({ plan: ['goaway-before-processing'] });
    const { client, events } = scenario.open('', [grpcWorkload(SERVICE, 'hostile-0', server.port)]);

    const refused = await callUnary(client, 'Post', { text: 'once' }, { deadlineMs: 5_000 });
    const later = await timedGet(client, 5_000);

    expect([refused.code, refused.reply?.servedBy]).toEqual([Status.OK, 'hostile-0']);
    expect([later.result.code, later.result.reply?.servedBy]).toEqual([Status.OK, 'hostile-0']);
    // The refused stream was never processed (its id is above GOAWAY's last stream), so it is
    // sent again on a new connection below the mesh's retry policy: one attempt, no retry.
    expect(server.sessions()).toBe(2);
    expect(server.calls()).toBe(3);
    expect(server.answered()).toBe(2);
    expect(events.calls.map((event) => [event.grpcStatusName, event.retries])).toEqual([
      ['OK', 0],
      ['OK', 0],
    ]);
  });

  it('fails a call cut by GOAWAY after its response began with UNAVAILABLE, and the next call reconnects', async () => {
    const server = await hostile({ plan: ['goaway-mid-call'] });
    const { client } = scenario.open(
      singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable,reset }'),
      [grpcWorkload(SERVICE, 'hostile-0', server.port)],
    );

    const cut = await timedGet(client, 5_000);
    const later = await timedGet(client, 5_000);

    // The response had begun: retrying it is not safe, whatever the route says.
    expect(cut.result.code).toBe(Status.UNAVAILABLE);
    expect(cut.result.error?.details).toMatch(/\S/);
    expect(server.calls()).toBe(2);
    expect(server.answered()).toBe(1);
    expect(cut.elapsedMs).toBeLessThan(4_000);
    expect([later.result.code, later.result.reply?.servedBy]).toEqual([Status.OK, 'hostile-0']);
    expect(server.sessions()).toBe(2);
  });
});

describe('C11: SETTINGS that limit streams', () => {
  it('SETTINGS_MAX_CONCURRENT_STREAMS 1: concurrent calls queue on the connection and all succeed', async () => {
    const server = await hostile({ settings: { maxConcurrentStreams: 1 }, answerDelayMs: 30 });
    const { client } = scenario.open('', [grpcWorkload(SERVICE, 'hostile-0', server.port)]);

    const results = await Promise.all(Array.from({ length: 5 }, () => timedGet(client, 10_000)));

    expect(results.map(({ result }) => result.code)).toEqual([0, 0, 0, 0, 0]);
    expect(server.maxInFlight()).toBe(1);
    expect(server.answered()).toBe(5);
  });

  it('SETTINGS_MAX_CONCURRENT_STREAMS 0: a call fails within its deadline, and nothing hangs or leaks', async () => {
    const server = await hostile({ settings: { maxConcurrentStreams: 0 } });
    const { client } = scenario.open('', [grpcWorkload(SERVICE, 'hostile-0', server.port)]);

    const calls = [];
    for (let i = 0; i < 3; i++) calls.push(await timedGet(client, 500));

    for (const { result, elapsedMs } of calls) {
      // The call waits for a stream the upstream never allows (HTTP/2 lets it raise the limit later).
      expect(result.code).toBe(Status.DEADLINE_EXCEEDED);
      expect(elapsedMs).toBeLessThan(3_000);
    }
    expect(server.calls()).toBe(0);
    expect(server.openSockets()).toBeLessThanOrEqual(1);
  });

  it('SETTINGS_MAX_CONCURRENT_STREAMS 0 and no caller deadline: the route timeout ends the call', async () => {
    const server = await hostile({ settings: { maxConcurrentStreams: 0 } });
    const { client } = scenario.open(singleRoute(SERVICE, 'timeout: 400ms'), [
      grpcWorkload(SERVICE, 'hostile-0', server.port),
    ]);

    const startedAtMs = performance.now();
    const result = await callUnary(client, 'Get');

    expect([result.code, result.flags]).toEqual([Status.DEADLINE_EXCEEDED, ['UT']]);
    expect(performance.now() - startedAtMs).toBeLessThan(3_000);
    expect(server.calls()).toBe(0);
  });
});

describe('C11: flow control and SETTINGS that never come', () => {
  it('a one-byte window the upstream never opens: the call ends at its deadline, and the connection serves the next', async () => {
    const server = await hostile({
      settings: { initialWindowSize: 1, headerTableSize: 2 ** 32 - 1 },
      plan: ['stall-flow-control'],
    });
    const { client } = scenario.open('', [grpcWorkload(SERVICE, 'hostile-0', server.port)]);

    const stalled = await timedGet(client, 500);
    const next = await timedGet(client, 5_000);

    expect(stalled.result.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(stalled.elapsedMs).toBeLessThan(3_000);
    expect([next.result.code, next.result.reply?.servedBy]).toEqual([Status.OK, 'hostile-0']);
    // One connection: the stalled stream was reset at the deadline, not the connection.
    expect(server.sessions()).toBe(1);
    expect(server.calls()).toBe(2);
    expect(await waitFor(() => server.inFlight() === 0)).toBe(true);
  });

  it('an upstream that never sends SETTINGS: calls end at their deadline on one pending connection', async () => {
    const silent = await startSilentServer();
    upstreams.push(silent);
    const { client } = scenario.open('', [grpcWorkload(SERVICE, 'silent-0', silent.port)]);

    const calls = [];
    for (let i = 0; i < 4; i++) calls.push(await timedGet(client, 400));

    for (const { result, elapsedMs } of calls) {
      expect(result.code).toBe(Status.DEADLINE_EXCEEDED);
      expect(elapsedMs).toBeLessThan(3_000);
    }
    // The client did send its preface; the calls waited on that one connection, none piled up.
    expect(silent.bytesRead()).toBeGreaterThan(0);
    expect(silent.accepted()).toBe(1);
  });
});

describe('C11: a connection that never gets SETTINGS is closed (weft.settings_timeout_ms)', () => {
  it('is 20 s unless the channel options say otherwise', () => {
    expect(settingsTimeoutOf({})).toBe(20_000);
    expect(settingsTimeoutOf({ [SETTINGS_TIMEOUT_OPTION]: 300 })).toBe(300);
    expect(settingsTimeoutOf({ [SETTINGS_TIMEOUT_OPTION]: -1 })).toBe(20_000);
  });

  it('closes it after the timeout: the call fails UNAVAILABLE with the reason, and no socket stays open', async () => {
    const silent = await startSilentServer();
    upstreams.push(silent);
    const { client, events } = scenario.open('', [grpcWorkload(SERVICE, 'silent-0', silent.port)], {
      clientOptions: { [SETTINGS_TIMEOUT_OPTION]: 300 },
    });

    const call = await timedGet(client, 5_000);

    // Long before the 5 s deadline: the connection failed, and the retries found no other endpoint.
    expect([call.result.code, call.result.flags]).toEqual([Status.UNAVAILABLE, ['UF', 'URX']]);
    expect(call.result.error?.details).toContain('sent no HTTP/2 SETTINGS within 300 ms');
    expect(call.elapsedMs).toBeLessThan(3_000);
    expect(events.attempts[0]?.outcome).toBe('connect-failure');
    expect(await waitFor(() => silent.openSockets() === 0)).toBe(true);
  });
});
