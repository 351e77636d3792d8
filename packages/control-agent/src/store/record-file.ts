import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { frozenJsonCopy } from './json-value.ts';
import type { StoredRecord } from './record-store.ts';
import { StoreCorruptError, StoreUnavailableError } from './store-errors.ts';

const RECORDS_FILE = 'records.json';
const RECORDS_TEMP_FILE = 'records.json.tmp';
const RECORDS_FORMAT = 'weft-records/1';

/** What the embedded store keeps of its records: every record, and the next version to give. */
export interface RecordState {
  readonly nextVersion: number;
  readonly records: readonly StoredRecord[];
}

/**
 * The embedded store's records in its data directory, beside the snapshot and the change log:
 * `records.json`, rewritten whole (temporary file, fsync, rename, directory fsync) on every record
 * write. Records are few, small and rarely written (a CA created or rotated, a token revoked), so
 * a rewrite is cheaper than folding them into the resources' change log, whose revisions every
 * watcher sees.
 */
export async function readRecordFile(directory: string): Promise<RecordState> {
  const file = join(directory, RECORDS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { nextVersion: 1, records: [] };
    throw new StoreUnavailableError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: { format?: unknown; nextVersion?: unknown; records?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new StoreCorruptError(`${file} is not valid JSON`, { cause: error });
  }
  const records = parsed.records;
  if (
    parsed.format !== RECORDS_FORMAT ||
    !Number.isSafeInteger(parsed.nextVersion) ||
    !Array.isArray(records) ||
    !records.every(isRecord)
  ) {
    throw new StoreCorruptError(`${file} is not a ${RECORDS_FORMAT} file`);
  }
  return {
    nextVersion: parsed.nextVersion as number,
    records: records.map((record) => frozenJsonCopy(record)),
  };
}

export async function writeRecordFile(directory: string, state: RecordState): Promise<void> {
  const temp = join(directory, RECORDS_TEMP_FILE);
  try {
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify({ format: RECORDS_FORMAT, ...state }));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, join(directory, RECORDS_FILE));
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new StoreUnavailableError(
      `cannot write ${join(directory, RECORDS_FILE)}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function isRecord(value: unknown): value is StoredRecord {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Partial<StoredRecord>;
  return typeof record.name === 'string' && typeof record.version === 'string' && 'value' in record;
}
