import type { BreakerEvent, FaultEvent, Mesh, OutlierEvent, PoolOverflowEvent, RetryEvent } from '@weft/core';

/** Everything a mesh reported while the recorder was attached, in order. */
export interface MeshEvents {
  readonly retry: RetryEvent[];
  readonly outlier: OutlierEvent[];
  readonly overflow: PoolOverflowEvent[];
  readonly fault: FaultEvent[];
  readonly breaker: BreakerEvent[];
  /** The retry events of one type, e.g. `retries('retry-scheduled')`. */
  retries<T extends RetryEvent['type']>(type: T): Extract<RetryEvent, { type: T }>[];
  /** The fault events of one type, e.g. `faults('fault-injected')`. */
  faults<T extends FaultEvent['type']>(type: T): Extract<FaultEvent, { type: T }>[];
  /** Detaches the recorder; what it holds stays readable. Calling it again does nothing. */
  stop(): void;
}

export function recordEvents(mesh: Mesh): MeshEvents {
  const retry: RetryEvent[] = [];
  const outlier: OutlierEvent[] = [];
  const overflow: PoolOverflowEvent[] = [];
  const fault: FaultEvent[] = [];
  const breaker: BreakerEvent[] = [];
  const disposers = [
    mesh.events.retry.on((event) => retry.push(event)),
    mesh.events.outlier.on((event) => outlier.push(event)),
    mesh.events.overflow.on((event) => overflow.push(event)),
    mesh.events.fault.on((event) => fault.push(event)),
    mesh.events.breaker.on((event) => breaker.push(event)),
  ];
  return {
    retry,
    outlier,
    overflow,
    fault,
    breaker,
    retries: (type) =>
      retry.filter((event): event is Extract<RetryEvent, { type: typeof type }> => event.type === type),
    faults: (type) =>
      fault.filter((event): event is Extract<FaultEvent, { type: typeof type }> => event.type === type),
    stop() {
      for (const dispose of disposers.splice(0)) dispose();
    },
  };
}
