/**
 * The admin API against a real agent on 127.0.0.1 with a MemoryStore: apply (valid, invalid,
 * dry run, conditional), list/get/delete, analysis, and the registry.
 */
import type { ConfigIssue, RevisionMark, StoredResource } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentOptions, createAgent } from '../src/index.ts';
import { MemoryStore } from '../src/store/memory-store.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Partial<AgentOptions> = {}) {
  const store = await MemoryStore.open();
  const agent = await createAgent({ store, ...options });
  cleanups.push(async () => {
    await agent.close();
    await store.close();
  });
  return { agent, store, url: agent.url };
}

interface ApplyBody {
  readonly dryRun: boolean;
  readonly mark: RevisionMark;
  readonly results: readonly {
    kind: string;
    name: string;
    namespace: string;
    action: string;
    resourceVersion?: string;
    generation?: number;
  }[];
  readonly warnings: readonly ConfigIssue[];
  readonly findings: readonly ConfigIssue[];
}

interface ErrorBody {
  readonly error: { status: number; code: string; message: string; issues?: ConfigIssue[] } & Record<
    string,
    unknown
  >;
}

async function apply(url: string, body: string, options: { query?: string; contentType?: string } = {}) {
  const response = await fetch(`${url}/v1/apply${options.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/yaml' },
    body,
  });
  return { status: response.status, body: (await response.json()) as ApplyBody & ErrorBody };
}

async function request(url: string, method = 'GET', body?: unknown) {
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & ErrorBody };
}

async function storedNames(url: string): Promise<string[]> {
  const { body } = await request(`${url}/v1/resources`);
  return (body.items as StoredResource[]).map(
    (item) => `${item.kind}/${item.metadata.namespace}/${item.metadata.name}`,
  );
}

const reviewsRoute = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: { host: reviews, subset: v1 }
`;

const reviewsRule = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: { version: v1 }
`;

describe('apply', () => {
  it('stores valid multi-document YAML and reports created, then unchanged, then configured', async () => {
    const { url } = await start();
    const created = await apply(url, `${reviewsRoute}---\n${reviewsRule}`);
    expect(created.status).toBe(200);
    expect(created.body.dryRun).toBe(false);
    expect(created.body.results).toEqual([
      {
        kind: 'VirtualService',
        namespace: 'default',
        name: 'reviews',
        action: 'created',
        resourceVersion: '1',
        generation: 1,
      },
      {
        kind: 'DestinationRule',
        namespace: 'default',
        name: 'reviews',
        action: 'created',
        resourceVersion: '1',
        generation: 1,
      },
    ]);
    expect(created.body.mark.revision).toBe(1);
    expect(await storedNames(url)).toEqual([
      'DestinationRule/default/reviews',
      'VirtualService/default/reviews',
    ]);

    const again = await apply(url, `${reviewsRoute}---\n${reviewsRule}`);
    expect(again.body.results.map((result) => result.action)).toEqual(['unchanged', 'unchanged']);
    expect(again.body.mark.revision).toBe(1);

    const stableRule = reviewsRule.replace('version: v1', 'version: v1-stable');
    const changed = await apply(url, stableRule);
    expect(changed.body.results).toEqual([
      expect.objectContaining({ action: 'configured', resourceVersion: '2', generation: 2 }),
    ]);
    const labelOnly = await apply(
      url,
      stableRule.replace('name: reviews\n', 'name: reviews\n  labels: { team: books }\n'),
    );
    // A metadata-only change is configured without a new generation (generation follows spec).
    expect(labelOnly.body.results[0]).toMatchObject({
      action: 'configured',
      resourceVersion: '3',
      generation: 2,
    });
  });

  it('stores the resource as written, with Kubernetes bookkeeping', async () => {
    const { url } = await start();
    await apply(url, reviewsRoute.replace('hosts: [reviews]', 'hosts: [reviews]\n  exportTo: ["."]'));
    const { status, body } = await request(`${url}/v1/resources/VirtualService/default/reviews`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default', resourceVersion: '1', generation: 1 },
      // Short hosts stay short: clients normalize with their own parser.
      spec: {
        hosts: ['reviews'],
        exportTo: ['.'],
        http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }],
      },
    });
    const metadata = (body as unknown as StoredResource).metadata;
    expect(metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(metadata.uid).not.toBe('');
  });

  it('refuses the whole body when any resource is invalid, naming every issue, and stores nothing', async () => {
    const { url } = await start();
    const broken = `${reviewsRoute}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: broken }
spec:
  subsets: [{ name: v1 }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: typo }
spec:
  acton: DENY
---
apiVersion: networking.istio.io/v1
kind: Frobnicator
metadata: { name: what }
spec: {}
`;
    const { status, body } = await apply(url, broken);
    expect(status).toBe(422);
    expect(body.error.code).toBe('invalid-config');
    expect(body.error.message).toContain('nothing was stored');
    const errors = (body.error.issues ?? []).filter((issue) => issue.severity === 'error');
    expect(errors.map((issue) => [issue.resource, issue.path, issue.location.line])).toEqual(
      expect.arrayContaining([
        ['DestinationRule/default/broken', 'spec.host', expect.any(Number)],
        ['AuthorizationPolicy/default/typo', 'spec.acton', 21],
        ['Frobnicator/default/what', 'kind', 24],
      ]),
    );
    expect(errors).toHaveLength(3);
    for (const issue of errors) expect(issue.location.file).toBe('request body');
    expect(await storedNames(url)).toEqual([]);
  });

  it('refuses the same resource twice in one body', async () => {
    const { url } = await start();
    const { status, body } = await apply(url, `${reviewsRoute}---\n${reviewsRoute}`);
    expect(status).toBe(422);
    expect(body.error.issues?.map((issue) => issue.code)).toEqual(['duplicate-resource']);
    expect(body.error.issues?.[0]?.location.line).toBe(11);
    expect(await storedNames(url)).toEqual([]);
  });

  it('answers malformed YAML and JSON with 400 and where the problem is', async () => {
    const { url } = await start();
    const yaml = await apply(url, 'kind: VirtualService\nmetadata: { name: [unclosed\n');
    expect(yaml.status).toBe(400);
    expect(yaml.body.error.code).toBe('invalid-yaml');
    expect(yaml.body.error.issues?.[0]?.location.line).toBeGreaterThanOrEqual(2);
    const duplicateKey = await apply(url, 'kind: A\nkind: B\n');
    expect(duplicateKey.status).toBe(400);
    expect(duplicateKey.body.error.issues?.[0]?.message).toMatch(/unique/);
    const json = await apply(url, '{"kind": "VirtualService",', { contentType: 'application/json' });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('invalid-json');
    expect(json.body.error.message).toMatch(/not valid JSON/);
    expect(await storedNames(url)).toEqual([]);
  });

  it('accepts JSON, including a kind: List, and honours ?namespace= for resources without one', async () => {
    const { url } = await start();
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'ratings' },
          spec: { host: 'ratings' },
        },
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'details', namespace: 'shop' },
          spec: { host: 'details' },
        },
      ],
    };
    const { status, body } = await apply(url, JSON.stringify(list), {
      contentType: 'application/json; charset=utf-8',
      query: '?namespace=books',
    });
    expect(status).toBe(200);
    expect(body.results.map((result) => `${result.namespace}/${result.name}:${result.action}`)).toEqual([
      'books/ratings:created',
      'shop/details:created',
    ]);
    expect(await storedNames(url)).toEqual(['DestinationRule/books/ratings', 'DestinationRule/shop/details']);
  });

  it('refuses bodies that are neither YAML nor JSON, and empty ones', async () => {
    const { url } = await start();
    const form = await apply(url, 'a=b', { contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('unsupported-media-type');
    const empty = await apply(url, '---\n# nothing\n');
    expect(empty.status).toBe(400);
    const badDryRun = await apply(url, reviewsRule, { query: '?dryRun=yes' });
    expect(badDryRun.status).toBe(400);
  });

  it('reports warnings for ignored fields and analysis findings for the resulting config', async () => {
    const { url } = await start();
    const { status, body } = await apply(
      url,
      reviewsRoute.replace('hosts: [reviews]', 'hosts: [reviews]\n  someNewField: 1'),
    );
    expect(status).toBe(200);
    expect(body.warnings).toEqual([
      expect.objectContaining({
        code: 'unknown-field',
        path: 'spec.someNewField',
        location: expect.objectContaining({ line: 7 }),
      }),
    ]);
    // The route names subset v1, which no DestinationRule defines yet.
    expect(body.findings).toContainEqual(
      expect.objectContaining({ code: 'subset-not-defined', resource: 'VirtualService/default/reviews' }),
    );
    const fixed = await apply(url, reviewsRule);
    expect(fixed.body.findings.map((finding) => finding.code)).not.toContain('subset-not-defined');
    const analysis = await request(`${url}/v1/analyze`);
    expect(analysis.status).toBe(200);
    expect((analysis.body.findings as ConfigIssue[]).map((finding) => finding.code)).not.toContain(
      'subset-not-defined',
    );
    expect(analysis.body.mark).toEqual(fixed.body.mark);
  });

  it('GET /v1/analyze reports what the agent holds', async () => {
    const { url } = await start();
    await apply(url, reviewsRoute);
    const { body } = await request(`${url}/v1/analyze`);
    expect(body.findings).toContainEqual(
      expect.objectContaining({
        code: 'subset-not-defined',
        path: 'spec.http[0].route[0].destination.subset',
      }),
    );
  });
});

describe('dry run', () => {
  it('validates and reports without storing anything', async () => {
    const { url, agent } = await start();
    const { status, body } = await apply(url, reviewsRoute, { query: '?dryRun=true' });
    expect(status).toBe(200);
    expect(body.dryRun).toBe(true);
    expect(body.results).toEqual([
      { kind: 'VirtualService', namespace: 'default', name: 'reviews', action: 'created' },
    ]);
    expect(body.findings.map((finding) => finding.code)).toContain('subset-not-defined');
    expect(await storedNames(url)).toEqual([]);
    expect(agent.mark().revision).toBe(0);
  });

  it('reports configured and unchanged against what is stored', async () => {
    const { url } = await start();
    await apply(url, `${reviewsRoute}---\n${reviewsRule}`);
    const { body } = await apply(
      url,
      `${reviewsRoute}---\n${reviewsRule.replace('version: v1', 'version: v2')}`,
      {
        query: '?dryRun=true',
      },
    );
    expect(body.results.map((result) => result.action)).toEqual(['unchanged', 'configured']);
    const stored = await request(`${url}/v1/resources/DestinationRule/default/reviews`);
    expect(stored.body).toMatchObject({ spec: { subsets: [{ labels: { version: 'v1' } }] } });
  });

  it('still refuses invalid config with 422', async () => {
    const { url } = await start();
    const { status } = await apply(url, reviewsRule.replace('host: reviews', 'host: 42'), {
      query: '?dryRun=true',
    });
    expect(status).toBe(422);
  });
});

describe('optimistic concurrency', () => {
  it('applies with metadata.resourceVersion only when it matches, else 409 and nothing changes', async () => {
    const { url } = await start();
    await apply(url, reviewsRule);
    const stale = reviewsRule
      .replace('name: reviews\n', 'name: reviews\n  resourceVersion: "7"\n')
      .replace('v1 }', 'v2 }');
    const refused = await apply(url, stale);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'conflict', actualResourceVersion: '1' });
    const dryRun = await apply(url, stale, { query: '?dryRun=true' });
    expect(dryRun.status).toBe(409);
    const current = await apply(url, stale.replace('"7"', '"1"'));
    expect(current.status).toBe(200);
    expect(current.body.results[0]).toMatchObject({ action: 'configured', resourceVersion: '2' });
  });

  it('deletes with ?resourceVersion= only when it matches', async () => {
    const { url } = await start();
    await apply(url, reviewsRule);
    const path = `${url}/v1/resources/DestinationRule/default/reviews`;
    const conflict = await request(`${path}?resourceVersion=5`, 'DELETE');
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: 'conflict', actualResourceVersion: '1' });
    expect(await storedNames(url)).toEqual(['DestinationRule/default/reviews']);
    const deleted = await request(`${path}?resourceVersion=1`, 'DELETE');
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted).toEqual({ kind: 'DestinationRule', namespace: 'default', name: 'reviews' });
    expect(await storedNames(url)).toEqual([]);
  });
});

describe('list, get, delete', () => {
  it('lists by kind (any letter case) and namespace, gets one, deletes, and 404s the missing', async () => {
    const { url } = await start();
    await apply(url, `${reviewsRoute}---\n${reviewsRule}`);
    await apply(url, reviewsRule, { query: '?namespace=shop' });
    const byKind = await request(`${url}/v1/resources?kind=destinationrule`);
    expect((byKind.body.items as StoredResource[]).map((item) => item.metadata.namespace)).toEqual([
      'default',
      'shop',
    ]);
    const byNamespace = await request(`${url}/v1/resources?namespace=default`);
    expect((byNamespace.body.items as StoredResource[]).map((item) => item.kind)).toEqual([
      'DestinationRule',
      'VirtualService',
    ]);
    const both = await request(`${url}/v1/resources?kind=VirtualService&namespace=shop`);
    expect(both.body.items).toEqual([]);
    expect((await request(`${url}/v1/resources?kind=Nope`)).body.error.code).toBe('unknown-kind');

    expect((await request(`${url}/v1/resources/destinationrule/shop/reviews`)).status).toBe(200);
    expect((await request(`${url}/v1/resources/DestinationRule/shop/ratings`)).status).toBe(404);
    expect((await request(`${url}/v1/resources/DestinationRule/shop/reviews`, 'DELETE')).status).toBe(200);
    expect((await request(`${url}/v1/resources/DestinationRule/shop/reviews`, 'DELETE')).status).toBe(404);
    expect((await request(`${url}/v1/resources/DestinationRule/shop/reviews`)).status).toBe(404);
  });
});

describe('registry', () => {
  const workload = {
    name: 'ratings-v1-1',
    namespace: 'default',
    service: 'ratings',
    serviceAccount: 'bookinfo-ratings',
    labels: { app: 'ratings', version: 'v1' },
    address: '127.0.0.1',
    ports: { '9080': 40123 },
    protocols: { '9080': 'http' },
    locality: { region: 'eu', zone: 'eu-1' },
    weight: 2,
  };

  it('registers, lists, renews and deregisters a workload', async () => {
    const { url } = await start();
    const registered = await request(`${url}/v1/workloads`, 'POST', { ...workload, ttlMs: 30_000 });
    expect(registered.status).toBe(201);
    expect(registered.body.leaseId).toEqual(expect.any(String));
    expect(registered.body.ttlMs).toBe(30_000);
    const listed = await request(`${url}/v1/workloads`);
    expect(listed.body.items).toEqual([
      { ...workload, ports: { '9080': 40123 }, protocols: { '9080': 'http' } },
    ]);
    expect((await request(`${url}/v1/leases/${registered.body.leaseId as string}`, 'PUT')).status).toBe(200);
    expect((await request(`${url}/v1/leases/no-such-lease`, 'PUT')).status).toBe(404);
    expect((await request(`${url}/v1/workloads/default/ratings-v1-1`, 'DELETE')).status).toBe(200);
    expect((await request(`${url}/v1/workloads`)).body.items).toEqual([]);
    expect((await request(`${url}/v1/workloads/default/ratings-v1-1`, 'DELETE')).status).toBe(404);
  });

  it('refuses registrations with a bad or missing field, naming it', async () => {
    const { url } = await start();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...workload }, /ttlMs/],
      [{ ...workload, ttlMs: 10 }, /ttlMs/],
      [{ ...workload, ttlMs: 30_000, ports: {} }, /ports/],
      [{ ...workload, ttlMs: 30_000, ports: { '9080': 70_000 } }, /port number/],
      [{ ...workload, ttlMs: 30_000, namespace: 'Bad_NS' }, /namespace/],
      [{ ...workload, ttlMs: 30_000, address: 'not an address!' }, /address/],
      [{ ...workload, ttlMs: 30_000, labels: { app: 1 } }, /labels/],
      [{ ...workload, ttlMs: 30_000, lables: {} }, /unknown field "lables"/],
      [{ ...workload, ttlMs: 30_000, locality: { planet: 'earth' } }, /locality/],
    ];
    for (const [body, message] of cases) {
      const answer = await request(`${url}/v1/workloads`, 'POST', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.message).toMatch(message);
    }
    expect((await request(`${url}/v1/workloads`)).body.items).toEqual([]);
  });
});

describe('health', () => {
  it('reports ok with the mark and the number of watches', async () => {
    const { url } = await start();
    const applied = await apply(url, reviewsRule);
    const health = await request(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: 'ok',
      mark: applied.body.mark,
      watchClients: 0,
      selfCheck: { runs: 0, repairs: 0 },
    });
  });
});
