import { isDeepStrictEqual } from 'node:util';

/**
 * A deep copy of a JSON value, as it will read back from disk or etcd (undefined fields
 * dropped, Dates as strings), frozen all the way down so no caller can change stored state.
 */
export function frozenJsonCopy<T>(value: T): T {
  const text = JSON.stringify(value);
  return deepFreeze(text === undefined ? value : (JSON.parse(text) as T));
}

/** Equality of two JSON values produced by `frozenJsonCopy` (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
