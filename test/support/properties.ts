/**
 * Settings for the property-based tests in test/ (house style rule 18), as the core package's
 * properties-settings.ts: a fixed seed, so that a failure reproduces (fast-check prints the seed
 * and the path of the counterexample), and bounded runs; FC_NUM_RUNS asks for a longer run (e.g.
 * `FC_NUM_RUNS=20000 npx vitest run test/properties-`). An input that once broke a property
 * belongs in test/corpus/ too, replayed by test/corpus-replay.test.ts on every run.
 */
import type { Parameters } from 'fast-check';
import { vi } from 'vitest';

export const PROPERTY_SEED = 20_261_125;
const EXTRA_RUNS = Number(process.env.FC_NUM_RUNS);
if (Number.isInteger(EXTRA_RUNS)) vi.setConfig({ testTimeout: 3_600_000 });

/** `numRuns` for this property (more when FC_NUM_RUNS asks), with the fixed seed. */
export function runs<T>(numRuns: number, examples: T[] = []): Parameters<T> {
  const count = Number.isInteger(EXTRA_RUNS) && EXTRA_RUNS > numRuns ? EXTRA_RUNS : numRuns;
  return { seed: PROPERTY_SEED, numRuns: count, examples };
}
