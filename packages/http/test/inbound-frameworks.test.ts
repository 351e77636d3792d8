/**
 * The same inbound pipeline behind express (`weftExpress`) and fastify (`weftFastify`, and as
 * fastify's server through `serverFactory`): a denied request and an allowed one, the server span
 * and Istio's metrics with reporter=destination, mTLS read from the socket of a TLS server the
 * application owns, and context propagation from a framework handler.
 */
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { SpanKind } from '@opentelemetry/api';
import { serverTlsOptions } from '@weft/core';
import { createTestCa, spiffeIdOf } from '@weft/core/testing';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSdk, type TestSdk } from '../../core/test/support/otel-test-sdk.ts';
import { createMeshFetch, createMeshServer, weftExpress, weftFastify } from '../src/index.ts';
import {
  createInboundHarness,
  type InboundHarness,
  peerAuthentication,
  registered,
} from './support/inbound-harness.ts';
import { rawGet } from './support/raw-request.ts';

const DENY_ADMIN = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-admin
  namespace: default
spec:
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin", "/admin/*"]
`;

const ca = createTestCa();
let harness: InboundHarness;
let sdk: TestSdk;
const fastifyApps: FastifyInstance[] = [];

beforeEach(() => {
  harness = createInboundHarness();
  sdk = startTestSdk();
});
afterEach(async () => {
  for (const app of fastifyApps.splice(0)) await app.close();
  await harness.close();
  await sdk.shutdown();
});

function meshFor(yaml = DENY_ADMIN, options: Parameters<InboundHarness['mesh']>[1] = {}) {
  return harness.mesh('shop', {
    yaml,
    telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider },
    ...options,
  });
}

/** An express app behind weftExpress: /admin and /public answer with their name. */
function expressApp(mesh: ReturnType<typeof meshFor>) {
  const app = express();
  const middleware = weftExpress(mesh);
  harness.onClose(() => middleware.close());
  app.use(middleware);
  app.get('/admin', (_request, response) => {
    response.send('admin');
  });
  app.get('/public', (request, response) => {
    response.send(`public ${request.headers['x-forwarded-client-cert'] ?? 'plaintext'}`);
  });
  return app;
}

/** A fastify app with /admin and /public, closed after the test. */
function fastifyApp(app: FastifyInstance = Fastify()): FastifyInstance {
  fastifyApps.push(app);
  app.get('/admin', async () => 'admin');
  app.get('/public', async () => 'public');
  return app;
}

/** Asserts the span and the request count the pipeline reported for one request. */
async function expectReported(status: number, extra: Record<string, string> = {}) {
  const spans = (await sdk.spans()).filter((span) => span.kind === SpanKind.SERVER);
  expect(spans.map((span) => span.attributes['http.response.status_code'])).toContain(status);
  const labels = {
    reporter: 'destination',
    response_code: String(status),
    destination_workload: 'shop-v1',
    destination_service: 'shop.default.svc.cluster.local',
    ...extra,
  };
  expect(await sdk.counter('istio_requests_total', labels)).toBe(1);
}

describe('express', () => {
  it('denies /admin with 403 RBAC: access denied and serves /public, reporting both', async () => {
    const mesh = meshFor();
    const port = await harness.listen(expressApp(mesh).listen(0, '127.0.0.1'));
    const client = harness.plain();
    expect(await client.get(port, '/admin')).toMatchObject({ status: 403, body: 'RBAC: access denied' });
    expect(await client.get(port, '/public')).toMatchObject({ status: 200, body: 'public plaintext' });
    await expectReported(403, { connection_security_policy: 'none', source_principal: 'unknown' });
    await expectReported(200);
    expect(await sdk.counter('weft_denials_total', { reason: 'authorization' })).toBe(1);
  });

  it('routes on the normalized path: //admin, /%61dmin and /public/../admin never reach a route unjudged', async () => {
    const mesh = meshFor(DENY_ADMIN, { mesh: { pathNormalization: 'MERGE_SLASHES' } });
    const port = await harness.listen(expressApp(mesh).listen(0, '127.0.0.1'));
    for (const path of [
      '//admin',
      '/%61dmin',
      '/public/../admin',
      '/public/%2e%2e/admin',
      '/public\\..\\admin',
    ]) {
      expect(await rawGet(port, path)).toMatchObject({ status: 403 });
    }
    expect(await rawGet(port, '/public/../public')).toMatchObject({ status: 200, body: 'public plaintext' });
  });

  it('reads mTLS from the socket of a TLS server the application owns', async () => {
    const mesh = meshFor(`${DENY_ADMIN}---\n${peerAuthentication('STRICT')}`);
    const identity = ca.workload('default', 'shop');
    const server = createHttpsServer(serverTlsOptions(identity), expressApp(mesh));
    mesh.setIdentity({ current: () => identity, onChange: () => () => {} });
    const port = await harness.listen(server);
    const caller = ca.workload('default', 'productpage');
    const outcome = await harness.mtls(caller).get(port, '/public');
    const callerId = spiffeIdOf(ca.trustDomain, 'default', 'productpage');
    expect(outcome).toMatchObject({ status: 200, body: `public By=${identity.spiffeId};URI=${callerId}` });
    await expectReported(200, { connection_security_policy: 'mutual_tls', source_principal: callerId });
  });

  it('closes a plaintext connection to an express app on a STRICT port', async () => {
    const mesh = meshFor(`${DENY_ADMIN}---\n${peerAuthentication('STRICT')}`);
    const port = await harness.listen(expressApp(mesh).listen(0, '127.0.0.1'));
    expect((await harness.plain().get(port, '/public')).kind).toBe('refused');
    expect(await sdk.counter('weft_denials_total', { reason: 'peer-authentication' })).toBe(1);
  });

  it('a handler’s outbound call carries the request’s end user (body parsed by express.json)', async () => {
    const seen: string[] = [];
    const downstreamMesh = harness.mesh('ratings');
    const downstream = await harness.serve(downstreamMesh, (request, response) => {
      seen.push(String(request.headers['end-user']));
      response.end('ok');
    });
    const mesh = meshFor();
    mesh.setWorkloads([registered('ratings', downstream.port)]);
    const meshFetch = createMeshFetch(mesh);
    const app = express();
    app.use(weftExpress(mesh));
    app.use(express.json());
    app.post('/rate', async (_request, response) => {
      const answer = await meshFetch('http://ratings:9080/ratings');
      response.send(await answer.text());
    });
    const port = await harness.listen(app.listen(0, '127.0.0.1'));
    const outcome = await harness.plain().send(port, {
      method: 'POST',
      path: '/rate',
      headers: { 'end-user': 'jason', 'content-type': 'application/json' },
      body: '{"stars":5}',
    });
    expect(outcome).toMatchObject({ status: 200, body: 'ok' });
    expect(seen).toEqual(['jason']);
  });
});

describe('two entries on one request', () => {
  it('a MeshServer in front of an express app with weftExpress runs the pipeline once', async () => {
    const mesh = meshFor();
    const { port } = await harness.serve(mesh, expressApp(mesh));
    expect(await harness.plain().get(port, '/public')).toMatchObject({
      status: 200,
      body: 'public plaintext',
    });
    expect(await harness.plain().get(port, '/admin')).toMatchObject({ status: 403 });
    expect(await sdk.counter('istio_requests_total', { reporter: 'destination' })).toBe(2);
    expect(await sdk.counter('weft_denials_total')).toBe(1);
  });
});

describe('fastify', () => {
  it('denies /admin and serves /public through the plugin, reporting both', async () => {
    const mesh = meshFor();
    const app = fastifyApp();
    await app.register(weftFastify(mesh));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    expect(await harness.plain().get(port, '/admin')).toMatchObject({
      status: 403,
      body: 'RBAC: access denied',
    });
    expect(await harness.plain().get(port, '/public')).toMatchObject({ status: 200, body: 'public' });
    await expectReported(403);
    await expectReported(200);
  });

  it('redirects a path that normalization changes, since fastify routed it already', async () => {
    const mesh = meshFor();
    const app = fastifyApp();
    await app.register(weftFastify(mesh));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const outcome = await rawGet(port, '/public/../admin?x=1');
    expect(outcome).toMatchObject({ status: 308 });
    expect(outcome !== 'closed' && outcome.head.toLowerCase()).toContain('location: /admin?x=1');
    expect(await harness.plain().get(port, '/admin?x=1')).toMatchObject({ status: 403 });
  });

  it('as fastify’s server (serverFactory), the path is rewritten before fastify routes', async () => {
    const mesh = meshFor();
    // A MeshServer is a net.Server with the HTTP server behind it; fastify only listens on it.
    const app = fastifyApp(
      Fastify({ serverFactory: (handler) => createMeshServer(mesh, handler) as unknown as HttpServer }),
    );
    await app.ready();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    expect(await rawGet(port, '/admin/../public')).toMatchObject({ status: 200, body: 'public' });
    expect(await rawGet(port, '/public/../admin')).toMatchObject({ status: 403 });
  });
});
