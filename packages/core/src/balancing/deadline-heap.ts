/**
 * The priority queue of an earliest-deadline-first scheduler (Envoy's weighted round robin and
 * weighted least request): entries 0..n-1 each hold a deadline; `top` is the entry with the
 * earliest one, ties going to the lower entry number so the schedule is deterministic. Typed
 * arrays, no allocation after construction; `reschedule` is one O(log n) sift.
 */
export class DeadlineHeap {
  readonly #deadlines: Float64Array;
  /** Heap-ordered entry numbers. */
  readonly #heap: Int32Array;

  constructor(initialDeadlines: ArrayLike<number>) {
    const size = initialDeadlines.length;
    this.#deadlines = Float64Array.from(initialDeadlines);
    this.#heap = new Int32Array(size);
    for (let index = 0; index < size; index++) this.#heap[index] = index;
    for (let index = (size >>> 1) - 1; index >= 0; index--) this.#siftDown(index);
  }

  /** The entry due first. */
  get top(): number {
    return this.#heap[0] as number;
  }

  /** The deadline of `entry`. */
  deadline(entry: number): number {
    return this.#deadlines[entry] as number;
  }

  /** Gives the top entry a new (later) deadline and restores heap order. */
  rescheduleTop(deadline: number): void {
    this.#deadlines[this.#heap[0] as number] = deadline;
    this.#siftDown(0);
  }

  #isBefore(left: number, right: number): boolean {
    const leftDeadline = this.#deadlines[left] as number;
    const rightDeadline = this.#deadlines[right] as number;
    return leftDeadline < rightDeadline || (leftDeadline === rightDeadline && left < right);
  }

  #siftDown(start: number): void {
    const heap = this.#heap;
    const size = heap.length;
    let position = start;
    const entry = heap[position] as number;
    for (;;) {
      let child = 2 * position + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && this.#isBefore(heap[right] as number, heap[child] as number)) child = right;
      if (!this.#isBefore(heap[child] as number, entry)) break;
      heap[position] = heap[child] as number;
      position = child;
    }
    heap[position] = entry;
  }
}
