/**
 * Telemetry `randomSamplingPercentage`: decided by Weft for requests that arrive without a
 * sampling decision, with the mesh's injected Random; a sampled-out request still propagates a
 * valid context with the sampled flag off, so the next hops do not sample it either. A request
 * that carries a decision keeps it.
 */
import { defaultTextMapSetter } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { type Mesh, type Random, seededRandom } from '../src/index.ts';
import { startTestSdk, type TestSdk } from './support/otel-test-sdk.ts';
import { routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

const sampling = (percent: number, mode = 'CLIENT_AND_SERVER') => `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing:
  - match: { mode: ${mode} }
    randomSamplingPercentage: ${percent}
`;

let sdk: TestSdk;
let mesh: Mesh | undefined;
afterEach(async () => {
  mesh?.close();
  mesh = undefined;
  await sdk.shutdown();
});

function setUp(percent: number, random: Random) {
  sdk = startTestSdk();
  mesh = telemetryMesh({
    yaml: sampling(percent),
    random,
    telemetry: { tracerProvider: sdk.tracerProvider },
  }).mesh;
  return mesh;
}

const constant = (value: number): Random => ({ next: () => value });

function callOnce(mesh: Mesh, requestHeaders: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = {};
  mesh.telemetry.startClientCall(routeRequest(requestHeaders), headers, defaultTextMapSetter)?.end();
  return headers;
}

describe('randomSamplingPercentage', () => {
  it('samples a root request whose draw is below the percentage', async () => {
    const headers = callOnce(setUp(30, constant(0.2999)));
    const spans = await sdk.spans();
    expect(spans).toHaveLength(1);
    expect(headers.traceparent?.endsWith('-01')).toBe(true);
  });

  it('samples out a root request whose draw is at or above it, and says so downstream', async () => {
    const headers = callOnce(setUp(30, constant(0.3)));
    expect(await sdk.spans()).toEqual([]);
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(headers['x-b3-sampled']).toBe('0');
  });

  it('keeps the decision a request arrives with, whatever the draw', async () => {
    const mesh = setUp(0, constant(0.999));
    callOnce(mesh, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    expect(await sdk.spans()).toHaveLength(1);
  });

  it('samples about the given share of root requests with a seeded Random', async () => {
    const mesh = setUp(30, seededRandom(42));
    for (let i = 0; i < 1000; i++) callOnce(mesh);
    const sampled = (await sdk.spans()).length;
    expect(sampled).toBeGreaterThan(250);
    expect(sampled).toBeLessThan(350);
  });

  it('applies to the mode its match names only', async () => {
    sdk = startTestSdk();
    mesh = telemetryMesh({
      yaml: sampling(0, 'SERVER'),
      random: constant(0.5),
      telemetry: { tracerProvider: sdk.tracerProvider },
    }).mesh;
    callOnce(mesh);
    mesh.telemetry.startServerCall(routeRequest())?.end();
    const spans = await sdk.spans();
    expect(spans.map((span) => span.kind)).toEqual([2]);
  });
});

describe('disableSpanReporting and disableContextPropagation', () => {
  it('makes no span; metrics are still recorded', async () => {
    sdk = startTestSdk();
    mesh = telemetryMesh({
      random: seededRandom(1),
      yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: quiet, namespace: default }
spec:
  tracing: [{ disableSpanReporting: true }]
`,
      telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider },
    }).mesh;
    const call = mesh.telemetry.startClientCall(routeRequest());
    call?.responded(200);
    call?.end();
    expect(await sdk.spans()).toEqual([]);
    expect(await sdk.counter('istio_requests_total')).toBe(1);
  });

  it('injects nothing when context propagation is disabled', async () => {
    sdk = startTestSdk();
    mesh = telemetryMesh({
      yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: closed, namespace: default }
spec:
  tracing: [{ disableContextPropagation: true }]
`,
      telemetry: { tracerProvider: sdk.tracerProvider },
    }).mesh;
    expect(callOnce(mesh)).toEqual({});
    expect(await sdk.spans()).toHaveLength(1);
  });
});
