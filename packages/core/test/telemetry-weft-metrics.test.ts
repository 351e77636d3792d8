/**
 * Weft's own metrics: every retry, ejection, overflow, injected fault, breaker transition and
 * configuration update is a counter (and a /stats line), the serving revision and certificate
 * expiries are observable gauges read at collection time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Mesh } from '../src/index.ts';
import { startTestSdk, type TestSdk } from './support/otel-test-sdk.ts';
import { telemetryMesh } from './support/telemetry-fixtures.ts';

const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';

let sdk: TestSdk;
let mesh: Mesh | undefined;
afterEach(async () => {
  mesh?.close();
  mesh = undefined;
  await sdk.shutdown();
});

function setUp(): Mesh {
  sdk = startTestSdk();
  mesh = telemetryMesh({ telemetry: { meterProvider: sdk.meterProvider } }).mesh;
  return mesh;
}

describe('event counters', () => {
  it('counts retries by cluster, route and condition, and refusals by reason', async () => {
    const mesh = setUp();
    const base = { route: 'r1', cluster: CLUSTER, atMs: 0 };
    mesh.events.retry.emit({
      ...base,
      type: 'retry-scheduled',
      attempt: 2,
      condition: '5xx',
      delayMs: 25,
      delaySource: 'backoff',
    });
    mesh.events.retry.emit({
      ...base,
      type: 'retry-refused',
      attempts: 3,
      condition: '5xx',
      reason: 'attempts-exhausted',
    });
    expect(await sdk.counter('weft_retries_total', { cluster: CLUSTER, route: 'r1', condition: '5xx' })).toBe(
      1,
    );
    expect(await sdk.counter('weft_retries_refused_total', { reason: 'attempts-exhausted' })).toBe(1);
    expect(mesh.telemetry.stats.get(`cluster.${CLUSTER}.upstream_rq_retry`)).toBe(1);
  });

  it('counts ejections, ejection overflows and pool overflows by cluster and reason', async () => {
    const mesh = setUp();
    mesh.events.outlier.emit({
      type: 'ejected',
      cluster: CLUSTER,
      endpoint: '10.0.0.2:9080',
      reason: 'consecutive-5xx',
      durationMs: 30000,
      times: 1,
      atMs: 0,
    });
    mesh.events.outlier.emit({
      type: 'returned',
      cluster: CLUSTER,
      endpoint: '10.0.0.2:9080',
      ejectedForMs: 30000,
      atMs: 30000,
    });
    mesh.events.outlier.emit({
      type: 'ejection-overflow',
      cluster: CLUSTER,
      endpoint: '10.0.0.1:9080',
      reason: 'consecutive-gateway-error',
      ejectedCount: 1,
      endpointCount: 2,
      maxEjectionPercent: 10,
      atMs: 0,
    });
    mesh.events.overflow.emit({
      type: 'overflow',
      cluster: CLUSTER,
      reason: 'max-pending-requests',
      limit: 1,
    });
    expect(
      await sdk.counter('weft_outlier_ejections_total', { cluster: CLUSTER, reason: 'consecutive-5xx' }),
    ).toBe(1);
    expect(await sdk.counter('weft_outlier_ejections_overflow_total', { cluster: CLUSTER })).toBe(1);
    expect(
      await sdk.counter('weft_overflows_total', { cluster: CLUSTER, reason: 'max-pending-requests' }),
    ).toBe(1);
  });

  it('counts injected faults by kind and breaker transitions by event', async () => {
    const mesh = setUp();
    mesh.events.fault.emit({ type: 'fault-injected', route: 'r1', httpStatus: 503, atMs: 0 });
    mesh.events.fault.emit({ type: 'fault-injected', route: 'r1', delayMs: 100, atMs: 0 });
    mesh.events.fault.emit({ type: 'fault-injected', route: 'r1', delayMs: 100, httpStatus: 500, atMs: 0 });
    mesh.events.breaker.emit({ type: 'opened', breaker: 'r1', atMs: 0, cause: 'threshold' });
    expect(await sdk.counter('weft_faults_injected_total', { route: 'r1', kind: 'abort' })).toBe(1);
    expect(await sdk.counter('weft_faults_injected_total', { route: 'r1', kind: 'delay' })).toBe(1);
    expect(await sdk.counter('weft_faults_injected_total', { route: 'r1', kind: 'delay_and_abort' })).toBe(1);
    expect(await sdk.counter('weft_circuit_breaker_events_total', { breaker: 'r1', event: 'opened' })).toBe(
      1,
    );
    expect(mesh.telemetry.stats.get('route.r1.fault.aborts_injected')).toBe(2);
    expect(mesh.telemetry.stats.get('route.r1.fault.delays_injected')).toBe(2);
  });
});

describe('configuration', () => {
  it('counts applied and rejected configurations and reports the serving revision', async () => {
    const mesh = setUp();
    expect((await sdk.points('weft_config_revision'))[0]?.value).toBe(0);
    mesh.applyConfig({ yaml: '' }, 'epoch-a/41');
    mesh.applyConfig({ yaml: '' }, 'epoch-a/42');
    expect(() =>
      mesh.applyConfig({
        yaml: 'kind: VirtualService\napiVersion: networking.istio.io/v1\nmetadata: { name: x }\nspec: { hosts: [] }',
      }),
    ).toThrow();
    expect(await sdk.counter('weft_config_updates_total', { result: 'applied' })).toBe(2);
    expect(await sdk.counter('weft_config_updates_total', { result: 'rejected' })).toBe(1);
    expect((await sdk.points('weft_config_revision'))[0]?.value).toBe(42);
  });
});

describe('a closed mesh', () => {
  it('stops observing its gauges (the SDK keeps the last value it saw)', async () => {
    const mesh = setUp();
    mesh.applyConfig({ yaml: '' }, 'epoch/5');
    expect((await sdk.points('weft_config_revision'))[0]?.value).toBe(5);
    mesh.close();
    mesh.applyConfig({ yaml: '' }, 'epoch/77');
    expect((await sdk.points('weft_config_revision'))[0]?.value).toBe(5);
  });
});

describe('certificate expiry', () => {
  it('reports each certificate the identity provides, in Unix seconds', async () => {
    const mesh = setUp();
    expect(await sdk.points('weft_certificate_expiry_timestamp_seconds')).toEqual([]);
    mesh.certificateReport.provide(() => ({
      certificates: [
        { name: 'workload', notBeforeMs: 1_700_000_000_000, notAfterMs: 1_700_086_400_500 },
        { name: 'root', notBeforeMs: 1_600_000_000_000, notAfterMs: 1_900_000_000_000 },
      ],
    }));
    const points = await sdk.points('weft_certificate_expiry_timestamp_seconds');
    expect(points.map((point) => [point.attributes.certificate, point.value])).toEqual([
      ['workload', 1_700_086_400],
      ['root', 1_900_000_000],
    ]);
  });
});
