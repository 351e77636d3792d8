import { credentials, Metadata, status as Status } from '@grpc/grpc-js';
import { createMesh } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  destinationRule,
  joinDocuments,
  virtualServiceRoutes as virtualService,
} from '../../core/test/support/istio-yaml.ts';
import { meshClientOptions } from '../src/index.ts';
import { callChat, callList, callUnary } from './support/calls.ts';
import { EchoClientConstructor } from './support/echo-service.ts';
import { countBy, createScenario, grpcWorkload, SERVICE } from './support/mesh-scenario.ts';

const scenario = createScenario();
afterEach(() => scenario.close());

const SUBSETS = destinationRule(SERVICE, '', ['v1', 'v2']);

/** A VirtualService sending `match` to v2 and everything else to v1. */
const v2When = (match: string) =>
  joinDocuments(
    SUBSETS,
    virtualService(
      SERVICE,
      `- match: [${match}]
  route: [{ destination: { host: ${SERVICE}, subset: v2 } }]
- route: [{ destination: { host: ${SERVICE}, subset: v1 } }]`,
    ),
  );

describe('routing by /package.Service/Method', () => {
  it('routes an exact method to its subset and the rest of the service elsewhere', async () => {
    await scenario.startVersions(['v1', 'v2']);
    const { client } = scenario.open(v2When('{ uri: { exact: /weft.test.Echo/Get } }'));

    const get = await callUnary(client, 'Get');
    const post = await callUnary(client, 'Post');

    expect([get.reply?.servedBy, post.reply?.servedBy]).toEqual(['reviews-v2', 'reviews-v1']);
  });

  it('routes by a prefix of the service and by a regex over the method name', async () => {
    await scenario.startVersions(['v1', 'v2']);
    const { client } = scenario.open(
      joinDocuments(
        SUBSETS,
        virtualService(
          SERVICE,
          `- match: [{ uri: { regex: "/weft[.]test[.]Echo/(List|Chat)" } }]
  route: [{ destination: { host: ${SERVICE}, subset: v2 } }]
- match: [{ uri: { prefix: /weft.test.Echo/ } }]
  route: [{ destination: { host: ${SERVICE}, subset: v1 } }]`,
        ),
      ),
    );

    const list = await callList(client, { text: 'l', count: 1 });
    const chat = await callChat(client, [{ text: 'c' }]);
    const get = await callUnary(client, 'Get');

    expect([list.reply?.[0]?.servedBy, chat.reply?.[0]?.servedBy, get.reply?.servedBy]).toEqual([
      'reviews-v2',
      'reviews-v2',
      'reviews-v1',
    ]);
  });

  it('routes on metadata as on headers', async () => {
    await scenario.startVersions(['v1', 'v2']);
    const { client } = scenario.open(v2When('{ headers: { x-canary: { exact: "true" } } }'));

    const canary = await callUnary(client, 'Get', { text: 'a' }, { metadata: { 'x-canary': 'true' } });
    const other = await callUnary(client, 'Get', { text: 'b' }, { metadata: { 'x-canary': 'false' } });
    const none = await callUnary(client, 'Get');

    expect([canary.reply?.servedBy, other.reply?.servedBy, none.reply?.servedBy]).toEqual([
      'reviews-v2',
      'reviews-v1',
      'reviews-v1',
    ]);
  });

  it('splits calls between weighted subsets within statistical bounds (80/20 over 400 calls)', async () => {
    await scenario.startVersions(['v1', 'v2']);
    const { client, events } = scenario.open(
      joinDocuments(
        SUBSETS,
        virtualService(
          SERVICE,
          `- route:
  - { destination: { host: ${SERVICE}, subset: v1 }, weight: 80 }
  - { destination: { host: ${SERVICE}, subset: v2 }, weight: 20 }`,
        ),
      ),
      undefined,
      { seed: 11 },
    );

    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) => callUnary(client, 'Get', { text: `${i}` })),
    );

    const served = countBy(results, (result) => result.reply?.servedBy);
    // Binomial(400, 0.8): mean 320, standard deviation 8; ±5 standard deviations.
    expect(served.get('reviews-v1')).toBeGreaterThanOrEqual(280);
    expect(served.get('reviews-v1')).toBeLessThanOrEqual(360);
    expect((served.get('reviews-v1') ?? 0) + (served.get('reviews-v2') ?? 0)).toBe(400);
    // The call events name the subset each call was routed to.
    expect(countBy(events.calls, (event) => event.subset)).toEqual(
      new Map([
        ['v1', served.get('reviews-v1')],
        ['v2', served.get('reviews-v2')],
      ]),
    );
  });

  it('answers a method no route matches with UNIMPLEMENTED, flag NR, sending nothing', async () => {
    const [server] = await scenario.startVersions(['v1']).then((byVersion) => [...byVersion.values()]);
    const { client } = scenario.open(
      joinDocuments(
        SUBSETS,
        virtualService(
          SERVICE,
          `- match: [{ uri: { exact: /weft.test.Echo/Get } }]\n  route: [{ destination: { host: ${SERVICE}, subset: v1 } }]`,
        ),
      ),
    );

    const result = await callUnary(client, 'Post');

    expect([result.code, result.flags, result.errorCode]).toEqual([
      Status.UNIMPLEMENTED,
      ['NR'],
      'WEFT_ERR_NO_ROUTE',
    ]);
    expect(result.error?.details).toContain('/weft.test.Echo/Post');
    expect(server?.seen).toEqual([]);
  });

  it('applies the route’s metadata operations and never lets the endpoint hint reach the server', async () => {
    const [server] = await scenario.start(1);
    const { client } = scenario.open(
      virtualService(
        SERVICE,
        `- route: [{ destination: { host: ${SERVICE} } }]
  headers:
    request:
      set: { x-set-by-mesh: "yes" }
      remove: [x-drop-me]`,
      ),
    );

    const result = await callUnary(
      client,
      'Get',
      { text: 'h' },
      { metadata: { 'x-drop-me': '1', 'x-keep': '2' } },
    );

    expect(result.code).toBe(Status.OK);
    const seen = server?.seen[0]?.metadata;
    expect(seen?.get('x-set-by-mesh')).toEqual(['yes']);
    expect(seen?.get('x-drop-me')).toEqual([]);
    expect(seen?.get('x-keep')).toEqual(['2']);
    expect(seen?.get('x-weft-internal-endpoint')).toEqual([]);
  });
});

describe('targets', () => {
  it('takes a plain target (reviews:9080) through meshClientOptions', async () => {
    await scenario.start(1);
    scenario.open('');
    const client = scenario.client('reviews:9080');

    const result = await callUnary(client, 'Get');

    expect([result.code, result.reply?.servedBy]).toEqual([Status.OK, 'reviews-0']);
    expect(client.getChannel().getTarget()).toBe('weft:///reviews:9080');
  });

  it('leaves a target the mesh does not know to grpc-js under ALLOW_ANY', async () => {
    const outside = await scenario.startOther('outside');
    scenario.open('', []);
    const client = scenario.client(`127.0.0.1:${outside.port}`);

    const result = await callUnary(client, 'Post');

    expect([result.code, result.reply?.servedBy]).toEqual([Status.OK, 'outside']);
  });

  it('refuses calls to a host outside the registry under REGISTRY_ONLY (UNAVAILABLE, NR)', async () => {
    const outside = await scenario.startOther('outside');
    scenario.open('', [], { meshOptions: { outboundTrafficPolicy: 'REGISTRY_ONLY' } });
    const client = scenario.client(`127.0.0.1:${outside.port}`);

    const result = await callUnary(client, 'Post');

    expect([result.code, result.flags, result.errorCode]).toEqual([
      Status.UNAVAILABLE,
      ['NR'],
      'WEFT_ERR_NOT_IN_REGISTRY',
    ]);
    expect(outside.seen).toEqual([]);
  });

  it('refuses a weft: target the mesh does not know with UNAVAILABLE, NR', async () => {
    scenario.open('', []);
    const client = scenario.client('weft:///ratings.default:9080');

    const result = await callUnary(client, 'Get');

    expect([result.code, result.flags]).toEqual([Status.UNAVAILABLE, ['NR']]);
    expect(result.error?.details).toContain('ratings.default:9080 is not a service of the mesh');
  });

  it('explains a weft: channel made without the mesh, and a call that skipped the mesh interceptor', async () => {
    const [server] = await scenario.start(1);
    scenario.open('');
    const bare = new EchoClientConstructor('weft:///reviews.default:9080', credentials.createInsecure());
    const noMesh = await callUnary(bare, 'Get');
    bare.close();

    const mesh = createMesh({
      workload: { name: 'p', namespace: 'default', serviceAccount: 'p', labels: {} },
      workloads: [grpcWorkload(SERVICE, 'reviews-0', server?.port ?? 0)],
    });
    const client = new EchoClientConstructor(
      'weft:///reviews.default:9080',
      credentials.createInsecure(),
      meshClientOptions(mesh, 'weft:///reviews.default:9080'),
    );
    // Call-level interceptors replace the client's, the mesh's included (grpc-js's rule).
    const skipped = await new Promise<{ code: number | undefined; details: string | undefined }>((resolve) =>
      client.Get(
        { text: 'x' },
        new Metadata(),
        { interceptors: [(options, next) => next(options) as never] },
        (error) => resolve({ code: error?.code, details: error?.details }),
      ),
    );
    client.close();
    mesh.close();

    expect(noMesh.code).toBe(Status.UNAVAILABLE);
    expect(noMesh.error?.details).toContain('meshClientOptions');
    expect(skipped.code).toBe(Status.UNAVAILABLE);
    expect(skipped.details).toContain('did not pass through the mesh interceptor');
    expect(server?.seen).toEqual([]);
  });
});
