/**
 * The tiny interleaved A/B behind the CI guard (test/bench-guard.test.ts): bare undici.request
 * (support/variants.ts `s0-request`) against Weft with every feature on (`all`), against an origin
 * in a child process, in rounds of three closed-loop windows (bare, Weft, bare). Each Weft window
 * is compared with the mean of the two bare windows around it, so only ratios taken a second
 * apart on the same machine are used — never absolute times. CPU is this thread's own
 * (`process.threadCpuUsage`), so other test files in other workers do not count.
 */
import { closedLoop, type Send } from './load.ts';
import { startOrigin } from './origin-process.ts';
import { median } from './stats.ts';
import { type BenchClient, VARIANTS } from './variants.ts';

export interface GuardOptions {
  readonly rounds: number;
  readonly windowMs: number;
  readonly warmupMs: number;
  readonly concurrency: number;
}

export interface GuardRound {
  /** Weft's CPU per request ÷ bare undici's. */
  readonly cpuRatio: number;
  /** Weft's requests per second ÷ bare undici's. */
  readonly throughputRatio: number;
}

export interface GuardResult {
  readonly rounds: readonly GuardRound[];
  readonly cpuRatio: number;
  readonly throughputRatio: number;
  readonly requests: number;
  readonly errors: number;
  /** Requests the origin served minus requests the clients completed: 0 when nothing was lost or added. */
  readonly unaccounted: number;
  readonly firstError?: string;
}

function threadCpuMicros(): number {
  const usage = process.threadCpuUsage();
  return usage.user + usage.system;
}

interface Window {
  readonly cpuUsPerRequest: number;
  readonly requestsPerSecond: number;
}

export async function runGuardAb(options: GuardOptions): Promise<GuardResult> {
  const origin = await startOrigin(1);
  const create = (id: string): BenchClient => {
    const variant = VARIANTS.find((candidate) => candidate.id === id);
    if (variant === undefined) throw new Error(`support/variants.ts has no ${id}`);
    return variant.create(origin.ports);
  };
  const bare = create('s0-request');
  const weft = create('all');
  let requests = 0;
  let errors = 0;
  let firstError: string | undefined;
  const window = async (send: Send, durationMs: number): Promise<Window> => {
    const before = threadCpuMicros();
    const counts = await closedLoop(send, options.concurrency, durationMs);
    const cpuUs = threadCpuMicros() - before;
    requests += counts.requests;
    errors += counts.errors;
    firstError ??= counts.firstError;
    return {
      cpuUsPerRequest: cpuUs / counts.requests,
      requestsPerSecond: counts.requests / (Number(counts.elapsedNs) / 1e9),
    };
  };
  try {
    const servedBefore = await origin.served();
    await window(bare.send, options.warmupMs);
    await window(weft.send, options.warmupMs);
    const rounds: GuardRound[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const before = await window(bare.send, options.windowMs);
      const mesh = await window(weft.send, options.windowMs);
      const after = await window(bare.send, options.windowMs);
      rounds.push({
        cpuRatio: mesh.cpuUsPerRequest / ((before.cpuUsPerRequest + after.cpuUsPerRequest) / 2),
        throughputRatio: mesh.requestsPerSecond / ((before.requestsPerSecond + after.requestsPerSecond) / 2),
      });
    }
    const unaccounted = (await origin.served()) - servedBefore - requests;
    return {
      rounds,
      cpuRatio: median(rounds.map((round) => round.cpuRatio)),
      throughputRatio: median(rounds.map((round) => round.throughputRatio)),
      requests,
      errors,
      unaccounted,
      ...(firstError === undefined ? {} : { firstError }),
    };
  } finally {
    await bare.close();
    await weft.close();
    await origin.close();
  }
}
