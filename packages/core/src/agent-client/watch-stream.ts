import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';
import { describeAnswer, openRequest, parseAnswer, readBody } from './agent-http.ts';
import { NdjsonLines } from './ndjson-lines.ts';
import { STREAM_TOKEN_HEADER, type WatchFrame } from './protocol.ts';
import { parseWatchFrame } from './watch-frame.ts';

export interface WatchStreamOptions {
  readonly url: URL;
  /** The request's credential (`authorization`), when the client has one (PROTOCOL.md §3.1). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** The agent must answer with headers within this time. */
  readonly connectTimeoutMs: number;
  readonly maxFrameBytes: number;
  /** The silence after which the stream counts as stalled; read again after every chunk. */
  readonly stallTimeoutMs: () => number;
  /** The stream is open; `streamToken` is what status reports for it must carry. */
  readonly onOpen: (streamToken: string | undefined) => void;
  /** The frames one chunk completed, in order. A throw ends the stream with that error. */
  readonly onFrames: (frames: readonly WatchFrame[]) => void;
}

/** Bytes of an error answer to the watch request kept for the message. */
const MAX_REFUSAL_BYTES = 64 * 1024;

/**
 * Runs one watch stream until it ends. A watch never ends well: this always rejects, with why it
 * ended (the agent closed it, a stall, a refused request, a malformed frame, or the signal).
 * Every byte that arrives re-arms the stall timer; the timers are the injected clock's.
 */
export async function runWatchStream(options: WatchStreamOptions): Promise<never> {
  const { clock, url } = options;
  const local = new AbortController();
  const signal = AbortSignal.any([options.signal, local.signal]);
  let timer: TimerHandle | undefined;
  const arm = (delayMs: number, error: () => WeftError): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = clock.setTimeout(() => local.abort(error()), delayMs);
  };
  try {
    arm(
      options.connectTimeoutMs,
      () =>
        new WeftError(
          ErrorCodes.timeout,
          `${url.origin} did not answer the watch within ${options.connectTimeoutMs} ms`,
        ),
    );
    const response = await openRequest({
      method: 'GET',
      url,
      signal,
      headers: { ...options.headers, accept: 'application/x-ndjson' },
    });
    if (response.statusCode !== 200) {
      // The refusal's body only adds detail to the message; failing to read it changes nothing.
      const body = await readBody(response, MAX_REFUSAL_BYTES).catch(() => '');
      throw new WeftError(
        ErrorCodes.controlPlaneUnavailable,
        `${url.origin} refused the watch: ${describeAnswer({ status: response.statusCode ?? 0, body: parseAnswer(body) })}`,
      );
    }
    const token = response.headers[STREAM_TOKEN_HEADER];
    options.onOpen(typeof token === 'string' ? token : undefined);
    const lines = new NdjsonLines(options.maxFrameBytes);
    const stalled = (): WeftError => {
      return new WeftError(
        ErrorCodes.timeout,
        `the watch stream from ${url.origin} was silent for ${options.stallTimeoutMs()} ms (stalled)`,
      );
    };
    arm(options.stallTimeoutMs(), stalled);
    for await (const chunk of response as AsyncIterable<Buffer>) {
      const frames = lines.push(chunk).map(parseWatchFrame);
      if (frames.length > 0) options.onFrames(frames);
      // After the frames: a heartbeat in this chunk may have changed the stall timeout.
      arm(options.stallTimeoutMs(), stalled);
    }
    throw new WeftError(ErrorCodes.controlPlaneUnavailable, `${url.origin} ended the watch stream`);
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    // Releases the socket however the stream ended (a no-op when it is already closed).
    local.abort();
  }
}
