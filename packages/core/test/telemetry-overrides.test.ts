/**
 * The Telemetry resource applied to calls: custom tags on spans (literal, environment, header),
 * metric tag overrides (literal, request header, removal), disabled metrics, and access logging
 * turned off for one mode.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Mesh } from '../src/index.ts';
import { startTestSdk, type TestSdk } from './support/otel-test-sdk.ts';
import { logLines, routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

let sdk: TestSdk;
let mesh: Mesh | undefined;
afterEach(async () => {
  mesh?.close();
  mesh = undefined;
  await sdk.shutdown();
});

function setUp(spec: string) {
  sdk = startTestSdk();
  const log = logLines();
  mesh = telemetryMesh({
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: productpage, namespace: default }
spec:
  selector: { matchLabels: { app: productpage } }
${spec}`,
    telemetry: {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      accessLog: { stream: log },
    },
  }).mesh;
  return { mesh, log };
}

function callOnce(mesh: Mesh, headers: Record<string, string> = {}): void {
  const call = mesh.telemetry.startClientCall(routeRequest(headers));
  call?.responded(200);
  call?.end();
}

describe('custom tags', () => {
  it('adds literal and header tags to the span, the header’s default when it is absent', async () => {
    const { mesh } = setUp(`
  tracing:
  - customTags:
      team: { literal: { value: books } }
      user: { header: { name: x-user, defaultValue: anonymous } }
`);
    callOnce(mesh, { 'x-user': 'jason' });
    callOnce(mesh);
    const spans = await sdk.spans();
    expect(spans.map((span) => [span.attributes.team, span.attributes.user])).toEqual([
      ['books', 'jason'],
      ['books', 'anonymous'],
    ]);
  });
});

describe('metric overrides', () => {
  it('upserts a literal and a request header, and removes a label, on the metrics it names', async () => {
    const { mesh } = setUp(`
  metrics:
  - overrides:
    - match: { metric: REQUEST_COUNT, mode: CLIENT }
      tagOverrides:
        tier: { value: "request.headers['x-tier']" }
        mesh_id: { value: "'bookinfo'" }
        request_protocol: { operation: REMOVE }
`);
    callOnce(mesh, { 'x-tier': 'gold' });
    callOnce(mesh);
    const counts = await sdk.points('istio_requests_total');
    expect(counts.map((point) => [point.attributes.tier, point.attributes.mesh_id, point.value])).toEqual([
      ['gold', 'bookinfo', 1],
      ['unknown', 'bookinfo', 1],
    ]);
    expect(counts.every((point) => !('request_protocol' in point.attributes))).toBe(true);
    const [duration] = await sdk.points('istio_request_duration_milliseconds');
    expect(duration?.attributes.tier).toBeUndefined();
    expect(duration?.attributes.request_protocol).toBe('http');
  });

  it('leaves out a disabled metric and keeps the others', async () => {
    const { mesh } = setUp(`
  metrics:
  - overrides:
    - match: { metric: REQUEST_DURATION }
      disabled: true
`);
    callOnce(mesh);
    expect(await sdk.points('istio_request_duration_milliseconds')).toEqual([]);
    expect(await sdk.counter('istio_requests_total')).toBe(1);
  });
});

describe('access logging', () => {
  it('logs the modes it is on for, and not those disabled', () => {
    const { mesh, log } = setUp(`
  accessLogging:
  - {}
  - match: { mode: SERVER }
    disabled: true
`);
    callOnce(mesh);
    const server = mesh.telemetry.startServerCall(routeRequest());
    server?.responded(200);
    server?.end();
    expect(log.records().map((record) => record.response_code)).toEqual([200]);
    expect(mesh.telemetry.policy.accessLog).toEqual({ client: true, server: false });
  });
});
