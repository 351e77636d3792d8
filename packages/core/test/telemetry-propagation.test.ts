/**
 * Weft's own trace-context formats (core depends on the OpenTelemetry API only), checked against
 * OpenTelemetry's propagators as oracles: what Weft injects they extract unchanged, and what they
 * inject Weft extracts unchanged, for random span contexts; malformed headers are refused.
 */
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type SpanContext,
  type TextMapPropagator,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PropagatorName, TraceContextPropagator } from '../src/index.ts';

const hex = (length: number) =>
  fc
    .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
    .filter((value) => !/^0+$/.test(value));

const spanContexts = fc.record({
  traceId: hex(32),
  spanId: hex(16),
  traceFlags: fc.constantFrom(TraceFlags.NONE, TraceFlags.SAMPLED),
});

function inject(propagator: TextMapPropagator, spanContext: SpanContext): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
  return carrier;
}

function extracted(propagator: TextMapPropagator, carrier: Record<string, string>): SpanContext | undefined {
  const context: Context = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  const spanContext = trace.getSpanContext(context);
  return spanContext === undefined
    ? undefined
    : { traceId: spanContext.traceId, spanId: spanContext.spanId, traceFlags: spanContext.traceFlags };
}

const formats: [PropagatorName, TextMapPropagator][] = [
  ['tracecontext', new W3CTraceContextPropagator()],
  ['b3multi', new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER })],
  ['b3', new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER })],
];

describe.each(formats)('%s against OpenTelemetry’s propagator', (name, oracle) => {
  const weft = new TraceContextPropagator([name]);

  it('injects what the oracle extracts unchanged', () => {
    fc.assert(
      fc.property(spanContexts, (spanContext) => {
        expect(extracted(oracle, inject(weft, spanContext))).toEqual(spanContext);
      }),
      { numRuns: 200 },
    );
  });

  it('extracts what the oracle injects unchanged', () => {
    fc.assert(
      fc.property(spanContexts, (spanContext) => {
        expect(extracted(weft, inject(oracle, spanContext))).toEqual(spanContext);
      }),
      { numRuns: 200 },
    );
  });
});

describe('TraceContextPropagator', () => {
  const propagator = new TraceContextPropagator();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const spanId = '00f067aa0ba902b7';

  it('injects traceparent and B3 multi-headers by default (tracestate only when there is one)', () => {
    const carrier: Record<string, string> = {};
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
    propagator.inject(context, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({
      traceparent: `00-${traceId}-${spanId}-01`,
      'x-b3-traceid': traceId,
      'x-b3-spanid': spanId,
      'x-b3-sampled': '1',
    });
    expect(propagator.fields()).toEqual([
      'traceparent',
      'tracestate',
      'x-b3-traceid',
      'x-b3-spanid',
      'x-b3-sampled',
    ]);
  });

  it('keeps tracestate through extract and inject', () => {
    const context = propagator.extract(
      ROOT_CONTEXT,
      { traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' },
      defaultTextMapGetter,
    );
    const carrier: Record<string, string> = {};
    new TraceContextPropagator(['tracecontext']).inject(context, carrier, defaultTextMapSetter);
    expect(carrier.tracestate).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it('injects nothing for an invalid span context', () => {
    const carrier: Record<string, string> = {};
    propagator.inject(ROOT_CONTEXT, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({});
  });

  it('widens a 64-bit B3 trace id to 128 bits', () => {
    expect(
      extracted(propagator, {
        'x-b3-traceid': 'a3ce929d0e0e4736',
        'x-b3-spanid': spanId,
        'x-b3-sampled': '1',
      }),
    ).toEqual({ traceId: '0000000000000000a3ce929d0e0e4736', spanId, traceFlags: TraceFlags.SAMPLED });
  });

  it('prefers traceparent over B3 when a request carries both', () => {
    expect(
      extracted(propagator, {
        traceparent: `00-${traceId}-${spanId}-00`,
        'x-b3-traceid': 'a3ce929d0e0e4736a3ce929d0e0e4736',
        'x-b3-spanid': 'a3ce929d0e0e4736',
      }),
    ).toEqual({ traceId, spanId, traceFlags: TraceFlags.NONE });
  });

  it.each([
    ['version ff', `ff-${traceId}-${spanId}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['an all-zero span id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${traceId.toUpperCase()}-${spanId}-01`],
    ['a fifth field on version 00', `00-${traceId}-${spanId}-01-extra`],
    ['a short trace id', `00-${traceId.slice(2)}-${spanId}-01`],
  ])('refuses a traceparent with %s', (_, traceparent) => {
    expect(extracted(new TraceContextPropagator(['tracecontext']), { traceparent })).toBeUndefined();
  });

  it('refuses a traceparent sent twice (ambiguous)', () => {
    const getter = {
      get: () => [`00-${traceId}-${spanId}-01`, `00-${traceId}-${spanId}-00`],
      keys: () => [],
    };
    const context = new TraceContextPropagator(['tracecontext']).extract(ROOT_CONTEXT, {}, getter);
    expect(trace.getSpanContext(context)).toBeUndefined();
  });

  it('refuses malformed B3 headers', () => {
    const b3 = new TraceContextPropagator(['b3multi', 'b3']);
    expect(extracted(b3, { 'x-b3-traceid': 'xyz', 'x-b3-spanid': spanId })).toBeUndefined();
    expect(extracted(b3, { 'x-b3-traceid': traceId })).toBeUndefined();
    expect(extracted(b3, { b3: '0' })).toBeUndefined();
    expect(extracted(b3, { b3: `${traceId}-${spanId}-d` })).toEqual({
      traceId,
      spanId,
      traceFlags: TraceFlags.SAMPLED,
    });
  });
});
