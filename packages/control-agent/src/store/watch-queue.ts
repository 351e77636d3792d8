/**
 * The buffer between a store's change feed and one watcher's `for await`: producers push
 * synchronously, the consumer pulls at its own pace. Bounded: when the consumer falls more than
 * `limit` items behind, `push` refuses and the store replaces the backlog with a `resync`
 * (a slow watcher must not hold the store's memory hostage).
 */
export class WatchQueue<T> {
  readonly #limit: number;
  #items: T[] = [];
  #head = 0;
  #isFinished = false;
  #failure: { readonly error: unknown } | undefined;
  #wake: (() => void) | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get isFinished(): boolean {
    return this.#isFinished;
  }

  /** Adds an item; false (and nothing added) when the backlog is full or the queue finished. */
  push(item: T): boolean {
    if (this.#isFinished) return false;
    if (this.#items.length - this.#head >= this.#limit) return false;
    this.#items.push(item);
    this.#signal();
    return true;
  }

  /** Drops the backlog, delivers `last`, then ends the iteration. */
  finishWith(last: T): void {
    if (this.#isFinished) return;
    this.#items = [last];
    this.#head = 0;
    this.finish();
  }

  /** Ends the iteration once the backlog has been delivered. */
  finish(): void {
    this.#isFinished = true;
    this.#signal();
  }

  /** Ends the iteration with an error, after the backlog. */
  fail(error: unknown): void {
    if (this.#isFinished) return;
    this.#failure = { error };
    this.finish();
  }

  /** Yields items until the queue finishes or `signal` aborts (then it simply ends). */
  async *drain(signal: AbortSignal): AsyncGenerator<T, void, undefined> {
    const onAbort = (): void => this.#signal();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal.aborted) return;
        if (this.#head < this.#items.length) {
          const item = this.#items[this.#head] as T;
          this.#head += 1;
          if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
            this.#items = this.#items.slice(this.#head);
            this.#head = 0;
          }
          yield item;
          continue;
        }
        if (this.#isFinished) {
          if (this.#failure !== undefined) throw this.#failure.error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#isFinished = true;
      this.#items = [];
      this.#head = 0;
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
