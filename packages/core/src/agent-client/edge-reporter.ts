import type { Clock, TimerHandle } from '../time/clock.ts';
import type { EdgeAggregator } from './edge-aggregator.ts';
import type { EdgeMeshEvents } from './edge-mesh-events.ts';
import type { EdgeReport } from './edge-protocol.ts';

/** With no traffic, one report in this many ticks (30 s at the default interval). */
const QUIET_TICKS_PER_REPORT = 6;

export interface EdgeReporterDeps {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly aggregator: EdgeAggregator;
  readonly meshEvents: EdgeMeshEvents;
  /** The reporting workload's labels and service, as the report's `source` says them. */
  readonly source: EdgeReport['source'];
  /** The workload's certificate, when it has one. */
  readonly certificate: () => EdgeReport['certificate'];
  /**
   * Posts a report on the client's current stream. Resolves `false` when there is no stream to
   * post on; rejects when the agent could not be reached or refused the report.
   */
  readonly send: (report: EdgeReport) => Promise<boolean>;
  readonly onError: (error: unknown) => void;
}

/**
 * Empties the edge aggregates into a report every `intervalMs` and posts it to the agent over the
 * client's connection, one at a time. A report that cannot go (no stream, or it failed) is not
 * kept: its counts are lost, and the next report counts it in `dropped.reports`, so the agent
 * shows a gap rather than a burst. A tick that finds the previous report still in flight leaves
 * the counts to accumulate for the next one. With nothing to report, a report still goes every
 * QUIET_TICKS_PER_REPORT ticks, and at the first tick a stream is open, so that the agent knows
 * the client is reporting.
 */
export class EdgeReporter {
  readonly #deps: EdgeReporterDeps;
  #timer: TimerHandle | undefined;
  #sending: Promise<void> | undefined;
  #lastTickMs: number;
  #droppedReports = 0;
  /** Starts one short of a report: the first tick reports even with nothing to say (below). */
  #quietTicks = QUIET_TICKS_PER_REPORT - 1;
  #isClosed = false;

  constructor(deps: EdgeReporterDeps) {
    this.#deps = deps;
    this.#lastTickMs = deps.clock.now();
    this.#schedule();
  }

  /** Reports built so far that could not be sent (reset once one gets through). */
  get droppedReports(): number {
    return this.#droppedReports;
  }

  /** Stops the timer and the mesh-event subscriptions; resolves once no report is in flight. */
  async close(): Promise<void> {
    this.#isClosed = true;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#deps.meshEvents.dispose();
    await this.#sending;
  }

  /** Builds and sends a report now (what the timer does); exposed for tests. */
  tick(): Promise<void> {
    if (this.#sending !== undefined) return this.#sending;
    const nowMs = this.#deps.clock.now();
    const report = this.#build(nowMs - this.#lastTickMs);
    // Nothing to say: a report goes anyway now and then, so the agent knows this client reports.
    // The next report's interval then covers the quiet ticks too (they counted nothing).
    if (isEmpty(report) && ++this.#quietTicks < QUIET_TICKS_PER_REPORT) return Promise.resolve();
    this.#quietTicks = 0;
    this.#lastTickMs = nowMs;
    this.#sending = this.#send(report).finally(() => {
      this.#sending = undefined;
    });
    return this.#sending;
  }

  #schedule(): void {
    if (this.#isClosed) return;
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.tick();
      this.#schedule();
    }, this.#deps.intervalMs);
  }

  #build(intervalMs: number): EdgeReport {
    const { aggregator, meshEvents, source, certificate } = this.#deps;
    const interval = aggregator.take();
    const held = certificate();
    return {
      source,
      intervalMs: Math.max(0, Math.round(intervalMs)),
      edges: interval.edges,
      ...(interval.inbound.length === 0 ? {} : { inbound: interval.inbound }),
      dropped: {
        edges: interval.droppedEdges,
        requests: interval.droppedRequests,
        reports: this.#droppedReports,
      },
      ejections: meshEvents.ejections(),
      faults: meshEvents.takeFaults(),
      ...(held === undefined ? {} : { certificate: held }),
    };
  }

  async #send(report: EdgeReport): Promise<void> {
    try {
      if (await this.#deps.send(report)) this.#droppedReports = 0;
      else if (isEmpty(report))
        this.#quietTicks = QUIET_TICKS_PER_REPORT - 1; // no stream yet: try next tick
      else this.#droppedReports++;
    } catch (error) {
      this.#droppedReports++;
      if (!this.#isClosed) this.#deps.onError(error);
    }
  }
}

function isEmpty(report: EdgeReport): boolean {
  const { dropped } = report;
  return (
    report.edges.length === 0 &&
    (report.inbound?.length ?? 0) === 0 &&
    report.faults.length === 0 &&
    report.ejections.length === 0 &&
    dropped.edges === 0 &&
    dropped.requests === 0 &&
    dropped.reports === 0
  );
}
