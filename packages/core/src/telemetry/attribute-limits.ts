/**
 * Bounds on what requests put into telemetry (bad-inputs I2): callers control paths and header
 * values, so every value taken from a request is cut to a length, and a metric label that comes
 * from a request header keeps a bounded set of values, since each new value is a new time series.
 */

/** Longest value from a request (a header, a custom tag) kept in a span attribute or log field. */
export const MAX_ATTRIBUTE_VALUE_LENGTH = 256;

/** Longest `url.full` kept in a span; the path is caller-controlled and may be long. */
export const MAX_URL_LENGTH = 2048;

/** Longest request-derived value kept in an access-log field. */
export const MAX_LOGGED_VALUE_LENGTH = 4096;

/** Longest metric label value taken from a request header (a tag override). */
export const MAX_LABEL_VALUE_LENGTH = 64;

/** Distinct values one header-derived metric label may take; later new values read `other`. */
export const MAX_LABEL_VALUES = 100;

/** The label value that stands for every header value past MAX_LABEL_VALUES. */
export const OVERFLOW_LABEL_VALUE = 'other';

/** `value` cut to `max` UTF-16 units (no lone surrogate left at the cut). */
export function capLength(value: string, max: number): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return value.slice(0, end);
}

/**
 * The values a header-derived label has taken, so the label's cardinality stays bounded: the
 * first MAX_LABEL_VALUES distinct values are kept, every later one is reported as `other`.
 */
export class BoundedLabelValues {
  readonly #seen = new Set<string>();
  readonly #max: number;

  constructor(max = MAX_LABEL_VALUES) {
    this.#max = max;
  }

  admit(value: string): string {
    const capped = capLength(value, MAX_LABEL_VALUE_LENGTH);
    if (this.#seen.has(capped)) return capped;
    if (this.#seen.size >= this.#max) return OVERFLOW_LABEL_VALUE;
    this.#seen.add(capped);
    return capped;
  }
}
