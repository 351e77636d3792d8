import {
  type Context,
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

/**
 * The trace-context header formats Weft speaks, named as OTEL_PROPAGATORS names them:
 * `tracecontext` (W3C traceparent + tracestate), `b3multi` (x-b3-traceid, x-b3-spanid,
 * x-b3-sampled, what Envoy's Zipkin tracer and Istio's Bookinfo apps use) and `b3` (the single
 * `b3` header).
 */
export type PropagatorName = 'tracecontext' | 'b3multi' | 'b3';

export const DEFAULT_PROPAGATORS: readonly PropagatorName[] = Object.freeze(['tracecontext', 'b3multi']);

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
const B3_SINGLE = 'b3';
const B3_TRACE_ID = 'x-b3-traceid';
const B3_SPAN_ID = 'x-b3-spanid';
const B3_SAMPLED = 'x-b3-sampled';
const B3_FLAGS = 'x-b3-flags';

const FIELDS: Readonly<Record<PropagatorName, readonly string[]>> = {
  tracecontext: [TRACEPARENT, TRACESTATE],
  b3multi: [B3_TRACE_ID, B3_SPAN_ID, B3_SAMPLED],
  b3: [B3_SINGLE],
};

const HEX_32 = /^[0-9a-f]{32}$/;
const HEX_16 = /^[0-9a-f]{16}$/;
const TRACEPARENT_FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Injects the active span's context in every configured format and extracts the first valid
 * one found, in the configured order. Written for Weft (the OpenTelemetry API has no formats of
 * its own), so @weft/core needs no propagator package; an application that sets a global
 * propagator gets that one instead (see MeshTelemetry).
 */
export class TraceContextPropagator implements TextMapPropagator {
  readonly #names: readonly PropagatorName[];
  readonly #fields: readonly string[];

  constructor(names: readonly PropagatorName[] = DEFAULT_PROPAGATORS) {
    this.#names = names;
    this.#fields = [...new Set(names.flatMap((name) => FIELDS[name]))];
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(context);
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
    const isSampled = (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
    for (const name of this.#names) {
      switch (name) {
        case 'tracecontext': {
          const flags = isSampled ? '01' : '00';
          setter.set(carrier, TRACEPARENT, `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`);
          const state = spanContext.traceState?.serialize();
          if (state !== undefined && state !== '') setter.set(carrier, TRACESTATE, state);
          break;
        }
        case 'b3multi':
          setter.set(carrier, B3_TRACE_ID, spanContext.traceId);
          setter.set(carrier, B3_SPAN_ID, spanContext.spanId);
          setter.set(carrier, B3_SAMPLED, isSampled ? '1' : '0');
          break;
        case 'b3':
          setter.set(
            carrier,
            B3_SINGLE,
            `${spanContext.traceId}-${spanContext.spanId}-${isSampled ? '1' : '0'}`,
          );
          break;
      }
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    for (const name of this.#names) {
      const spanContext =
        name === 'tracecontext'
          ? readTraceparent(carrier, getter)
          : name === 'b3multi'
            ? readB3Multi(carrier, getter)
            : readB3Single(carrier, getter);
      if (spanContext !== undefined) return trace.setSpanContext(context, spanContext);
    }
    return context;
  }

  fields(): string[] {
    return [...this.#fields];
  }
}

/** One header's value; a header sent several times is ambiguous, and so unusable. */
function single(carrier: unknown, getter: TextMapGetter, name: string): string | undefined {
  const value = getter.get(carrier, name);
  if (Array.isArray(value)) return value.length === 1 ? value[0]?.trim() : undefined;
  return value?.trim();
}

function readTraceparent(carrier: unknown, getter: TextMapGetter): SpanContext | undefined {
  const header = single(carrier, getter, TRACEPARENT);
  if (header === undefined) return undefined;
  const match = TRACEPARENT_FORMAT.exec(header);
  if (match === null) return undefined;
  const [, version, traceId = '', spanId = '', flags = '', rest] = match;
  // Version ff is forbidden; version 00 has exactly four fields. A later version may add fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const state = single(carrier, getter, TRACESTATE);
  return valid({
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(state === undefined || state === '' ? {} : { traceState: createTraceState(state) }),
  });
}

function readB3Multi(carrier: unknown, getter: TextMapGetter): SpanContext | undefined {
  const traceId = single(carrier, getter, B3_TRACE_ID)?.toLowerCase();
  const spanId = single(carrier, getter, B3_SPAN_ID)?.toLowerCase();
  if (traceId === undefined || spanId === undefined) return undefined;
  const isSampled =
    single(carrier, getter, B3_FLAGS) === '1' || isB3Sampled(single(carrier, getter, B3_SAMPLED));
  return b3Context(traceId, spanId, isSampled);
}

function readB3Single(carrier: unknown, getter: TextMapGetter): SpanContext | undefined {
  const header = single(carrier, getter, B3_SINGLE)?.toLowerCase();
  if (header === undefined) return undefined;
  const [traceId = '', spanId, sampling] = header.split('-');
  if (spanId === undefined) return undefined;
  return b3Context(traceId, spanId, sampling === 'd' || isB3Sampled(sampling));
}

function isB3Sampled(value: string | undefined): boolean {
  return value === '1' || value === 'true' || value === 'd';
}

function b3Context(traceId: string, spanId: string, isSampled: boolean): SpanContext | undefined {
  // 64-bit B3 trace ids are widened to W3C's 128 bits with leading zeros.
  const wide = traceId.length === 16 ? `0000000000000000${traceId}` : traceId;
  if (!HEX_32.test(wide) || !HEX_16.test(spanId)) return undefined;
  return valid({
    traceId: wide,
    spanId,
    traceFlags: isSampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

function valid(spanContext: SpanContext): SpanContext | undefined {
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}
