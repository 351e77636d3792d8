import { describe, expect, it } from 'vitest';
import { runGuardAb } from '../bench/support/guard-ab.ts';

/**
 * A guard against gross regressions of the request path's cost, not a benchmark: bench/ measures
 * (BENCHMARKS.md). Bare undici and Weft with every feature on take turns (bare, Weft, bare) in
 * five rounds of 250 ms closed-loop windows against an origin in a child process; the median
 * over rounds of Weft's CPU per request and throughput, each as a ratio to the bare windows
 * around it, must stay inside wide bounds. Ratios only, never absolute times.
 *
 * Bounds, from 16 runs of this A/B on the 2-vCPU development machine (2026-11-25), medians of five
 * rounds: with another engineer's benchmark running (load average ≈ 2.3), CPU ratio 1.08–1.37 and
 * throughput ratio 0.65–0.95; with two extra busy loops, 1.09–1.45 and 0.68–1.01; with four (load
 * average ≈ 5 on 2 CPUs), 1.21–1.62 and 0.64–1.03. Single rounds ranged 0.77–2.21 and 0.37–1.47,
 * which is why the median of five is judged. A median CPU ratio above 3 (1.9× the worst median
 * seen) or a throughput ratio below 0.4 (1.6× below the worst) takes a real regression — Weft's
 * own work per request growing past the whole of undici's — not a busy machine.
 */
const MAX_CPU_RATIO = 3;
const MIN_THROUGHPUT_RATIO = 0.4;

describe('bench guard: Weft against bare undici, interleaved', () => {
  it('costs at most 3× the CPU per request of bare undici and keeps at least 40% of its throughput', async () => {
    const result = await runGuardAb({ rounds: 5, windowMs: 250, warmupMs: 300, concurrency: 16 });
    const detail = JSON.stringify(result);
    expect(result.errors, detail).toBe(0);
    expect(result.unaccounted, detail).toBe(0);
    expect(result.requests, detail).toBeGreaterThan(1_000);
    expect(result.cpuRatio, detail).toBeLessThan(MAX_CPU_RATIO);
    expect(result.throughputRatio, detail).toBeGreaterThan(MIN_THROUGHPUT_RATIO);
  }, 20_000);
});
