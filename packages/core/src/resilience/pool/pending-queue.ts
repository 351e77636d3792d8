import type { PoolAborted, PoolLease } from './pool-admission.ts';

interface Waiter {
  readonly resolve: (admission: PoolLease | PoolAborted) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  previous: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * Requests waiting for a free connection, first in first out. A doubly linked list, so a waiter
 * whose signal aborts leaves in O(1) and the count of waiters is always exact.
 */
export class PendingQueue {
  #head: Waiter | undefined;
  #tail: Waiter | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  enqueue(signal: AbortSignal | undefined): Promise<PoolLease | PoolAborted> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, signal, onAbort: undefined, previous: this.#tail, next: undefined };
      if (this.#tail === undefined) this.#head = waiter;
      else this.#tail.next = waiter;
      this.#tail = waiter;
      this.#size++;
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#unlink(waiter);
          resolve({ kind: 'aborted', reason: signal.reason });
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
    });
  }

  /** Hands `lease` to the oldest waiter; false when nobody waits. */
  admitNext(lease: PoolLease): boolean {
    const waiter = this.#head;
    if (waiter === undefined) return false;
    this.#unlink(waiter);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(lease);
    return true;
  }

  #unlink(waiter: Waiter): void {
    if (waiter.previous === undefined) this.#head = waiter.next;
    else waiter.previous.next = waiter.next;
    if (waiter.next === undefined) this.#tail = waiter.previous;
    else waiter.next.previous = waiter.previous;
    waiter.previous = undefined;
    waiter.next = undefined;
    this.#size--;
  }
}
