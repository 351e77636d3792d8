/**
 * Reads an OTLP/HTTP JSON trace export (ExportTraceServiceRequest, as
 * @opentelemetry/exporter-trace-otlp-http sends it: hex ids, nanosecond times as strings, enum
 * values as numbers) into flat spans. A malformed request is refused whole, with the path of
 * the field at fault.
 */

export type SpanKindName = 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
export type SpanStatusName = 'UNSET' | 'OK' | 'ERROR';
export type AttributeValue = string | number | boolean | null | readonly AttributeValue[];

/** One span as the collector keeps and serves it. */
export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Undefined for a trace's root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKindName;
  /** The resource's `service.name` (OTEL_SERVICE_NAME of the process that made the span). */
  readonly service: string;
  /** The instrumentation scope (`@weft/core` for Weft's spans). */
  readonly scope: string;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly durationMs: number;
  readonly status: SpanStatusName;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Timestamped events (Weft's `weft.attempt`, one per attempt), in the order sent. */
  readonly events: readonly SpanEvent[];
}

export interface SpanEvent {
  readonly name: string;
  readonly timeUnixNano: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/** A request the collector cannot read: `path` names the field, `reason` what is wrong with it. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.path = path;
  }
}

// OTLP's enum numbers (opentelemetry-proto trace.proto): Span.SpanKind and Status.StatusCode.
const KINDS: readonly SpanKindName[] = [
  'UNSPECIFIED',
  'INTERNAL',
  'SERVER',
  'CLIENT',
  'PRODUCER',
  'CONSUMER',
];
const STATUSES: readonly SpanStatusName[] = ['UNSET', 'OK', 'ERROR'];
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const NANOS = /^\d{1,20}$/;

/** The spans of one export request (the parsed JSON body). */
export function decodeOtlpJsonSpans(body: unknown): CollectedSpan[] {
  const request = record(body, 'request');
  const spans: CollectedSpan[] = [];
  list(request.resourceSpans, 'resourceSpans').forEach((resourceSpans, r) => {
    const at = `resourceSpans[${r}]`;
    const resourceSpan = record(resourceSpans, at);
    const resource =
      resourceSpan.resource === undefined ? {} : record(resourceSpan.resource, `${at}.resource`);
    const resourceAttributes = attributes(resource.attributes, `${at}.resource.attributes`);
    const service =
      typeof resourceAttributes['service.name'] === 'string'
        ? resourceAttributes['service.name']
        : 'unknown_service';
    list(resourceSpan.scopeSpans, `${at}.scopeSpans`).forEach((scopeSpans, s) => {
      const scopeAt = `${at}.scopeSpans[${s}]`;
      const scoped = record(scopeSpans, scopeAt);
      const scope = scoped.scope === undefined ? {} : record(scoped.scope, `${scopeAt}.scope`);
      const scopeName = typeof scope.name === 'string' ? scope.name : '';
      list(scoped.spans, `${scopeAt}.spans`).forEach((span, i) => {
        spans.push(
          decodeSpan(record(span, `${scopeAt}.spans[${i}]`), `${scopeAt}.spans[${i}]`, service, scopeName),
        );
      });
    });
  });
  return spans;
}

function decodeSpan(
  span: Record<string, unknown>,
  at: string,
  service: string,
  scope: string,
): CollectedSpan {
  const traceId = matching(span.traceId, TRACE_ID, `${at}.traceId`, '32 lowercase hex digits');
  const spanId = matching(span.spanId, SPAN_ID, `${at}.spanId`, '16 lowercase hex digits');
  const parent = span.parentSpanId;
  const parentSpanId =
    parent === undefined || parent === ''
      ? undefined
      : matching(parent, SPAN_ID, `${at}.parentSpanId`, '16 lowercase hex digits or empty');
  const start = nanos(span.startTimeUnixNano, `${at}.startTimeUnixNano`);
  const end = nanos(span.endTimeUnixNano, `${at}.endTimeUnixNano`);
  const status = span.status === undefined ? {} : record(span.status, `${at}.status`);
  return {
    traceId,
    spanId,
    parentSpanId,
    name: typeof span.name === 'string' ? span.name : '',
    kind: enumName(span.kind, KINDS, `${at}.kind`),
    service,
    scope,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    durationMs: Number(BigInt(end) - BigInt(start)) / 1e6,
    status: enumName(status.code, STATUSES, `${at}.status.code`),
    attributes: attributes(span.attributes, `${at}.attributes`),
    events: list(span.events, `${at}.events`).map((event, i) => {
      const eventAt = `${at}.events[${i}]`;
      const fields = record(event, eventAt);
      return {
        name: typeof fields.name === 'string' ? fields.name : '',
        timeUnixNano: nanos(fields.timeUnixNano, `${eventAt}.timeUnixNano`),
        attributes: attributes(fields.attributes, `${eventAt}.attributes`),
      };
    }),
  };
}

/** OTLP KeyValue list → a plain record (AnyValue unwrapped; int64 strings become numbers). */
function attributes(value: unknown, at: string): Record<string, AttributeValue> {
  const result: Record<string, AttributeValue> = {};
  if (value === undefined) return result;
  list(value, at).forEach((entry, i) => {
    const pair = record(entry, `${at}[${i}]`);
    if (typeof pair.key !== 'string') throw new OtlpDecodeError(`${at}[${i}].key`, 'expected a string');
    result[pair.key] = anyValue(pair.value, `${at}[${i}].value`);
  });
  return result;
}

function anyValue(value: unknown, at: string): AttributeValue {
  if (value === undefined || value === null) return null;
  const wrapped = record(value, at);
  if (typeof wrapped.stringValue === 'string') return wrapped.stringValue;
  if (typeof wrapped.boolValue === 'boolean') return wrapped.boolValue;
  if (typeof wrapped.doubleValue === 'number') return wrapped.doubleValue;
  if (typeof wrapped.intValue === 'number') return wrapped.intValue;
  if (typeof wrapped.intValue === 'string' && /^-?\d+$/.test(wrapped.intValue))
    return Number(wrapped.intValue);
  if (typeof wrapped.bytesValue === 'string') return wrapped.bytesValue;
  if (wrapped.arrayValue !== undefined) {
    const values = record(wrapped.arrayValue, `${at}.arrayValue`).values;
    return values === undefined
      ? []
      : list(values, `${at}.arrayValue.values`).map((item, i) =>
          anyValue(item, `${at}.arrayValue.values[${i}]`),
        );
  }
  if (wrapped.kvlistValue !== undefined) {
    const values = record(wrapped.kvlistValue, `${at}.kvlistValue`).values;
    return JSON.stringify(attributes(values, `${at}.kvlistValue.values`));
  }
  return null;
}

function record(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OtlpDecodeError(at, 'expected an object');
  return value as Record<string, unknown>;
}

function list(value: unknown, at: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(at, 'expected an array');
  return value;
}

function matching(value: unknown, pattern: RegExp, at: string, expected: string): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw new OtlpDecodeError(at, `expected ${expected}, got ${JSON.stringify(value)}`);
  return value;
}

function nanos(value: unknown, at: string): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  return matching(text, NANOS, at, 'nanoseconds since the Unix epoch');
}

function enumName<Name extends string>(value: unknown, names: readonly Name[], at: string): Name {
  if (value === undefined) return names[0] as Name;
  const name = typeof value === 'number' ? names[value] : undefined;
  if (name === undefined)
    throw new OtlpDecodeError(at, `expected one of 0-${names.length - 1}, got ${JSON.stringify(value)}`);
  return name;
}
