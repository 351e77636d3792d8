/**
 * bad-inputs.md section I (telemetry and platform), one describe per row. Requests are reported
 * through MeshTelemetry as protocol adapters report them; the SDK is OpenTelemetry's, in memory.
 */
import { Writable } from 'node:stream';
import type { ExportResult } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ISTIO_LABELS,
  MAX_ATTRIBUTE_VALUE_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABEL_VALUES,
  MAX_URL_LENGTH,
  type Mesh,
} from '../src/index.ts';
import { compileTagValue } from '../src/telemetry/tag-value.ts';
import { startTestSdk, type TestSdk } from './support/otel-test-sdk.ts';
import { logLines, routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

let sdk: TestSdk | undefined;
let mesh: Mesh | undefined;
afterEach(async () => {
  mesh?.close();
  mesh = undefined;
  await sdk?.shutdown();
  sdk = undefined;
});

const TELEMETRY_YAML = `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: productpage, namespace: default }
spec:
  tracing:
  - customTags:
      user: { header: { name: x-user } }
  metrics:
  - overrides:
    - match: { metric: REQUEST_COUNT }
      tagOverrides:
        user: { value: "request.headers['x-user']" }
  accessLogging: [{}]
`;

/** Whether text holds a C0 or C1 control, DEL, or a Unicode line or paragraph separator. */
function hasRawControlCharacter(text: string): boolean {
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}

/** Reports one finished request with these request headers and path. */
function report(mesh: Mesh, headers: Record<string, string>, path = '/reviews/1'): void {
  const call = mesh.telemetry.startClientCall(routeRequest(headers, { path }));
  call?.responded(200);
  call?.end();
}

describe('I1 collector down or slow: the data path never waits for telemetry', () => {
  it('finishes every request while the span exporter never answers, and the SDK counts the spans it dropped', async () => {
    const exports: ReadableSpan[][] = [];
    const hangingExporter: SpanExporter = {
      export(spans: ReadableSpan[], _done: (result: ExportResult) => void) {
        exports.push(spans);
      },
      shutdown: async () => {},
    };
    sdk = startTestSdk();
    const tracerProvider = new TracerProvider({
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: hangingExporter,
          maxQueueSize: 4,
          maxExportBatchSize: 2,
          scheduledDelayMillis: 60_000,
          selfObsMeterProvider: sdk.meterProvider,
        }),
      ],
    });
    mesh = telemetryMesh({ telemetry: { tracerProvider } }).mesh;
    let finished = 0;
    for (let i = 0; i < 20; i++) {
      report(mesh, {});
      finished++;
    }
    expect(finished).toBe(20);
    expect(exports.length).toBeGreaterThan(0);
    const dropped = await sdk.counter('otel.sdk.processor.span.processed', { 'error.type': 'queue_full' });
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThanOrEqual(20);
  });

  it('drops and counts access-log lines while the log stream is full, instead of buffering them', async () => {
    let accepted = 0;
    const stalled = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, _callback) {
        accepted++;
        // Never calls back: a stalled pipe or disk.
      },
    });
    sdk = startTestSdk();
    mesh = telemetryMesh({
      telemetry: {
        meterProvider: sdk.meterProvider,
        accessLog: { stream: stalled, isEnabledByDefault: true },
      },
    }).mesh;
    for (let i = 0; i < 10; i++) report(mesh, {});
    expect(accepted).toBe(1);
    expect(mesh.telemetry.accessLogDropped).toBe(9);
    expect(mesh.telemetry.stats.get('weft.access_log.dropped')).toBe(9);
    expect(await sdk.counter('weft_access_log_dropped_total')).toBe(9);
    stalled.destroy();
  });
});

describe('I2 attacker-controlled values in spans and metrics', () => {
  it('caps url.full and header-derived span attributes', async () => {
    sdk = startTestSdk();
    mesh = telemetryMesh({
      yaml: TELEMETRY_YAML,
      telemetry: { tracerProvider: sdk.tracerProvider, accessLog: { stream: logLines() } },
    }).mesh;
    report(mesh, { 'x-user': 'u'.repeat(10_000) }, `/${'p'.repeat(10_000)}`);
    const [span] = await sdk.spans();
    expect(String(span?.attributes['url.full']).length).toBe(MAX_URL_LENGTH);
    expect(String(span?.attributes.user).length).toBe(MAX_ATTRIBUTE_VALUE_LENGTH);
  });

  it('never puts the path or a header in Istio’s labels, and bounds a header-derived label', async () => {
    sdk = startTestSdk();
    mesh = telemetryMesh({
      yaml: TELEMETRY_YAML,
      telemetry: { meterProvider: sdk.meterProvider, accessLog: { stream: logLines() } },
    }).mesh;
    for (let i = 0; i < MAX_LABEL_VALUES + 50; i++)
      report(mesh, { 'x-user': `user-${i}-${'x'.repeat(100)}` }, `/secret/${i}`);
    const counts = await sdk.points('istio_requests_total');
    const users = new Set(counts.map((point) => String(point.attributes.user)));
    expect(users.size).toBe(MAX_LABEL_VALUES + 1);
    expect(users.has('other')).toBe(true);
    expect([...users].every((user) => user.length <= MAX_LABEL_VALUE_LENGTH)).toBe(true);
    const [duration] = await sdk.points('istio_request_duration_milliseconds');
    expect(Object.keys(duration?.attributes ?? {}).sort()).toEqual([...ISTIO_LABELS].sort());
    const values = counts.flatMap((point) => Object.values(point.attributes).map(String));
    expect(values.some((value) => value.includes('/secret'))).toBe(false);
  });
});

describe('I3 log injection through headers', () => {
  it('keeps every hostile header value inside its JSON field, on one line, and recoverable', () => {
    const log = logLines();
    mesh = telemetryMesh({ telemetry: { accessLog: { stream: log, isEnabledByDefault: true } } }).mesh;
    const hostile = {
      'user-agent': 'evil\r\n{"response_code":200,"forged":true}\n',
      'x-request-id': 'a\u2028b\u2029c\u0085d',
      'x-forwarded-for': '\u001b[31mred\u001b[0m\u0000\u007f',
    };
    report(mesh, hostile);
    expect(log.lines).toHaveLength(1);
    const [line = ''] = log.lines;
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(hasRawControlCharacter(line.slice(0, -1))).toBe(false);
    expect(log.records()[0]).toMatchObject({
      user_agent: hostile['user-agent'],
      request_id: hostile['x-request-id'],
      x_forwarded_for: hostile['x-forwarded-for'],
      response_code: 200,
    });
    expect(log.records()[0]).not.toHaveProperty('forged');
  });
});

describe('I4 event-loop blocking by huge inputs', () => {
  it('does bounded work per request on megabyte header values: every recorded value is capped', async () => {
    sdk = startTestSdk();
    const log = logLines();
    mesh = telemetryMesh({
      yaml: TELEMETRY_YAML,
      telemetry: {
        tracerProvider: sdk.tracerProvider,
        meterProvider: sdk.meterProvider,
        accessLog: { stream: log },
      },
    }).mesh;
    const huge = 'h'.repeat(1024 * 1024);
    report(mesh, { 'x-user': huge, 'user-agent': huge });
    const [span] = await sdk.spans();
    expect(String(span?.attributes.user).length).toBe(MAX_ATTRIBUTE_VALUE_LENGTH);
    const [count] = await sdk.points('istio_requests_total');
    expect(String(count?.attributes.user).length).toBe(MAX_LABEL_VALUE_LENGTH);
    expect(log.lines[0]?.length).toBeLessThan(16 * 1024);
  });

  it('refuses a huge tag expression with a plain scan (no backtracking regex over it)', () => {
    const expression = `request.headers['${"'".repeat(100_000)}`;
    expect(compileTagValue({ type: 'expression', expression })).toMatchObject({ isSupported: false });
  });

  it.todo(
    'event-loop delay stays under its threshold under load with telemetry on (monitorEventLoopDelay, in the load suite with the inbound server)',
  );
});
