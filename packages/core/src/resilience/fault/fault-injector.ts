import type { Random } from '../../randomness/random.ts';
import type { Clock } from '../../time/clock.ts';
import { ActiveFaultLimiter } from './active-fault-limiter.ts';
import { decideFault, type FaultDecision, type HttpFaultSpec, NO_FAULT } from './fault-decision.ts';
import type { FaultEventSink } from './fault-events.ts';

export interface FaultInjectorOptions {
  readonly clock: Clock;
  readonly random: Random;
  readonly events?: FaultEventSink;
  /** Envoy's max_active_faults; unlimited when absent. */
  readonly maxActiveFaults?: number;
}

/**
 * Fault injection for one workload: decideFault, plus the active-fault cap and events. Call
 * `decide` once per logical request, when its route is first matched — never again for its
 * retries (see docs/retries-and-faults.md) — and `release` once when the injected delay and/or
 * abort is over (the request failed, was answered, or moved on to its upstream).
 */
export class FaultInjector {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #events: FaultEventSink | undefined;
  readonly #limiter: ActiveFaultLimiter;

  constructor(options: FaultInjectorOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#events = options.events;
    this.#limiter = new ActiveFaultLimiter(options.maxActiveFaults);
  }

  /** Requests being delayed or aborted right now. */
  get activeFaults(): number {
    return this.#limiter.active;
  }

  decide(fault: HttpFaultSpec | undefined, route: string): FaultDecision {
    const decision = decideFault(fault, this.#random);
    if (decision === NO_FAULT) return NO_FAULT;
    const events = this.#events;
    if (!this.#limiter.tryAcquire()) {
      if (events?.hasListeners) {
        events.emit({
          type: 'fault-overflow',
          route,
          maxActiveFaults: this.#limiter.maxActiveFaults,
          atMs: this.#clock.now(),
        });
      }
      return NO_FAULT;
    }
    if (events?.hasListeners) {
      events.emit({
        type: 'fault-injected',
        route,
        ...(decision.delayMs === undefined ? {} : { delayMs: decision.delayMs }),
        ...(decision.abort?.httpStatus === undefined ? {} : { httpStatus: decision.abort.httpStatus }),
        ...(decision.abort?.grpcStatus === undefined ? {} : { grpcStatus: decision.abort.grpcStatus }),
        atMs: this.#clock.now(),
      });
    }
    return decision;
  }

  /** Ends a fault returned by `decide`; NO_FAULT is ignored, so it is always safe to call. */
  release(decision: FaultDecision): void {
    if (decision !== NO_FAULT) this.#limiter.release();
  }
}
