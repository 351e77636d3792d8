/**
 * The launcher's trace collector on its own, on 127.0.0.1: it keeps and serves OTLP/HTTP JSON
 * exports, refuses whole what it cannot read (with the reason), and keeps only the most recent
 * spans. That it reads what the OpenTelemetry exporter really sends is bookinfo-telemetry's test.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { CollectedSpan } from '../src/launcher/otlp-json-spans.ts';
import type { CollectedTrace } from '../src/launcher/recent-traces.ts';
import { startTraceCollector, type TraceCollector } from '../src/launcher/trace-collector.ts';

const EPOCH_NS = 1_700_000_000_000_000_000n;
let collector: TraceCollector | undefined;

afterEach(async () => {
  await collector?.close();
  collector = undefined;
});

/** An OTLP/JSON export of one span per [traceId, spanId, parentSpanId?], 1 ms apart from `startMs`. */
function exportOf(spans: readonly (readonly [string, string, string?])[], startMs = 0): unknown {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'reviews' } }] },
        scopeSpans: [
          {
            scope: { name: '@weft/core' },
            spans: spans.map(([traceId, spanId, parentSpanId], i) => ({
              traceId,
              spanId,
              parentSpanId,
              name: 'GET',
              kind: 2,
              startTimeUnixNano: String(EPOCH_NS + BigInt(startMs + i) * 1_000_000n),
              endTimeUnixNano: String(EPOCH_NS + BigInt(startMs + i) * 1_000_000n + 2_500_000n),
              attributes: [{ key: 'http.response.status_code', value: { intValue: '200' } }],
              status: { code: 0 },
            })),
          },
        ],
      },
    ],
  };
}

async function post(body: string | Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch((collector as TraceCollector).otlpTracesEndpoint, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(5_000),
  });
}

async function tracesJson(): Promise<CollectedTrace[]> {
  const response = await fetch(`${collector?.url}/traces`, { signal: AbortSignal.timeout(5_000) });
  return ((await response.json()) as { traces: CollectedTrace[] }).traces;
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('the trace collector', () => {
  it('reads gzipped exports, and serves one trace by id and all of them as text trees', async () => {
    collector = await startTraceCollector();
    const body = gzipSync(
      JSON.stringify(
        exportOf([
          [TRACE, '00f067aa0ba902b7'],
          [TRACE, '00f067aa0ba902b8', '00f067aa0ba902b7'],
        ]),
      ),
    );
    const response = await post(body, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});

    const one = await fetch(`${collector.url}/traces/${TRACE}`);
    const kept = (await one.json()) as CollectedTrace;
    expect(kept.spans.map((span: CollectedSpan) => [span.spanId, span.durationMs])).toEqual([
      ['00f067aa0ba902b7', 2.5],
      ['00f067aa0ba902b8', 2.5],
    ]);
    expect((await fetch(`${collector.url}/traces/${'0'.repeat(32)}`)).status).toBe(404);
    expect(await (await fetch(`${collector.url}/`)).text()).toBe(
      `trace ${TRACE} (2 spans)\n  reviews SERVER GET 200 2.5 ms\n    reviews SERVER GET 200 2.5 ms\n`,
    );
  });

  it('refuses protobuf with 415, naming the JSON protocol to export with', async () => {
    collector = await startTraceCollector();
    const response = await post(Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
    expect(response.status).toBe(415);
    expect(await response.text()).toContain('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json');
  });

  it('refuses a malformed export whole, naming the field at fault, and keeps none of it', async () => {
    collector = await startTraceCollector();
    const body = JSON.stringify(
      exportOf([
        [TRACE, '00f067aa0ba902b7'],
        ['not-a-trace-id', '00f067aa0ba902b8'],
      ]),
    );
    const response = await post(body, { 'content-type': 'application/json' });
    expect(response.status).toBe(400);
    expect(await response.text()).toBe(
      'bad OTLP/HTTP JSON trace export: resourceSpans[0].scopeSpans[0].spans[1].traceId: expected 32 lowercase hex digits, got "not-a-trace-id"\n',
    );
    const notJson = await post('{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
    expect(await tracesJson()).toEqual([]);
  });

  it('keeps only the most recent spans, newest trace first', async () => {
    collector = await startTraceCollector({ maxSpans: 3 });
    for (let i = 0; i < 5; i++) {
      const traceId = `${i}`.padStart(32, 'a');
      const response = await post(JSON.stringify(exportOf([[traceId, '00f067aa0ba902b7']], i)), {
        'content-type': 'application/json; charset=utf-8',
      });
      expect(response.status).toBe(200);
    }
    expect((await tracesJson()).map((kept) => kept.traceId.slice(-1))).toEqual(['4', '3', '2']);
  });
});
