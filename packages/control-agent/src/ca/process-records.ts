import { frozenJsonCopy } from '../store/json-value.ts';
import { checkRecordName } from '../store/record-name.ts';
import type { RecordPutResult, RecordStore, StoredRecord } from '../store/record-store.ts';

/**
 * Records held by this process only: for an agent on a store that keeps no records (a test
 * double wrapping a real store). Its CA then lives and dies with the process.
 */
export class ProcessRecords implements RecordStore {
  readonly #records = new Map<string, StoredRecord>();
  #nextVersion = 1;

  async getRecord(name: string): Promise<StoredRecord | undefined> {
    return this.#records.get(checkRecordName(name));
  }

  async putRecord(name: string, value: unknown, expectedVersion: string | null): Promise<RecordPutResult> {
    const current = this.#records.get(checkRecordName(name));
    if ((current?.version ?? null) !== expectedVersion) return { ok: false, current };
    const record: StoredRecord = frozenJsonCopy({ name, version: String(this.#nextVersion++), value });
    this.#records.set(name, record);
    return { ok: true, record };
  }
}
