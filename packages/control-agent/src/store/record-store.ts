/**
 * Agent-private records: the CA's keys and state, the join-token signing key, revocations. Never
 * listed, watched or sent to clients. Both real stores keep them (MemoryStore in its data
 * directory, EtcdStore under `<prefix>/records/`), so every agent on one etcd shares one CA.
 * A separate capability rather than part of `Store`, so that a store without it (a test double)
 * still serves the mesh; the agent then keeps its CA in the process only.
 */
export interface RecordStore {
  /** The record, or undefined when absent. */
  getRecord(name: string): Promise<StoredRecord | undefined>;
  /**
   * Writes a record if it is still at `expectedVersion` (`null`: only if it does not exist yet).
   * This compare-and-set is how agents sharing one store agree, e.g. on one CA root when several
   * start at once: the first write wins and the others read it back (bad-inputs H4: fencing by
   * version, never locks). Record writes make no resource revision and no watch event. Rejects
   * with ConfigValidationError for a malformed name, StoreUnavailableError when unreachable.
   */
  putRecord(name: string, value: unknown, expectedVersion: string | null): Promise<RecordPutResult>;
}

/** A record as stored: its JSON value (deep-frozen) and the version a conditional write names. */
export interface StoredRecord {
  readonly name: string;
  readonly version: string;
  readonly value: unknown;
}

export type RecordPutResult =
  | { readonly ok: true; readonly record: StoredRecord }
  /** Someone else wrote first: `current` is what is there now. */
  | { readonly ok: false; readonly current: StoredRecord | undefined };

export function isRecordStore(store: object): store is RecordStore {
  const candidate = store as Partial<RecordStore>;
  return typeof candidate.getRecord === 'function' && typeof candidate.putRecord === 'function';
}
