import type CircuitBreaker from 'opossum';

/**
 * Permission to make one call through a breaker. Report how it ended exactly once (later reports
 * are ignored): `success()`, `failure()`, or `ignore()` when the caller cancelled it (a cancelled
 * call says nothing about the upstream).
 */
export interface BreakerPermit {
  readonly kind: 'permit';
  success(): void;
  failure(): void;
  ignore(): void;
  /** Settles (never rejects) once the breaker has taken the report into account. */
  readonly settled: Promise<void>;
}

export type OpossumCircuit = CircuitBreaker<[Promise<void>], void>;

/** The error a failed call reports to opossum; never seen outside the breaker. */
export const CALL_FAILED = new Error('weft call breaker: call failed');
/** A cancelled call; opossum's errorFilter counts it as a success, as it has no neutral outcome. */
export const CALL_IGNORED = new Error('weft call breaker: call cancelled');

const noop = (): void => {};
const SETTLED = Promise.resolve();

/**
 * A call while the breaker is closed: it goes through opossum's `fire()`, whose action is the
 * call's own outcome, so opossum's rolling window and threshold decide when to open.
 */
export class ClosedStatePermit implements BreakerPermit {
  readonly kind = 'permit';
  readonly settled: Promise<void>;
  #resolve: () => void = noop;
  #reject: (error: Error) => void = noop;

  constructor(circuit: OpossumCircuit) {
    const outcome = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.settled = circuit.fire(outcome).then(noop, noop);
  }

  success(): void {
    const resolve = this.#resolve;
    this.#forget();
    resolve();
  }

  failure(): void {
    const reject = this.#reject;
    this.#forget();
    reject(CALL_FAILED);
  }

  ignore(): void {
    const reject = this.#reject;
    this.#forget();
    reject(CALL_IGNORED);
  }

  /** After the first report the others do nothing. */
  #forget(): void {
    this.#resolve = noop;
    this.#reject = noop;
  }
}

export type TrialOutcome = 'success' | 'failure' | 'ignored';

/** The single trial call of a half-open breaker; its outcome closes or re-opens the breaker. */
export class TrialPermit implements BreakerPermit {
  readonly kind = 'permit';
  readonly settled = SETTLED;
  #onOutcome: ((outcome: TrialOutcome) => void) | undefined;

  constructor(onOutcome: (outcome: TrialOutcome) => void) {
    this.#onOutcome = onOutcome;
  }

  success(): void {
    this.#report('success');
  }

  failure(): void {
    this.#report('failure');
  }

  ignore(): void {
    this.#report('ignored');
  }

  #report(outcome: TrialOutcome): void {
    const onOutcome = this.#onOutcome;
    this.#onOutcome = undefined;
    onOutcome?.(outcome);
  }
}

/** What a disposed breaker hands out: it no longer protects, and never fails a call itself. */
export const PASS_THROUGH_PERMIT: BreakerPermit = Object.freeze({
  kind: 'permit',
  success: noop,
  failure: noop,
  ignore: noop,
  settled: SETTLED,
});
