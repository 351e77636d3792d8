import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationRule, singleRoute } from '../../core/test/support/istio-yaml.ts';
import { callChat, callCollect, callList, callUnary } from './support/calls.ts';
import { countBy, createScenario, SERVICE } from './support/mesh-scenario.ts';

const scenario = createScenario();
afterEach(() => scenario.close());

const ROUND_ROBIN = destinationRule(SERVICE, 'loadBalancer: { simple: ROUND_ROBIN }');

describe('the four call types through the mesh', () => {
  it('makes unary calls and balances them over the endpoints', async () => {
    await scenario.start(2);
    const { client } = scenario.open(ROUND_ROBIN);

    const results = [];
    for (let i = 0; i < 4; i++) results.push(await callUnary(client, 'Get', { text: `m${i}` }));

    expect(results.map((result) => result.reply?.text)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(countBy(results, (result) => result.reply?.servedBy)).toEqual(
      new Map([
        ['reviews-0', 2],
        ['reviews-1', 2],
      ]),
    );
  });

  it('streams replies of server-streaming calls, each call to the next endpoint', async () => {
    await scenario.start(2);
    const { client } = scenario.open(ROUND_ROBIN);

    const first = await callList(client, { text: 'a', count: 3 });
    const second = await callList(client, { text: 'b', count: 2 });

    expect(first.code).toBe(Status.OK);
    expect(first.reply?.map((reply) => reply.text)).toEqual(['a-0', 'a-1', 'a-2']);
    expect(second.reply?.map((reply) => reply.text)).toEqual(['b-0', 'b-1']);
    expect(new Set([first.reply?.[0]?.servedBy, second.reply?.[0]?.servedBy])).toEqual(
      new Set(['reviews-0', 'reviews-1']),
    );
  });

  it('sends every message of a client-streaming call and gets the one reply', async () => {
    const [server] = await scenario.start(1);
    const { client } = scenario.open(ROUND_ROBIN);

    const result = await callCollect(client, [{ text: 'x' }, { text: 'y' }, { text: 'z' }]);

    expect([result.code, result.reply?.text]).toEqual([Status.OK, 'x+y+z']);
    expect(server?.seen[0]?.requests.map((request) => request.text)).toEqual(['x', 'y', 'z']);
  });

  it('carries a bidirectional stream both ways, and balances bidi calls per call', async () => {
    await scenario.start(2);
    const { client } = scenario.open(ROUND_ROBIN);

    const first = await callChat(client, [{ text: 'p' }, { text: 'q' }]);
    const second = await callChat(client, [{ text: 'r' }]);

    expect(first.code).toBe(Status.OK);
    expect(first.reply?.map((reply) => reply.text)).toEqual(['p', 'q']);
    expect(second.reply?.map((reply) => reply.text)).toEqual(['r']);
    expect(new Set([first.reply?.[0]?.servedBy, second.reply?.[0]?.servedBy])).toEqual(
      new Set(['reviews-0', 'reviews-1']),
    );
  });

  it('routes a call with no VirtualService over the default route', async () => {
    await scenario.start(1);
    const { client, events } = scenario.open('');

    const result = await callUnary(client, 'Post');

    expect([result.code, result.reply?.servedBy]).toEqual([Status.OK, 'reviews-0']);
    expect(events.calls.map((event) => [event.method, event.route, event.grpcStatusName])).toEqual([
      ['/weft.test.Echo/Post', 'default', 'OK'],
    ]);
  });

  it('keeps a routed service to itself: a single route applies to every call type', async () => {
    await scenario.start(1);
    const { client } = scenario.open(singleRoute(SERVICE));

    const results = await Promise.all([
      callUnary(client, 'Get'),
      callList(client, { text: 's', count: 1 }),
      callCollect(client, [{ text: 'c' }]),
      callChat(client, [{ text: 'd' }]),
    ]);

    expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0]);
  });
});
