import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  destinationRule,
  joinDocuments,
  virtualServiceRoutes as virtualService,
} from '../../core/test/support/istio-yaml.ts';
import { callChat, callUnary } from './support/calls.ts';
import { countBy, createScenario, grpcWorkload, SERVICE } from './support/mesh-scenario.ts';

const scenario = createScenario();
afterEach(() => scenario.close());

const balancer = (simple: string) => destinationRule(SERVICE, `loadBalancer: { simple: ${simple} }`);

describe('per-call load balancing on one channel', () => {
  it('spreads calls over every endpoint with ROUND_ROBIN, one HTTP/2 channel for all of them', async () => {
    await scenario.start(3);
    const { client } = scenario.open(balancer('ROUND_ROBIN'));

    const results = [];
    for (let i = 0; i < 30; i++) results.push(await callUnary(client, 'Get'));

    expect(countBy(results, (result) => result.reply?.servedBy)).toEqual(
      new Map([
        ['reviews-0', 10],
        ['reviews-1', 10],
        ['reviews-2', 10],
      ]),
    );
    expect(client.getChannel().getTarget()).toBe('weft:///reviews.default:9080');
  });

  it('balances concurrent calls too, streams included', async () => {
    await scenario.start(3);
    const { client } = scenario.open(balancer('ROUND_ROBIN'));

    const results = await Promise.all(Array.from({ length: 12 }, () => callChat(client, [{ text: 'c' }])));

    expect(countBy(results, (result) => result.reply?.[0]?.servedBy)).toEqual(
      new Map([
        ['reviews-0', 4],
        ['reviews-1', 4],
        ['reviews-2', 4],
      ]),
    );
  });

  it.each(['RANDOM', 'LEAST_REQUEST'])('reaches every endpoint with %s', async (simple) => {
    await scenario.start(3);
    const { client } = scenario.open(balancer(simple));

    const results = await Promise.all(Array.from({ length: 60 }, () => callUnary(client, 'Get')));

    const served = countBy(results, (result) => result.reply?.servedBy);
    expect([...served.keys()].sort()).toEqual(['reviews-0', 'reviews-1', 'reviews-2']);
  });

  it.each([
    ['RING_HASH', 'ringHash: { minimumRingSize: 1024 }'],
    ['MAGLEV', 'maglev: { tableSize: 65537 }'],
  ])('keeps a key on one endpoint with consistentHash on metadata (%s)', async (_name, algorithm) => {
    await scenario.start(3);
    const { client } = scenario.open(
      destinationRule(
        SERVICE,
        `loadBalancer:\n  consistentHash:\n    httpHeaderName: x-user\n    ${algorithm}`,
      ),
    );

    const byUser = new Map<string, Set<string | undefined>>();
    for (let user = 0; user < 12; user++) {
      for (let repeat = 0; repeat < 4; repeat++) {
        const result = await callUnary(
          client,
          'Get',
          { text: 'h' },
          { metadata: { 'x-user': `user-${user}` } },
        );
        const served = byUser.get(`user-${user}`) ?? new Set();
        served.add(result.reply?.servedBy);
        byUser.set(`user-${user}`, served);
      }
    }

    // Each user always lands on one endpoint, and the users do not all land on the same one.
    expect([...byUser.values()].every((served) => served.size === 1)).toBe(true);
    const endpoints = new Set([...byUser.values()].flatMap((served) => [...served]));
    expect(endpoints.size).toBeGreaterThan(1);
  });
});

describe('endpoints follow the mesh', () => {
  it('sends calls to endpoints that register later and stops sending to those that leave', async () => {
    const [first, second] = await scenario.start(2);
    if (first === undefined || second === undefined) throw new Error('servers did not start');
    const { client, mesh } = scenario.open(balancer('ROUND_ROBIN'), [
      grpcWorkload(SERVICE, first.name, first.port),
    ]);

    await callUnary(client, 'Get');
    mesh.setWorkloads([
      grpcWorkload(SERVICE, first.name, first.port),
      grpcWorkload(SERVICE, second.name, second.port),
    ]);
    const afterJoin = [];
    for (let i = 0; i < 6; i++) afterJoin.push(await callUnary(client, 'Get'));
    mesh.setWorkloads([grpcWorkload(SERVICE, second.name, second.port)]);
    const afterLeave = [];
    for (let i = 0; i < 4; i++) afterLeave.push(await callUnary(client, 'Get'));

    expect(countBy(afterJoin, (result) => result.reply?.servedBy)).toEqual(
      new Map([
        ['reviews-0', 3],
        ['reviews-1', 3],
      ]),
    );
    expect(countBy(afterLeave, (result) => result.reply?.servedBy)).toEqual(new Map([['reviews-1', 4]]));
  });

  it('answers UNAVAILABLE (UH) when the subset a route chose has no endpoint', async () => {
    await scenario.startVersions(['v1']);
    const { client } = scenario.open(
      joinDocuments(
        destinationRule(SERVICE, '', ['v1', 'v2']),
        virtualService(SERVICE, `- route: [{ destination: { host: ${SERVICE}, subset: v2 } }]`),
      ),
    );

    const result = await callUnary(client, 'Get');

    expect([result.code, result.flags, result.errorCode]).toEqual([
      Status.UNAVAILABLE,
      ['UH'],
      'WEFT_ERR_NO_HEALTHY_UPSTREAM',
    ]);
    expect(result.error?.details).toContain('outbound|9080|v2|reviews.default.svc.cluster.local');
  });

  it('refuses calls (NR) once the service left the registry', async () => {
    const [server] = await scenario.start(1);
    const { client, mesh } = scenario.open(balancer('ROUND_ROBIN'));
    const before = await callUnary(client, 'Get');

    mesh.setWorkloads([]);
    const after = await callUnary(client, 'Get');

    expect(before.code).toBe(Status.OK);
    expect([after.code, after.flags]).toEqual([Status.UNAVAILABLE, ['NR']]);
    expect(server?.seen).toHaveLength(1);
  });
});
