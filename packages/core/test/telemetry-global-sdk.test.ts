/**
 * The OpenTelemetry globals: Weft looks providers up when each request starts, so an SDK
 * registered after the mesh was created is used from then on; without one, nothing is built,
 * and a trace already active is passed on as the API would. An application's global propagator
 * replaces Weft's formats. (This file owns the process-wide OpenTelemetry globals.)
 */

import {
  context,
  defaultTextMapSetter,
  metrics,
  propagation,
  ROOT_CONTEXT,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mesh } from '../src/index.ts';
import { startTestSdk, type TestSdk } from './support/otel-test-sdk.ts';
import { routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

const ACTIVE = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
};

let sdk: TestSdk | undefined;
let mesh: Mesh | undefined;
afterEach(async () => {
  mesh?.close();
  mesh = undefined;
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
  await sdk?.shutdown();
  sdk = undefined;
});

function inActiveSpan<T>(run: () => T): T {
  return context.with(trace.setSpanContext(ROOT_CONTEXT, ACTIVE), run);
}

describe('an SDK registered after the mesh was created', () => {
  it('is used from the next request on', async () => {
    mesh = telemetryMesh().mesh;
    expect(mesh.telemetry.startClientCall(routeRequest())).toBeUndefined();

    sdk = startTestSdk();
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    const call = mesh.telemetry.startClientCall(routeRequest());
    call?.responded(200);
    call?.end();

    expect((await sdk.spans()).map((span) => span.name)).toEqual(['GET']);
    expect(await sdk.counter('istio_requests_total', { reporter: 'source', response_code: '200' })).toBe(1);
  });

  it('makes the client span a child of the active span', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    sdk = startTestSdk();
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    mesh = telemetryMesh().mesh;
    const headers: Record<string, string> = {};
    inActiveSpan(() => mesh?.telemetry.startClientCall(routeRequest(), headers, defaultTextMapSetter)?.end());
    const [span] = await sdk.spans();
    expect(span?.spanContext().traceId).toBe(ACTIVE.traceId);
    expect(span?.parentSpanContext?.spanId).toBe(ACTIVE.spanId);
    expect(headers.traceparent).toBe(`00-${ACTIVE.traceId}-${span?.spanContext().spanId}-01`);
  });
});

describe('without an SDK', () => {
  it('passes the active trace on unchanged and builds no call', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    mesh = telemetryMesh().mesh;
    const headers: Record<string, string> = {};
    const call = inActiveSpan(() =>
      mesh?.telemetry.startClientCall(routeRequest(), headers, defaultTextMapSetter),
    );
    expect(call).toBeUndefined();
    expect(headers).toEqual({
      traceparent: `00-${ACTIVE.traceId}-${ACTIVE.spanId}-01`,
      'x-b3-traceid': ACTIVE.traceId,
      'x-b3-spanid': ACTIVE.spanId,
      'x-b3-sampled': '1',
    });
  });
});

describe('an application’s global propagator', () => {
  it('replaces Weft’s default formats', async () => {
    propagation.setGlobalPropagator(new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }));
    sdk = startTestSdk();
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    mesh = telemetryMesh().mesh;
    const headers: Record<string, string> = {};
    mesh.telemetry.startClientCall(routeRequest(), headers, defaultTextMapSetter)?.end();
    const [span] = await sdk.spans();
    expect(headers).toEqual({ b3: `${span?.spanContext().traceId}-${span?.spanContext().spanId}-1` });
  });

  it('gives way to propagators named in the mesh’s options', async () => {
    propagation.setGlobalPropagator(new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }));
    sdk = startTestSdk();
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    mesh = telemetryMesh({ telemetry: { propagators: ['tracecontext'] } }).mesh;
    const headers: Record<string, string> = {};
    mesh.telemetry.startClientCall(routeRequest(), headers, defaultTextMapSetter)?.end();
    expect(Object.keys(headers)).toEqual(['traceparent']);
  });
});
