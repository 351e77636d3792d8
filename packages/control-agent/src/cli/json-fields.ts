/** Reading JSON of unknown shape (agent answers, stored specs) without trusting it. */

/** `value` as an object's fields, or no fields when it is not an object. */
export function record(value: unknown): Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** `value` when it is an array, otherwise empty. */
export function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A string or number as text; anything else as ''. */
export function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}
