import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationRule, joinDocuments, singleRoute } from '../../core/test/support/istio-yaml.ts';
import { NON_IDEMPOTENT_RETRY_ANNOTATION } from '../src/index.ts';
import { callCollect, callList, callUnary } from './support/calls.ts';
import { closedPort } from './support/echo-server.ts';
import { createScenario, grpcWorkload, SERVICE } from './support/mesh-scenario.ts';

const scenario = createScenario();
afterEach(() => scenario.close());

const failOnce = (code: Status) => (_call: unknown, index: number) =>
  index === 0 ? ({ kind: 'fail', code } as const) : ({ kind: 'reply' } as const);

describe('retries on gRPC status codes', () => {
  it('retries an UNAVAILABLE idempotent call and returns the next attempt’s reply', async () => {
    const [server] = await scenario.start(1);
    server?.behave(failOnce(Status.UNAVAILABLE));
    const { client, events } = scenario.open(
      singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable }'),
    );

    const result = await callUnary(client, 'Get');

    expect([result.code, result.reply?.servedBy]).toEqual([Status.OK, 'reviews-0']);
    expect(server?.seen).toHaveLength(2);
    expect(events.retry.map((event) => [event.type, event.condition])).toEqual([
      ['retry-scheduled', 'unavailable'],
    ]);
    expect(events.calls.map((event) => [event.retries, event.grpcStatusName, event.responseFlags])).toEqual([
      [1, 'OK', []],
    ]);
    expect(events.attempts.map((event) => [event.attempt, event.outcome, event.grpcStatus])).toEqual([
      [1, 'response', Status.UNAVAILABLE],
      [2, 'response', Status.OK],
    ]);
  });

  it.each([
    ['cancelled', Status.CANCELLED],
    ['deadline-exceeded', Status.DEADLINE_EXCEEDED],
    ['internal', Status.INTERNAL],
    ['resource-exhausted', Status.RESOURCE_EXHAUSTED],
  ])('retries %s', async (condition, code) => {
    const [server] = await scenario.start(1);
    server?.behave(failOnce(code));
    const { client, events } = scenario.open(
      singleRoute(SERVICE, `retries: { attempts: 1, retryOn: ${condition} }`),
    );

    const result = await callUnary(client, 'Get');

    expect(result.code).toBe(Status.OK);
    expect(server?.seen).toHaveLength(2);
    expect(events.retry.map((event) => event.type === 'retry-scheduled' && event.condition)).toEqual([
      condition,
    ]);
  });

  it('does not retry a status retryOn does not name', async () => {
    const [server] = await scenario.start(1);
    server?.behave(failOnce(Status.INTERNAL));
    const { client } = scenario.open(singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable }'));

    const result = await callUnary(client, 'Get');

    expect([result.code, result.flags]).toEqual([Status.INTERNAL, []]);
    expect(server?.seen).toHaveLength(1);
  });

  it('gives the upstream’s last status as it came after the attempts run out', async () => {
    const [server] = await scenario.start(1);
    server?.behave((_call, index) => ({ kind: 'fail', code: Status.UNAVAILABLE, details: `busy-${index}` }));
    const { client, events } = scenario.open(
      singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable }'),
    );

    const result = await callUnary(client, 'Get');

    expect([result.code, result.error?.details, result.flags]).toEqual([Status.UNAVAILABLE, 'busy-2', []]);
    expect(server?.seen).toHaveLength(3);
    expect(
      events.retry.filter((event) => event.type === 'retry-refused').map((event) => event.reason),
    ).toEqual(['attempts-exhausted']);
  });

  it('does not retry a call that is not known to be idempotent once it reached the server', async () => {
    const [server] = await scenario.start(1);
    server?.behave(failOnce(Status.UNAVAILABLE));
    const { client, events } = scenario.open(
      singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable }'),
    );

    const result = await callUnary(client, 'Post');

    expect(result.code).toBe(Status.UNAVAILABLE);
    expect(server?.seen).toHaveLength(1);
    expect(events.retry.map((event) => event.type === 'retry-refused' && event.reason)).toEqual([
      'not-idempotent',
    ]);
  });

  it('retries it when the caller marks the call idempotent, or the route allows it', async () => {
    const [server] = await scenario.start(1);
    server?.behave((_call, index) =>
      index % 2 === 0 ? { kind: 'fail', code: Status.UNAVAILABLE } : { kind: 'reply' },
    );
    scenario.open(singleRoute(SERVICE, 'retries: { attempts: 1, retryOn: unavailable }'));
    const marked = await callUnary(
      scenario.client('weft:///reviews.default:9080'),
      'Post',
      { text: 'm' },
      { isIdempotent: true },
    );
    await scenario.close();

    const [other] = await scenario.start(1);
    other?.behave(failOnce(Status.UNAVAILABLE));
    const { client } = scenario.open(
      singleRoute(
        SERVICE,
        'retries: { attempts: 1, retryOn: unavailable }',
        `${NON_IDEMPOTENT_RETRY_ANNOTATION}: "true"`,
      ),
    );
    const allowed = await callUnary(client, 'Post');

    expect([marked.code, server?.seen.length]).toEqual([Status.OK, 2]);
    expect([allowed.code, other?.seen.length]).toEqual([Status.OK, 2]);
  });

  it('never retries once the response started (metadata came before the failure)', async () => {
    const [server] = await scenario.start(1);
    server?.behave(() => ({ kind: 'fail-after-metadata', code: Status.UNAVAILABLE }));
    const { client } = scenario.open(singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable }'));

    const result = await callUnary(client, 'Get');

    expect(result.code).toBe(Status.UNAVAILABLE);
    expect(server?.seen).toHaveLength(1);
  });

  it('holds retries to the cluster’s budget (connectionPool.http.maxRetries)', async () => {
    const [server] = await scenario.start(1);
    // The first two calls fail at once; every later one (a retry) hangs until the test ends.
    server?.behave((_call, index) =>
      index < 2 ? { kind: 'fail', code: Status.UNAVAILABLE } : { kind: 'hang' },
    );
    const { client, events } = scenario.open(
      joinDocuments(
        destinationRule(SERVICE, 'connectionPool: { http: { maxRetries: 1 } }'),
        singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable }'),
      ),
    );

    void callUnary(client, 'Get', { text: 'a' });
    const refused = await callUnary(client, 'Get', { text: 'b' });

    expect(refused.code).toBe(Status.UNAVAILABLE);
    expect(events.retry.map((event) => event.type)).toEqual(['retry-scheduled', 'retry-refused']);
    expect(events.retry[1]).toMatchObject({ reason: 'budget-exhausted', budgetLimit: 'max-retries' });
  });
});

describe('retries of failed connections', () => {
  it('retries a call whose endpoint refuses connections on another endpoint, by default', async () => {
    const [live] = await scenario.start(1);
    const dead = await closedPort();
    const { client, events } = scenario.open(
      destinationRule(SERVICE, 'loadBalancer: { simple: ROUND_ROBIN }'),
      [grpcWorkload(SERVICE, 'dead', dead), grpcWorkload(SERVICE, 'live', live?.port ?? 0)],
    );

    const results = [];
    for (let i = 0; i < 4; i++) results.push(await callUnary(client, 'Post', { text: `${i}` }));

    // Istio's default policy retries connect-failure, and a call that never left cannot have had
    // effects, so even a non-idempotent call is retried.
    expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0]);
    expect(live?.seen).toHaveLength(4);
    expect(events.attempts.some((event) => event.outcome === 'connect-failure')).toBe(true);
    expect(
      events.retry.every(
        (event) => event.type === 'retry-scheduled' && event.condition === 'connect-failure',
      ),
    ).toBe(true);
  });

  it('answers UNAVAILABLE with flags UF,URX when no endpoint can be reached', async () => {
    const dead = await closedPort();
    const { client, events } = scenario.open('', [grpcWorkload(SERVICE, 'dead', dead)]);

    const result = await callUnary(client, 'Get');

    expect([result.code, result.flags, result.errorCode]).toEqual([
      Status.UNAVAILABLE,
      ['UF', 'URX'],
      'WEFT_ERR_RETRIES_EXHAUSTED',
    ]);
    expect(result.error?.details).toContain(`127.0.0.1:${dead}`);
    expect(events.calls[0]?.attempts).toBe(3);
  });
});

describe('retries of streaming calls', () => {
  it('retries a server-streaming call that failed before its first message', async () => {
    const [server] = await scenario.start(1);
    server?.behave(failOnce(Status.UNAVAILABLE));
    const { client } = scenario.open(singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable }'));

    const result = await callList(client, { text: 's', count: 2 });

    expect([result.code, result.reply?.map((reply) => reply.text)]).toEqual([Status.OK, ['s-0', 's-1']]);
    expect(server?.seen).toHaveLength(2);
  });

  it('does not retry a stream once a message was received: the caller keeps what came', async () => {
    const [server] = await scenario.start(1);
    server?.behave(() => ({ kind: 'fail', code: Status.UNAVAILABLE, afterMessages: 1 }));
    const { client } = scenario.open(singleRoute(SERVICE, 'retries: { attempts: 2, retryOn: unavailable }'));

    const result = await callList(client, { text: 's', count: 3 });

    expect([result.code, result.reply?.map((reply) => reply.text)]).toEqual([Status.UNAVAILABLE, ['s-0']]);
    expect(server?.seen).toHaveLength(1);
  });

  it('does not retry a client stream once a message was sent', async () => {
    const [server] = await scenario.start(1);
    server?.behave(() => ({ kind: 'fail', code: Status.UNAVAILABLE }));
    const { client, events } = scenario.open(
      singleRoute(
        SERVICE,
        'retries: { attempts: 2, retryOn: unavailable }',
        `${NON_IDEMPOTENT_RETRY_ANNOTATION}: "true"`,
      ),
    );

    const result = await callCollect(client, [{ text: 'a' }, { text: 'b' }]);

    expect(result.code).toBe(Status.UNAVAILABLE);
    expect(server?.seen).toHaveLength(1);
    expect(events.retry.map((event) => event.type === 'retry-refused' && event.reason)).toEqual([
      'body-not-replayable',
    ]);
  });
});
