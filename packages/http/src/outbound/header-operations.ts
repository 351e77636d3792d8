import type { HeaderRecord } from './request-headers.ts';

/** Istio's HeaderOperations, normalized: `set` replaces, `add` appends, `remove` deletes. */
export interface HeaderOperations {
  readonly set?: Readonly<Record<string, string>>;
  readonly add?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

/**
 * Applies operations to a lower-cased header record in place: remove, then set, then add, as
 * Envoy evaluates a header mutation. Callers apply the destination's operations first and the
 * route's after, so the route's `set` wins, as Envoy's default ordering does.
 */
export function applyHeaderOperations(headers: HeaderRecord, operations: HeaderOperations | undefined): void {
  if (operations === undefined) return;
  for (const name of operations.remove ?? []) delete headers[name.toLowerCase()];
  for (const [name, value] of Object.entries(operations.set ?? {})) headers[name.toLowerCase()] = value;
  for (const [name, value] of Object.entries(operations.add ?? {})) {
    const key = name.toLowerCase();
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else headers[key] = [...(Array.isArray(existing) ? existing : [existing]), value];
  }
}
