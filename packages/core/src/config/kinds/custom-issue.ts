import type { z } from 'zod';

/** The context a `superRefine` or `transform` callback receives. */
export type RefinementContext = z.core.$RefinementCtx;

/**
 * Reports `problem` as a custom issue at `path` (relative to the value being refined); `undefined`
 * means there is no problem, so a `…Problem(value)` check can be passed straight in.
 */
export function addProblem(
  context: RefinementContext,
  problem: string | undefined,
  path: readonly PropertyKey[] = [],
): void {
  if (problem !== undefined) context.addIssue({ code: 'custom', path: [...path], message: problem });
}
