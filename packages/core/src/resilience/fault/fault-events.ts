/** A delay and/or abort was injected into a request on `route`. */
export interface FaultInjectedEvent {
  readonly type: 'fault-injected';
  readonly route: string;
  readonly delayMs?: number;
  readonly httpStatus?: number;
  readonly grpcStatus?: number;
  /** Clock time of the decision. */
  readonly atMs: number;
}

/** A fault was drawn but not injected because `maxActiveFaults` faults were already active. */
export interface FaultOverflowEvent {
  readonly type: 'fault-overflow';
  readonly route: string;
  readonly maxActiveFaults: number;
  readonly atMs: number;
}

export type FaultEvent = FaultInjectedEvent | FaultOverflowEvent;

/** What the injector needs of an EventChannel<FaultEvent>; it builds events only if someone listens. */
export interface FaultEventSink {
  readonly hasListeners: boolean;
  emit(event: FaultEvent): void;
}
