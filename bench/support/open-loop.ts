/**
 * Fixed-rate open-loop load (reference benchmarks.md §5): request i is due at start + i / rate
 * whether or not earlier ones have answered, and its latency is taken from that due time, so a
 * stall of the client or of the generator shows in the latencies instead of hiding (no
 * coordinated omission). A 1 ms timer sends every request that has come due; how late the
 * generator ever was is reported beside the latencies.
 */
import type { Send } from './load.ts';

export interface OpenLoopResult {
  readonly scheduled: number;
  readonly ok: number;
  /** Ended with anything but 200 and the expected body, threw, or had not ended by the deadline. */
  readonly failed: number;
  /** Per request, in the order due: latency from the due time in µs (NaN: never ended). */
  readonly latenciesUs: Float64Array;
  /** Per request: 1 when it succeeded. */
  readonly isOk: Uint8Array;
  /** Per request: due time in ms after the start. */
  readonly dueMs: Float64Array;
  readonly maxGeneratorLagMs: number;
  readonly firstError?: string;
  /** hrtime (ns) of the start, so events can be placed on the same time line. */
  readonly startNs: bigint;
}

/**
 * Sends `ratePerSecond` requests per second for `durationMs`, then waits up to `drainMs` for the
 * last ones to end; requests still open then count as failed.
 */
export async function openLoop(
  send: Send,
  ratePerSecond: number,
  durationMs: number,
  drainMs: number,
): Promise<OpenLoopResult> {
  const total = Math.floor((ratePerSecond * durationMs) / 1000);
  const latenciesUs = new Float64Array(total).fill(Number.NaN);
  const isOk = new Uint8Array(total);
  const dueMs = new Float64Array(total);
  const intervalNs = 1e9 / ratePerSecond;
  let firstError: string | undefined;
  let maxGeneratorLagMs = 0;
  let ended = 0;
  let next = 0;
  let onAllEnded = () => {};
  const startNs = process.hrtime.bigint();

  const launch = (i: number, dueNs: bigint) => {
    const finish = (isSuccess: boolean) => {
      latenciesUs[i] = Number(process.hrtime.bigint() - dueNs) / 1000;
      isOk[i] = isSuccess ? 1 : 0;
      ended += 1;
      if (ended === total) onAllEnded();
    };
    send().then(
      (isSuccess) => {
        if (!isSuccess) firstError ??= 'unexpected status or body';
        finish(isSuccess);
      },
      (error: unknown) => {
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        finish(false);
      },
    );
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const nowNs = process.hrtime.bigint();
      while (next < total) {
        const dueNs = startNs + BigInt(Math.round(next * intervalNs));
        if (dueNs > nowNs) break;
        dueMs[next] = Number(dueNs - startNs) / 1e6;
        maxGeneratorLagMs = Math.max(maxGeneratorLagMs, Number(nowNs - dueNs) / 1e6);
        launch(next, dueNs);
        next += 1;
      }
      if (next < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });

  if (ended < total) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, drainMs);
      onAllEnded = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  let ok = 0;
  for (let i = 0; i < total; i++) ok += isOk[i] as number;
  if (ended < total)
    firstError ??= `${total - ended} requests had not ended ${drainMs} ms after the last was sent`;
  return {
    scheduled: total,
    ok,
    failed: total - ok,
    latenciesUs,
    isOk,
    dueMs,
    maxGeneratorLagMs,
    ...(firstError === undefined ? {} : { firstError }),
    startNs,
  };
}
