/**
 * The spans a trace collector keeps: the most recent `maxSpans`, oldest dropped first, read back
 * grouped into traces, and drawn as indented trees for people to read.
 */
import type { CollectedSpan } from './otlp-json-spans.ts';

export interface CollectedTrace {
  readonly traceId: string;
  /** Ordered by start time. */
  readonly spans: readonly CollectedSpan[];
}

export class RecentTraces {
  readonly #maxSpans: number;
  // Insertion-ordered, so the first entries are the oldest received; keyed to drop re-sent spans.
  readonly #spans = new Map<string, CollectedSpan>();

  constructor(maxSpans: number) {
    if (!Number.isInteger(maxSpans) || maxSpans < 1)
      throw new Error(`maxSpans: ${maxSpans} is not a positive integer`);
    this.#maxSpans = maxSpans;
  }

  get spanCount(): number {
    return this.#spans.size;
  }

  add(spans: readonly CollectedSpan[]): void {
    for (const span of spans) {
      const key = `${span.traceId}/${span.spanId}`;
      this.#spans.delete(key);
      this.#spans.set(key, span);
    }
    for (const key of this.#spans.keys()) {
      if (this.#spans.size <= this.#maxSpans) break;
      this.#spans.delete(key);
    }
  }

  /** Every kept trace, the one whose latest span started last first. */
  traces(): CollectedTrace[] {
    const byTrace = new Map<string, CollectedSpan[]>();
    for (const span of this.#spans.values()) {
      const spans = byTrace.get(span.traceId);
      if (spans === undefined) byTrace.set(span.traceId, [span]);
      else spans.push(span);
    }
    const traces = [...byTrace].map(([traceId, spans]) => ({
      traceId,
      spans: spans.sort((a, b) => compareNanos(a.startTimeUnixNano, b.startTimeUnixNano)),
    }));
    return traces.sort((a, b) => compareNanos(lastStart(b), lastStart(a)));
  }

  trace(traceId: string): CollectedTrace | undefined {
    return this.traces().find((trace) => trace.traceId === traceId);
  }
}

/**
 * A trace as text, one span a line under its parent:
 *   productpage SERVER GET 200 12.3 ms http://productpage:9080/productpage
 * A span whose parent was not received (yet) is drawn at the top level.
 */
export function traceAsText(trace: CollectedTrace): string {
  const ids = new Set(trace.spans.map((span) => span.spanId));
  const children = new Map<string | undefined, CollectedSpan[]>();
  for (const span of trace.spans) {
    const parent =
      span.parentSpanId !== undefined && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [span]);
    else siblings.push(span);
  }
  const lines = [`trace ${trace.traceId} (${trace.spans.length} spans)`];
  const draw = (parent: string | undefined, depth: number): void => {
    for (const span of children.get(parent) ?? []) {
      lines.push(`${'  '.repeat(depth)}${spanLine(span)}`);
      draw(span.spanId, depth + 1);
    }
  };
  draw(undefined, 1);
  return lines.join('\n');
}

function spanLine(span: CollectedSpan): string {
  const { attributes } = span;
  const parts = [span.service, span.kind, span.name];
  const status = attributes['http.response.status_code'];
  if (status !== undefined && status !== null) parts.push(String(status));
  parts.push(`${span.durationMs.toFixed(1)} ms`);
  const url = attributes['url.full'];
  if (typeof url === 'string') parts.push(url);
  if (span.status === 'ERROR') parts.push('ERROR');
  return parts.join(' ');
}

function lastStart(trace: CollectedTrace): string {
  return trace.spans.at(-1)?.startTimeUnixNano ?? '0';
}

/** Decimal nanosecond strings, compared without losing precision. */
function compareNanos(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
