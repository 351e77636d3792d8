import type { Disposer } from '../events/event-channel.ts';
import type { Mesh } from '../mesh/create-mesh.ts';
import type { FaultEvent } from '../resilience/fault/fault-events.ts';
import type { OutlierEvent } from '../resilience/outlier/outlier-events.ts';
import {
  type EjectionState,
  type FaultCount,
  MAX_EJECTIONS_PER_REPORT,
  MAX_FAULT_ROUTES_PER_REPORT,
} from './edge-protocol.ts';

interface Ejection {
  readonly cluster: string;
  readonly endpoint: string;
  readonly reason: string;
  readonly sinceMs: number;
  /** When the ejection may end; a `returned` event normally comes at the next sweep after. */
  readonly untilMs: number;
  readonly times: number;
}

/** How long past its possible end an ejection without a `returned` event is still shown. */
const STALE_EJECTION_GRACE_MS = 60_000;

interface RouteFaults {
  delays: number;
  aborts: number;
  overflows: number;
}

/**
 * What an edge report says besides the edges, from the mesh's events: the endpoints outlier
 * detection holds ejected now, and the faults each route injected since the last report. Both are
 * bounded (the report's caps); events come from the mesh's channels, never from the request path
 * of requests that had no ejection or fault.
 */
export class EdgeMeshEvents {
  readonly #clock: { now(): number };
  readonly #ejections = new Map<string, Ejection>();
  readonly #faults = new Map<string, RouteFaults>();
  readonly #disposers: Disposer[];

  constructor(mesh: Pick<Mesh, 'events' | 'clock'>) {
    this.#clock = mesh.clock;
    this.#disposers = [
      mesh.events.outlier.on((event) => this.#onOutlier(event)),
      mesh.events.fault.on((event) => this.#onFault(event)),
    ];
  }

  /**
   * Endpoints ejected now, oldest first. An ejection whose cluster went away with a new snapshot
   * never gets its `returned` event: it is dropped a while after it could have ended.
   */
  ejections(): EjectionState[] {
    const nowMs = this.#clock.now();
    for (const [key, ejection] of this.#ejections)
      if (nowMs > ejection.untilMs + STALE_EJECTION_GRACE_MS) this.#ejections.delete(key);
    return [...this.#ejections.values()].map((ejection) => ({
      cluster: ejection.cluster,
      endpoint: ejection.endpoint,
      reason: ejection.reason,
      ejectedForMs: Math.max(0, Math.round(nowMs - ejection.sinceMs)),
      times: ejection.times,
    }));
  }

  /** Faults per route since the last call, and starts counting afresh. */
  takeFaults(): FaultCount[] {
    const counts = [...this.#faults].map(([route, faults]) => ({ route, ...faults }));
    this.#faults.clear();
    return counts;
  }

  dispose(): void {
    for (const dispose of this.#disposers.splice(0)) dispose();
  }

  #onOutlier(event: OutlierEvent): void {
    const key = `${event.cluster} ${event.endpoint}`;
    if (event.type === 'returned') {
      this.#ejections.delete(key);
      return;
    }
    if (event.type !== 'ejected') return;
    if (!this.#ejections.has(key) && this.#ejections.size >= MAX_EJECTIONS_PER_REPORT) return;
    this.#ejections.set(key, {
      cluster: event.cluster,
      endpoint: event.endpoint,
      reason: event.reason,
      sinceMs: event.atMs,
      untilMs: event.atMs + event.durationMs,
      times: event.times,
    });
  }

  #onFault(event: FaultEvent): void {
    let faults = this.#faults.get(event.route);
    if (faults === undefined) {
      if (this.#faults.size >= MAX_FAULT_ROUTES_PER_REPORT) return;
      faults = { delays: 0, aborts: 0, overflows: 0 };
      this.#faults.set(event.route, faults);
    }
    if (event.type === 'fault-overflow') {
      faults.overflows++;
      return;
    }
    if (event.delayMs !== undefined) faults.delays++;
    if (event.httpStatus !== undefined || event.grpcStatus !== undefined) faults.aborts++;
  }
}
