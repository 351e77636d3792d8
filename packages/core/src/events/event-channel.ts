/** Stops a listener; calling it twice is harmless. */
export type Disposer = () => void;

/**
 * One typed stream of events. Listeners run synchronously in registration order; a listener
 * that throws is reported to `onListenerError` and never breaks the request path or the others.
 */
export class EventChannel<Event> {
  #listeners: ((event: Event) => void)[] = [];
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  on(listener: (event: Event) => void): Disposer {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((candidate) => candidate !== listener);
    };
  }

  /** Whether anyone listens: emitters skip building events nobody reads. */
  get hasListeners(): boolean {
    return this.#listeners.length > 0;
  }

  emit(event: Event): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}
