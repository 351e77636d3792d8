/**
 * The two load shapes: a closed loop (`concurrency` requests always in flight) for throughput
 * and CPU per request, and ping-pong (one request at a time) for latency. Both run for a fixed
 * time and count every request that did not end in 200 with the expected body as an error.
 */

/** Sends one request and reads its whole response; true when it was 200 with the expected body. */
export type Send = () => Promise<boolean>;

export interface LoadCounts {
  /** Requests completed, successful or not. */
  readonly requests: number;
  readonly errors: number;
  readonly elapsedNs: bigint;
  /** The first error seen, for the report. */
  readonly firstError?: string;
}

class Tally {
  requests = 0;
  errors = 0;
  firstError: string | undefined;

  record(isOk: boolean): void {
    this.requests += 1;
    if (!isOk) {
      this.errors += 1;
      this.firstError ??= 'unexpected status or body';
    }
  }

  fail(error: unknown): void {
    this.requests += 1;
    this.errors += 1;
    this.firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

function counts(tally: Tally, elapsedNs: bigint): LoadCounts {
  return {
    requests: tally.requests,
    errors: tally.errors,
    elapsedNs,
    ...(tally.firstError === undefined ? {} : { firstError: tally.firstError }),
  };
}

/** `concurrency` workers, each sending its next request as soon as the last one ends. */
export async function closedLoop(send: Send, concurrency: number, durationMs: number): Promise<LoadCounts> {
  const tally = new Tally();
  let isStopped = false;
  const timer = setTimeout(() => {
    isStopped = true;
  }, durationMs);
  const worker = async () => {
    while (!isStopped) {
      try {
        tally.record(await send());
      } catch (error) {
        tally.fail(error);
      }
    }
  };
  const start = process.hrtime.bigint();
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearTimeout(timer);
  }
  return counts(tally, process.hrtime.bigint() - start);
}

export interface PingPongCounts extends LoadCounts {
  /** Latency of each request in µs, in the order sent; a view of the caller's buffer. */
  readonly latenciesUs: Float64Array;
}

/**
 * One request at a time. Each latency is taken with process.hrtime.bigint around one send and
 * stored in `buffer` (preallocated, so sampling allocates nothing); the run stops early when
 * the buffer is full.
 */
export async function pingPong(
  send: Send,
  durationMs: number,
  buffer: Float64Array,
): Promise<PingPongCounts> {
  const tally = new Tally();
  let isStopped = false;
  const timer = setTimeout(() => {
    isStopped = true;
  }, durationMs);
  const start = process.hrtime.bigint();
  let samples = 0;
  try {
    while (!isStopped && samples < buffer.length) {
      const sentAt = process.hrtime.bigint();
      try {
        tally.record(await send());
      } catch (error) {
        tally.fail(error);
      }
      buffer[samples++] = Number(process.hrtime.bigint() - sentAt) / 1000;
    }
  } finally {
    clearTimeout(timer);
  }
  return { ...counts(tally, process.hrtime.bigint() - start), latenciesUs: buffer.subarray(0, samples) };
}
