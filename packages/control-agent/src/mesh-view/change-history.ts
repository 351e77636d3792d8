import type { RegisteredWorkload, StoredResource } from '@weft/core';

/** What a key held before a change: a resource, a workload, or nothing. */
export type HeldValue = StoredResource | RegisteredWorkload | undefined;

interface ChangeEntry {
  readonly revision: number;
  readonly key: string;
  readonly previous: HeldValue;
}

/**
 * The recent changes of the agent's view, oldest first: for each, the revision, the key and what
 * the key held before. From it a watcher at revision R learns, for every key changed since, what
 * it held at R (the `previous` of the first later change), which is all a delta needs: the
 * current value comes from the view itself. Bounded: past `limit` entries the oldest revisions
 * are dropped and `floorRevision` rises; a watcher below the floor needs a snapshot.
 */
export class ChangeHistory {
  readonly #limit: number;
  #entries: ChangeEntry[] = [];
  #head = 0;
  #floorRevision: number;

  constructor(limit: number, floorRevision: number) {
    this.#limit = Math.max(1, limit);
    this.#floorRevision = floorRevision;
  }

  /** The oldest revision a watcher can be at and still get a delta. */
  get floorRevision(): number {
    return this.#floorRevision;
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Forgets everything: watchers at any revision below `floorRevision` need a snapshot. */
  reset(floorRevision: number): void {
    this.#entries = [];
    this.#head = 0;
    this.#floorRevision = floorRevision;
  }

  record(revision: number, key: string, previous: HeldValue): void {
    this.#entries.push({ revision, key, previous });
    while (this.size > this.#limit) this.#dropOldestRevision();
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Every key changed after `revision`, in order of first change, mapped to what it held at
   * `revision`; `undefined` when the history no longer reaches back that far.
   */
  changesSince(revision: number): Map<string, HeldValue> | undefined {
    if (revision < this.#floorRevision) return undefined;
    const changes = new Map<string, HeldValue>();
    for (let index = this.#firstAfter(revision); index < this.#entries.length; index++) {
      const entry = this.#entries[index] as ChangeEntry;
      if (!changes.has(entry.key)) changes.set(entry.key, entry.previous);
    }
    return changes;
  }

  #dropOldestRevision(): void {
    const oldest = this.#entries[this.#head];
    if (oldest === undefined) return;
    while (this.#head < this.#entries.length && this.#entries[this.#head]?.revision === oldest.revision) {
      this.#head += 1;
    }
    this.#floorRevision = Math.max(this.#floorRevision, oldest.revision);
  }

  /** Index of the first entry with a revision above `revision` (binary search; revisions never fall). */
  #firstAfter(revision: number): number {
    let low = this.#head;
    let high = this.#entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.#entries[middle] as ChangeEntry).revision <= revision) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
