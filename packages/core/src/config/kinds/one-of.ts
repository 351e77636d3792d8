import { addProblem, type RefinementContext } from './custom-issue.ts';

/** Istio's `oneof`: at most one of `keys` may be set; the issue lands on the second one set. */
export function checkOneOf<T extends object>(
  value: T,
  keys: readonly (keyof T & string)[],
  context: RefinementContext,
): void {
  const set = keys.filter((key) => value[key] !== undefined);
  if (set.length > 1)
    addProblem(context, `${set.join(' and ')} are mutually exclusive; keep only one`, [set[1] ?? '']);
}
