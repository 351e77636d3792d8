/**
 * Other jobs on a 2-CPU machine skew every figure, so a window should start when the machine is
 * quiet and be flagged when it was not: the CPU that neither the client nor the processes the
 * benchmark started used during the window, in % of one CPU.
 */
import os from 'node:os';
import { MICROS_PER_TICK, systemBusyMicros } from './cpu-time.ts';

/** The largest share of other CPU a window may see; /proc counts whole ticks, so short windows get more slack. */
export function otherCpuLimitPercent(maxOtherCpuPercent: number, windowMs: number): number {
  const tickNoisePercent = (100 * 2 * os.availableParallelism() * MICROS_PER_TICK) / (windowMs * 1000);
  return maxOtherCpuPercent + tickNoisePercent;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A budget of waiting shared by a whole run, so a busy machine cannot stall it for ever. */
export class QuietWaiter {
  #remainingMs: number;
  readonly #budgetMs: number;
  readonly #ownCpuMicros: () => number;
  readonly #maxOtherCpuPercent: number;

  /** `ownCpuMicros`: CPU µs used so far by the benchmark's own processes (client, origin, proxies). */
  constructor(budgetMs: number, ownCpuMicros: () => number, maxOtherCpuPercent: number) {
    this.#budgetMs = budgetMs;
    this.#remainingMs = budgetMs;
    this.#ownCpuMicros = ownCpuMicros;
    this.#maxOtherCpuPercent = maxOtherCpuPercent;
  }

  get waitedMs(): number {
    return this.#budgetMs - this.#remainingMs;
  }

  /** Samples other processes' CPU in 500 ms steps until it is under the limit or the budget is spent. */
  async wait(): Promise<void> {
    const sampleMs = 500;
    while (this.#remainingMs > 0) {
      const systemBefore = systemBusyMicros();
      const ownBefore = this.#ownCpuMicros();
      await sleep(sampleMs);
      const otherUs = systemBusyMicros() - systemBefore - (this.#ownCpuMicros() - ownBefore);
      if ((100 * otherUs) / (sampleMs * 1000) <= otherCpuLimitPercent(this.#maxOtherCpuPercent, sampleMs))
        return;
      await sleep(500);
      this.#remainingMs -= 2 * sampleMs;
    }
  }
}
