/**
 * Istio's "HTTP traffic authorization" task, reproduced with four Bookinfo services, each a real
 * Weft server on 127.0.0.1 with its own mesh and SVID, calling each other through Weft's client
 * with mTLS: deny everything, then allow GET to productpage from anyone, then details and reviews
 * to productpage's identity, then ratings to reviews' identity — each step asserted on what the
 * page (and a caller outside the mesh) gets.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MESH_TLS_MODE, type Mesh, type RegisteredWorkload, TLS_MODE_LABEL } from '@weft/core';
import { createTestCa, TestIdentity } from '@weft/core/testing';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeshDispatcher, createMeshFetch, type MeshFetch } from '../src/index.ts';
import { createInboundHarness, type InboundHarness } from './support/inbound-harness.ts';

const SERVICES = ['productpage', 'details', 'reviews', 'ratings'] as const;
type Service = (typeof SERVICES)[number];

function policy(name: string, spec: string): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: default
spec:
${spec}`;
}

const ALLOW_NOTHING = policy('allow-nothing', '  {}\n');
const viewer = (app: string, from?: string) =>
  policy(
    `${app}-viewer`,
    `  selector:
    matchLabels:
      app: ${app}
  action: ALLOW
  rules:
  - ${from === undefined ? '' : `from:\n    - source:\n        principals: ["cluster.local/ns/default/sa/${from}"]\n    `}to:
    - operation:
        methods: ["GET"]
`,
  );
const PRODUCTPAGE_VIEWER = viewer('productpage');
const DETAILS_VIEWER = viewer('details', 'bookinfo-productpage');
const REVIEWS_VIEWER = viewer('reviews', 'bookinfo-productpage');
const RATINGS_VIEWER = viewer('ratings', 'bookinfo-reviews');

/** What productpage's page shows: the status of each call it made. */
interface Page {
  readonly details: number;
  readonly reviews: number;
  /** What reviews got from ratings, as it told productpage. */
  readonly ratings: number | null;
  /** Who details saw calling (its X-Forwarded-Client-Cert), when it answered. */
  readonly detailsSaw?: string;
}

const ca = createTestCa();
let harness: InboundHarness;
const meshes = new Map<Service, Mesh>();
const ports = new Map<Service, number>();
const dispatchers: Dispatcher[] = [];

function fetchFor(mesh: Mesh): MeshFetch {
  const dispatcher = createMeshDispatcher(mesh);
  dispatchers.push(dispatcher);
  return createMeshFetch(mesh, { meshDispatcher: dispatcher });
}

async function statusAndJson(response: Response): Promise<{ status: number; json: Record<string, unknown> }> {
  const text = await response.text();
  return { status: response.status, json: response.status === 200 ? JSON.parse(text) : {} };
}

function handlerFor(service: Service, mesh: Mesh) {
  const meshFetch = fetchFor(mesh);
  return async (request: IncomingMessage, response: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (service === 'productpage') {
      const details = await statusAndJson(await meshFetch('http://details:9080/details/0'));
      const reviews = await statusAndJson(await meshFetch('http://reviews:9080/reviews/0'));
      const page: Page = {
        details: details.status,
        reviews: reviews.status,
        ratings: typeof reviews.json.ratings === 'number' ? reviews.json.ratings : null,
        ...(typeof details.json.caller === 'string' ? { detailsSaw: details.json.caller } : {}),
      };
      return send(200, page);
    }
    if (service === 'reviews') {
      const ratings = await meshFetch('http://ratings:9080/ratings/0');
      await ratings.body?.cancel();
      return send(200, { ratings: ratings.status });
    }
    return send(200, { service, caller: request.headers['x-forwarded-client-cert'] });
  };
}

beforeAll(async () => {
  harness = createInboundHarness();
  for (const service of SERVICES) {
    const mesh = harness.mesh(service, {
      serviceAccount: `bookinfo-${service}`,
      identity: new TestIdentity(ca.workload('default', `bookinfo-${service}`)),
    });
    meshes.set(service, mesh);
    const { port } = await harness.serve(mesh, handlerFor(service, mesh));
    ports.set(service, port);
  }
  const registry: RegisteredWorkload[] = SERVICES.map((service) => ({
    name: `${service}-v1`,
    namespace: 'default',
    service,
    serviceAccount: `bookinfo-${service}`,
    labels: { app: service, version: 'v1', [TLS_MODE_LABEL]: MESH_TLS_MODE },
    address: '127.0.0.1',
    ports: { 9080: ports.get(service) as number },
  }));
  for (const mesh of meshes.values()) mesh.setWorkloads(registry);
});

afterAll(async () => {
  for (const dispatcher of dispatchers.splice(0)) await dispatcher.close();
  await harness.close();
});

/** Applies the same policies to every workload, as `kubectl apply` would for the namespace. */
function apply(...policies: string[]): void {
  const yaml = policies.join('---\n');
  for (const mesh of meshes.values()) mesh.applyConfig({ yaml });
}

/** The page, as a browser outside the mesh (plaintext, no identity) gets it. */
async function page(method = 'GET'): Promise<{ status: number; body: string; page?: Page }> {
  const outcome = await harness
    .plain()
    .send(ports.get('productpage') as number, { method, path: '/productpage' });
  if (outcome.kind !== 'response') throw new Error(`no response: ${outcome.error.message}`);
  return {
    status: outcome.status,
    body: outcome.body,
    ...(outcome.status === 200 ? { page: JSON.parse(outcome.body) as Page } : {}),
  };
}

describe("Istio's HTTP traffic authorization task", () => {
  it('before any policy, every call succeeds (over mTLS between the services)', async () => {
    apply();
    expect((await page()).page).toEqual({
      details: 200,
      reviews: 200,
      ratings: 200,
      detailsSaw:
        'By=spiffe://cluster.local/ns/default/sa/bookinfo-details;URI=spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
    });
  });

  it('allow-nothing: every request to every workload is denied with RBAC: access denied', async () => {
    apply(ALLOW_NOTHING);
    expect(await page()).toEqual({ status: 403, body: 'RBAC: access denied' });
    for (const service of SERVICES) {
      const outcome = await harness.plain().get(ports.get(service) as number, `/${service}/0`);
      expect(outcome).toMatchObject({ kind: 'response', status: 403 });
    }
  });

  it('productpage-viewer: GET to productpage from anyone; its calls to details and reviews are denied', async () => {
    apply(ALLOW_NOTHING, PRODUCTPAGE_VIEWER);
    expect((await page()).page).toEqual({ details: 403, reviews: 403, ratings: null });
    expect((await page('POST')).status).toBe(403);
  });

  it('details-viewer: details answers productpage’s identity, and no one else', async () => {
    apply(ALLOW_NOTHING, PRODUCTPAGE_VIEWER, DETAILS_VIEWER);
    expect((await page()).page).toMatchObject({ details: 200, reviews: 403, ratings: null });
    const direct = await harness.plain().get(ports.get('details') as number, '/details/0');
    expect(direct).toMatchObject({ kind: 'response', status: 403 });
    const asReviews = await harness
      .mtls(ca.workload('default', 'bookinfo-reviews'))
      .get(ports.get('details') as number, '/details/0');
    expect(asReviews).toMatchObject({ kind: 'response', status: 403 });
  });

  it('reviews-viewer: reviews answers productpage, but ratings still refuses reviews', async () => {
    apply(ALLOW_NOTHING, PRODUCTPAGE_VIEWER, DETAILS_VIEWER, REVIEWS_VIEWER);
    expect((await page()).page).toMatchObject({ details: 200, reviews: 200, ratings: 403 });
  });

  it('ratings-viewer: the whole page works again', async () => {
    apply(ALLOW_NOTHING, PRODUCTPAGE_VIEWER, DETAILS_VIEWER, REVIEWS_VIEWER, RATINGS_VIEWER);
    expect((await page()).page).toMatchObject({ details: 200, reviews: 200, ratings: 200 });
    const denials = meshes.get('ratings')?.telemetry.stats.get('weft.denials.authorization') ?? 0;
    expect(denials).toBeGreaterThan(0);
  });
});
