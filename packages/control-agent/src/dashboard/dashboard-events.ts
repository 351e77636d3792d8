import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '@weft/core';
import { HttpError } from '../http/http-error.ts';
import type { DashboardView } from './dashboard-inputs.ts';

export interface DashboardEventsOptions {
  readonly clock: Clock;
  /** How often the state is rebuilt and, when it changed, pushed. */
  readonly refreshMs: number;
  /** A comment line goes out after this long without an event, so proxies keep the stream. */
  readonly keepAliveMs: number;
  /** Open streams at most; one more is refused with 503. */
  readonly maxStreams: number;
  /** A stream whose socket has not drained for this long is closed (the page reconnects). */
  readonly stalledMs: number;
  /** The state of a view (window and scope), serialized; rejected builds are skipped until the next refresh. */
  readonly build: (view: DashboardView) => Promise<string>;
}

interface Subscriber {
  readonly response: ServerResponse;
  readonly view: DashboardView;
  /** `scope|windowMs`: subscribers with one key share one build per refresh. */
  readonly viewKey: string;
  /** The last state written (as JSON), to push only what changed. */
  lastSent: string | undefined;
  lastWriteMs: number;
  /** Since when the socket has been full; undefined while it drains. */
  fullSinceMs: number | undefined;
}

/**
 * `GET /v1/dashboard/events`: server-sent events carrying the dashboard's state. One timer for all
 * streams (running only while some are open) rebuilds the state once per distinct window every
 * `refreshMs` (a view: a window and a scope) and writes it to the streams whose last state differs. A stream that does not drain
 * is neither written to nor buffered for; it is closed after `stalledMs`.
 */
export class DashboardEvents {
  readonly #options: DashboardEventsOptions;
  readonly #subscribers = new Set<Subscriber>();
  #timer: TimerHandle | undefined;
  #refreshing: Promise<void> | undefined;
  #isClosed = false;

  constructor(options: DashboardEventsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  /** Starts a stream on `response` (headers, a retry hint, the current state at once). */
  open(response: ServerResponse, view: DashboardView): void {
    if (this.#isClosed) throw new HttpError(503, 'unavailable', 'the agent is shutting down');
    if (this.#subscribers.size >= this.#options.maxStreams) {
      throw new HttpError(
        503,
        'too-many-streams',
        `at most ${this.#options.maxStreams} dashboards may stream at once`,
        {
          headers: { 'retry-after': '5' },
        },
      );
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Tells buffering proxies (nginx) to pass events on as they come.
      'x-accel-buffering': 'no',
    });
    response.socket?.setKeepAlive(true);
    const subscriber: Subscriber = {
      response,
      view,
      viewKey: `${view.scope}|${view.windowMs}`,
      lastSent: undefined,
      lastWriteMs: this.#options.clock.now(),
      fullSinceMs: undefined,
    };
    this.#subscribers.add(subscriber);
    response.on('close', () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0) this.#stop();
    });
    response.on('drain', () => {
      subscriber.fullSinceMs = undefined;
    });
    this.#write(subscriber, `retry: ${Math.max(1_000, this.#options.refreshMs)}\n\n`);
    void this.#sendFirst(subscriber);
    this.#schedule();
  }

  /** The current state, at once, to a stream that just opened. */
  async #sendFirst(subscriber: Subscriber): Promise<void> {
    try {
      const state = await this.#options.build(subscriber.view);
      if (subscriber.lastSent === undefined && this.#write(subscriber, `event: state\ndata: ${state}\n\n`))
        subscriber.lastSent = state;
    } catch {
      // The next refresh sends it.
    }
  }

  /** Rebuilds and pushes now (what the timer does); resolves when written. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Ends every stream and stops the timer. */
  close(): void {
    this.#isClosed = true;
    this.#stop();
    for (const subscriber of this.#subscribers) subscriber.response.end();
    this.#subscribers.clear();
  }

  async #refresh(): Promise<void> {
    const views = new Map([...this.#subscribers].map((subscriber) => [subscriber.viewKey, subscriber.view]));
    for (const [key, view] of views) {
      let state: string;
      try {
        state = await this.#options.build(view);
      } catch {
        continue; // the next refresh tries again; the page keeps what it has
      }
      for (const subscriber of this.#subscribers) {
        if (subscriber.viewKey !== key || subscriber.lastSent === state) continue;
        if (this.#write(subscriber, `event: state\ndata: ${state}\n\n`)) subscriber.lastSent = state;
      }
    }
    const nowMs = this.#options.clock.now();
    for (const subscriber of this.#subscribers) {
      if (nowMs - subscriber.lastWriteMs >= this.#options.keepAliveMs)
        this.#write(subscriber, ': keep-alive\n\n');
    }
  }

  /** Writes unless the socket is full; closes a stream that stayed full too long. */
  #write(subscriber: Subscriber, text: string): boolean {
    const nowMs = this.#options.clock.now();
    const { response } = subscriber;
    if (response.destroyed || response.writableEnded) return false;
    if (subscriber.fullSinceMs !== undefined) {
      if (nowMs - subscriber.fullSinceMs >= this.#options.stalledMs) response.destroy();
      return false;
    }
    // JSON never holds a raw newline, so one `data:` line carries a whole state.
    if (!response.write(text)) subscriber.fullSinceMs = nowMs;
    subscriber.lastWriteMs = nowMs;
    return true;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#isClosed || this.#subscribers.size === 0) return;
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.refresh().finally(() => this.#schedule());
    }, this.#options.refreshMs);
  }

  #stop(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
