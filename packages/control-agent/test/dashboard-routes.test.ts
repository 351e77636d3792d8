/**
 * The dashboard on a real agent on 127.0.0.1: who may see it (loopback with a loopback Host, else
 * the admin token), the page itself (self-contained, its inline script admitted by hash and
 * valid), its state (graph, sync status with the NACK error, analyze findings, certificates), a
 * service's detail (the VirtualService as applied, ejections and faults callers report), and the
 * server-sent event stream that carries the state live.
 */
import { createHash } from 'node:crypto';
import { Script } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DashboardAccess, isLoopbackHost } from '../src/dashboard/dashboard-access.ts';
import { DASHBOARD_SCRIPT } from '../src/dashboard/page/dashboard-page.ts';
import { HttpError } from '../src/http/http-error.ts';
import type { Agent } from '../src/index.ts';
import type { MemoryStore } from '../src/store/memory-store.ts';
import { newStore, REVIEWS, runCleanups, seed, startAgent } from './client-harness.ts';
import {
  edge,
  edgeReport,
  getWithHeaders,
  postEdges,
  rawWatch,
  readEvents,
} from './support/dashboard-harness.ts';

afterEach(runCleanups);

const TOKEN = 'dashboard-admin-token-0123456789';

describe('who may see the dashboard', () => {
  const request = (remoteAddress: string, headers: Record<string, string> = {}) => ({
    socket: { remoteAddress },
    headers: { host: '127.0.0.1:15010', ...headers },
  });
  const outcome = (access: DashboardAccess, req: ReturnType<typeof request>): string => {
    try {
      access.check(req);
      return 'allowed';
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      return `${error.status}${error.headers['www-authenticate'] === undefined ? '' : ' challenge'}`;
    }
  };
  const basic = (password: string) => `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}`;

  it('lets loopback peers in without a login, and nobody else when the agent has no admin token', () => {
    const access = new DashboardAccess(undefined);
    expect(outcome(access, request('127.0.0.1'))).toBe('allowed');
    expect(outcome(access, request('::1', { host: '[::1]:15010' }))).toBe('allowed');
    expect(outcome(access, request('::ffff:127.0.0.1', { host: 'localhost:15010' }))).toBe('allowed');
    expect(outcome(access, request('10.1.2.3'))).toBe('403');
    expect(outcome(access, request('10.1.2.3', { authorization: `Bearer ${TOKEN}` }))).toBe('403');
    // A loopback peer that names another host: DNS rebinding, or a proxy that rewrote nothing.
    expect(outcome(access, request('127.0.0.1', { host: 'evil.example:15010' }))).toBe('403');
  });

  it('asks everyone else for the admin token, as Bearer or as a Basic password', () => {
    const access = new DashboardAccess(TOKEN);
    expect(outcome(access, request('127.0.0.1'))).toBe('allowed');
    expect(outcome(access, request('10.1.2.3'))).toBe('401 challenge');
    expect(outcome(access, request('10.1.2.3', { authorization: `Bearer ${TOKEN}` }))).toBe('allowed');
    expect(outcome(access, request('10.1.2.3', { authorization: basic(TOKEN) }))).toBe('allowed');
    expect(outcome(access, request('10.1.2.3', { authorization: basic('wrong') }))).toBe('401 challenge');
    expect(outcome(access, request('10.1.2.3', { authorization: 'Bearer wrong' }))).toBe('401 challenge');
    expect(outcome(access, request('127.0.0.1', { host: 'evil.example' }))).toBe('401 challenge');
    expect(outcome(access, request('127.0.0.1', { host: 'evil.example', authorization: basic(TOKEN) }))).toBe(
      'allowed',
    );
  });

  it('reads Host headers as loopback names only for localhost, 127/8 and ::1', () => {
    expect(
      ['', 'localhost', 'LOCALHOST:1', 'app.localhost', '127.0.0.1', '127.9.9.9:80', '[::1]:8'].map(
        isLoopbackHost,
      ),
    ).toEqual(new Array(7).fill(true));
    expect(
      ['10.0.0.1', '[::2]', 'example.com', 'localhost.example.com', '0.0.0.0'].map(isLoopbackHost),
    ).toEqual(new Array(5).fill(false));
  });
});

describe('the dashboard on a real agent', () => {
  let store: MemoryStore;
  let agent: Agent;

  beforeEach(async () => {
    store = await newStore();
    await seed(store);
    agent = await startAgent(store, { dashboard: { refreshMs: 50 } });
  });

  it('serves one self-contained page whose only script is admitted by its hash, and parses', async () => {
    const response = await fetch(`${agent.url}/dashboard`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1] ?? '');
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256')
      .update(scripts[0] ?? '', 'utf8')
      .digest('base64');
    expect(csp).toContain(`'sha256-${hash}'`);
    expect(scripts[0]).toBe(DASHBOARD_SCRIPT);
    expect(() => new Script(DASHBOARD_SCRIPT)).not.toThrow();
    // Nothing is fetched from elsewhere: no src/href attributes, no URL but the SVG namespace.
    expect(html).not.toMatch(/\s(src|href)=/);
    expect(html.match(/https?:\/\/[^'"\s)]+/g) ?? []).toEqual(['http://www.w3.org/2000/svg']);
  });

  it('refuses a foreign Host without the token, and takes the token when the agent has one', async () => {
    expect(await getWithHeaders(agent, '/dashboard', { host: `127.0.0.1:${agent.port}` })).toMatchObject({
      status: 200,
    });
    expect(await getWithHeaders(agent, '/dashboard', { host: 'evil.example' })).toMatchObject({
      status: 403,
    });
    const guarded = await startAgent(await newStore(), { adminToken: TOKEN });
    // From loopback, addressed as loopback: no login even with a token configured.
    expect(await getWithHeaders(guarded, '/dashboard', { host: 'localhost' })).toMatchObject({ status: 200 });
    const challenge = await getWithHeaders(guarded, '/v1/dashboard/state', { host: 'evil.example' });
    expect(challenge.status).toBe(401);
    expect(challenge.challenge).toMatch(/^Basic realm="weft-dashboard"/);
    const basic = `Basic ${Buffer.from(`me:${TOKEN}`).toString('base64')}`;
    expect(
      await getWithHeaders(guarded, '/v1/dashboard/state', { host: 'evil.example', authorization: basic }),
    ).toMatchObject({ status: 200 });
    for (const path of ['/v1/edges', '/v1/dashboard/events', '/v1/dashboard/services/x', '/dashboard']) {
      expect(await getWithHeaders(guarded, path, { host: 'evil.example' })).toMatchObject({ status: 401 });
    }
    expect(
      await getWithHeaders(guarded, '/v1/dashboard/events', {
        host: 'evil.example',
        authorization: `Bearer ${TOKEN}`,
      }),
    ).toMatchObject({ status: 200 });
  });

  it('builds the state: the graph from edge reports and the registry, sync status with the NACK error, analyze findings', async () => {
    const applied = await fetch(`${agent.url}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: details, namespace: default }\nspec: { hosts: [details], http: [{ route: [{ destination: { host: nosuch } }] }] }\n',
    });
    expect(applied.status).toBe(200);
    await applied.body?.cancel();

    const productpage = await rawWatch(agent, 'productpage-v1-0', { workload: 'productpage-v1-0' });
    expect(await productpage.report('ack')).toBe(200);
    const canary = await rawWatch(agent, 'ratings-canary', { workload: 'ratings-canary' });
    expect(
      await canary.report('nack', 'VirtualService/default/reviews spec.http[0].mirror: not supported'),
    ).toBe(200);
    await postEdges(
      agent,
      productpage.clientId,
      productpage.token,
      edgeReport([edge({ service: REVIEWS, subset: 'v1', version: 'v1' }, 40, { errors: 4, mtls: true })], {
        certificate: {
          spiffeId: 'spiffe://cluster.local/ns/default/sa/productpage',
          notAfter: '2999-01-01T00:00:00.000Z',
        },
      }),
    );
    const state = (await (await fetch(`${agent.url}/v1/dashboard/state?windowMs=30000`)).json()) as {
      windowMs: number;
      graph: { nodes: { id: string; workloads: string[] }[]; edges: Record<string, unknown>[] };
      workloads: Record<string, unknown>[];
      analysis: { findings: { code: string; resource: string }[] };
      edgeReporting: { reportingClients: number };
    };
    expect(state.windowMs).toBe(30_000);
    expect(state.graph.nodes.map((node) => node.id)).toEqual([
      'svc:productpage.default.svc.cluster.local:v1',
      `svc:${REVIEWS}:v1`,
      `svc:${REVIEWS}:v2`,
    ]);
    expect(state.graph.nodes[1]?.workloads).toEqual(['reviews-v1-0']);
    expect(state.graph.edges).toEqual([
      expect.objectContaining({
        from: 'svc:productpage.default.svc.cluster.local:v1',
        to: `svc:${REVIEWS}:v1`,
        subsets: ['v1'],
        requests: 40,
        errors: 4,
        errorRate: 0.1,
        mtls: 'all',
        requestsPerSecond: 8,
        p50Ms: 7.5,
      }),
    ]);
    // NACKed first, with the client's reason.
    expect(state.workloads[0]).toMatchObject({
      clientId: 'ratings-canary',
      status: 'NACKED',
      error: 'VirtualService/default/reviews spec.http[0].mirror: not supported',
      acked: null,
    });
    expect(state.workloads[1]).toMatchObject({
      clientId: 'productpage-v1-0',
      certificate: { spiffeId: 'spiffe://cluster.local/ns/default/sa/productpage', from: 'edge-report' },
    });
    expect(state.analysis.findings).toContainEqual(
      expect.objectContaining({
        code: 'destination-host-not-found',
        resource: 'VirtualService/default/details',
      }),
    );
    expect(state.edgeReporting.reportingClients).toBe(1);
  });

  it('reads a certificate from the config dump a client posted when its edge reports carry none', async () => {
    const watch = await rawWatch(agent, 'details-v1-0');
    const posted = await fetch(`${agent.url}/v1/clients/details-v1-0/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-weft-stream-token': watch.token },
      body: JSON.stringify({
        mark: watch.mark,
        configDump: {
          secret: {
            state: 'active',
            spiffeId: 'spiffe://cluster.local/ns/default/sa/bookinfo-details',
            certificate: { notAfter: new Date(Date.now() + 30 * 60_000).toISOString() },
          },
        },
      }),
    });
    expect(posted.status).toBe(200);
    await posted.body?.cancel();
    const state = (await (await fetch(`${agent.url}/v1/dashboard/state`)).json()) as {
      workloads: {
        clientId: string;
        certificate: { spiffeId: string; expiresInMs: number; from: string } | null;
      }[];
    };
    const certificate = state.workloads.find((workload) => workload.clientId === 'details-v1-0')?.certificate;
    expect(certificate).toMatchObject({
      spiffeId: 'spiffe://cluster.local/ns/default/sa/bookinfo-details',
      from: 'config-dump',
    });
    expect(certificate?.expiresInMs).toBeGreaterThan(25 * 60_000);
    expect(certificate?.expiresInMs).toBeLessThanOrEqual(30 * 60_000);
  });

  it('details a service: workloads, the VirtualService and DestinationRule as applied, ejections and faults its callers report', async () => {
    const caller = await rawWatch(agent, 'productpage-v1-0');
    const empty = (await (await fetch(`${agent.url}/v1/dashboard/services/${REVIEWS}`)).json()) as Record<
      string,
      unknown
    >;
    expect(empty).toMatchObject({
      host: REVIEWS,
      isRegistered: true,
      reportingCallers: 0,
      ejections: [],
      faults: [],
    });
    await postEdges(
      agent,
      caller.clientId,
      caller.token,
      edgeReport([edge({ service: REVIEWS, subset: 'v1', version: 'v1' }, 5)], {
        ejections: [
          {
            cluster: `outbound|9080|v1|${REVIEWS}`,
            endpoint: '127.0.0.1:19080',
            reason: 'consecutive-5xx',
            ejectedForMs: 1_000,
            times: 1,
          },
          {
            cluster: 'outbound|9080||ratings.default.svc.cluster.local',
            endpoint: '127.0.0.1:1',
            reason: 'consecutive-5xx',
            ejectedForMs: 1,
            times: 1,
          },
        ],
        faults: [
          { route: 'to-v1', delays: 0, aborts: 3, overflows: 0 },
          { route: 'VirtualService/default/ratings#0', delays: 1, aborts: 0, overflows: 0 },
        ],
      }),
    );
    const detail = (await (await fetch(`${agent.url}/v1/dashboard/services/${REVIEWS}`)).json()) as {
      workloads: { name: string; version: string }[];
      virtualServices: { name: string; spec: unknown }[];
      destinationRules: { name: string; spec: { subsets: unknown[] } }[];
      inbound: unknown[];
      reportingCallers: number;
      ejections: { endpoint: string; reportedBy: string }[];
      faults: { route: string; aborts: number }[];
    };
    expect(detail.workloads.map((workload) => [workload.name, workload.version])).toEqual([
      ['reviews-v1-0', 'v1'],
      ['reviews-v2-0', 'v2'],
    ]);
    expect(detail.virtualServices).toEqual([
      expect.objectContaining({
        name: 'reviews',
        spec: {
          hosts: ['reviews'],
          http: [{ name: 'to-v1', route: [{ destination: { host: 'reviews', subset: 'v1' } }] }],
        },
      }),
    ]);
    expect(detail.destinationRules[0]?.spec.subsets).toHaveLength(2);
    expect(detail.inbound).toHaveLength(1);
    expect(detail.reportingCallers).toBe(1);
    expect(detail.ejections).toEqual([
      expect.objectContaining({ endpoint: '127.0.0.1:19080', reportedBy: 'productpage-v1-0' }),
    ]);
    expect(detail.faults).toEqual([expect.objectContaining({ route: 'to-v1', aborts: 3 })]);
    // A gateway's VirtualService for every host is the gateway's business, not reviews': it shows
    // under the service it routes to.
    const gatewayRoute = await fetch(`${agent.url}/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: ingress, namespace: default }\nspec: { hosts: ["*"], gateways: [bookinfo-gateway], http: [{ route: [{ destination: { host: productpage } }] }] }\n',
    });
    expect(gatewayRoute.status).toBe(200);
    await gatewayRoute.body?.cancel();
    const names = async (host: string) =>
      (
        (await (await fetch(`${agent.url}/v1/dashboard/services/${host}`)).json()) as {
          virtualServices: { name: string }[];
        }
      ).virtualServices.map((resource) => resource.name);
    expect(await names(REVIEWS)).toEqual(['reviews']);
    expect(await names('productpage.default.svc.cluster.local')).toEqual(['ingress']);
    const unknown = await fetch(`${agent.url}/v1/dashboard/services/nothing.example`);
    expect(unknown.status).toBe(404);
    await unknown.body?.cancel();
  });

  it('streams the state as server-sent events: at once on connect, then whenever it changes', async () => {
    const events = await readEvents(`${agent.url}/v1/dashboard/events?windowMs=10000`);
    expect(events.response.status).toBe(200);
    expect(events.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const first = (await events.nextState()) as { windowMs: number; graph: { edges: unknown[] } };
    expect(first.windowMs).toBe(10_000);
    expect(first.graph.edges).toEqual([]);

    const caller = await rawWatch(agent, 'productpage-v1-0');
    await postEdges(
      agent,
      caller.clientId,
      caller.token,
      edgeReport([edge({ service: REVIEWS, version: 'v2' }, 9)]),
    );
    let next = (await events.nextState()) as { graph: { edges: { to: string; requests: number }[] } };
    for (let attempt = 0; attempt < 20 && next.graph.edges.length === 0; attempt++)
      next = (await events.nextState()) as typeof next;
    expect(next.graph.edges).toEqual([expect.objectContaining({ to: `svc:${REVIEWS}:v2`, requests: 9 })]);
  });

  it('sends nothing while the state stays the same', async () => {
    const events = await readEvents(`${agent.url}/v1/dashboard/events`);
    await events.nextState();
    // Refreshes run every 50 ms; an idle mesh gives the same state each time.
    await expect(events.nextState(500)).rejects.toThrow(/timed out/);
    const caller = await rawWatch(agent, 'productpage-v1-0');
    expect(await caller.report('ack')).toBe(200);
    const changed = (await events.nextState()) as { workloads: { clientId: string; status: string }[] };
    expect(changed.workloads.map((workload) => [workload.clientId, workload.status])).toContainEqual([
      'productpage-v1-0',
      expect.any(String),
    ]);
  });

  it('ends the streams when the agent closes, and caps how many may be open', async () => {
    const capped = await startAgent(await newStore(), { dashboard: { refreshMs: 50, maxStreams: 1 } });
    const events = await readEvents(`${capped.url}/v1/dashboard/events`);
    await events.nextState();
    const second = await fetch(`${capped.url}/v1/dashboard/events`);
    expect(second.status).toBe(503);
    await second.body?.cancel();
    await capped.close();
    await expect(events.nextState(2_000)).rejects.toThrow(/ended/);
  });
});
