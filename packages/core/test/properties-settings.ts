/**
 * Settings shared by the property-based tests (house style rule 18), properties-*.test.ts: every
 * property runs with a fixed seed so a failure reproduces; set FC_NUM_RUNS to run more cases
 * (e.g. `FC_NUM_RUNS=20000 vitest run packages/core/test/properties-`). An input that once broke
 * a property belongs in ./corpus/ too, where corpus-replay.test.ts replays it on every run.
 */
import type { Parameters } from 'fast-check';
import { vi } from 'vitest';

const SEED = 20_260_611;
const EXTRA_RUNS = Number(process.env.FC_NUM_RUNS);
// A long run (FC_NUM_RUNS=20000 takes minutes) must not trip vitest's 20 s test timeout.
if (Number.isInteger(EXTRA_RUNS)) vi.setConfig({ testTimeout: 3_600_000 });

/** `numRuns` for this property, or more when FC_NUM_RUNS asks for a longer run. */
export function runs<T>(numRuns: number, examples: T[] = []): Parameters<T> {
  const count = Number.isInteger(EXTRA_RUNS) && EXTRA_RUNS > numRuns ? EXTRA_RUNS : numRuns;
  return { seed: SEED, numRuns: count, examples };
}
