import type { Disposer } from '../events/event-channel.ts';

/** One condition's answer: whether it holds, and a line saying why (or why not). */
export interface ReadinessState {
  readonly isReady: boolean;
  readonly detail: string;
}

export type ReadinessCheck = () => ReadinessState;

export interface ReadinessReport {
  readonly isReady: boolean;
  readonly conditions: readonly ({ readonly name: string } & ReadinessState)[];
}

/**
 * What must hold before the workload takes traffic (the admin endpoint's /ready): the mesh adds
 * `config` (a configuration was received); identity adds its certificate the same way. Ready
 * means every condition holds; a check that throws counts as not ready, with its message.
 */
export class ReadinessConditions {
  readonly #checks = new Map<string, ReadinessCheck>();

  /** Adds (or replaces) a named condition; the disposer removes it. */
  add(name: string, check: ReadinessCheck): Disposer {
    this.#checks.set(name, check);
    return () => {
      if (this.#checks.get(name) === check) this.#checks.delete(name);
    };
  }

  evaluate(): ReadinessReport {
    const conditions = [...this.#checks].map(([name, check]) => ({ name, ...safely(check) }));
    return { isReady: conditions.every((condition) => condition.isReady), conditions };
  }
}

function safely(check: ReadinessCheck): ReadinessState {
  try {
    const { isReady, detail } = check();
    return { isReady, detail };
  } catch (error) {
    return {
      isReady: false,
      detail: `check failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
