import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { RegisteredWorkload, ResourceRef, StoredResource } from '@weft/core';
import { StoreCorruptError, StoreUnavailableError } from './store-errors.ts';

/** A registration as persisted: the workload and the lease it holds. */
export interface WorkloadRecord {
  readonly workload: RegisteredWorkload;
  readonly leaseId: string;
  readonly ttlMs: number;
}

/** One change inside a revision; a revision (one committed write) holds one or more. */
export type ChangeOp =
  | { readonly op: 'put'; readonly resource: StoredResource }
  | { readonly op: 'delete'; readonly ref: ResourceRef }
  | { readonly op: 'workload-put'; readonly record: WorkloadRecord }
  | { readonly op: 'workload-delete'; readonly namespace: string; readonly name: string };

export interface ChangeRecord {
  readonly revision: number;
  readonly ops: readonly ChangeOp[];
}

/** Everything the store holds, as written to the snapshot file. */
export interface StoreState {
  readonly epoch: string;
  readonly revision: number;
  readonly resources: readonly StoredResource[];
  readonly workloads: readonly WorkloadRecord[];
}

const SNAPSHOT_FILE = 'snapshot.json';
const SNAPSHOT_TEMP_FILE = 'snapshot.json.tmp';
const LOG_FILE = 'changes.log';
const LOCK_FILE = 'LOCK';
const SNAPSHOT_FORMAT = 'weft-store-snapshot/1';

/**
 * The embedded store's data directory: `snapshot.json` (the whole state at one revision) plus
 * `changes.log` (every revision committed since, one line each: `<crc32 hex> <json>\n`).
 * A write is acknowledged only after its line is fdatasync'd. Compaction writes a new snapshot
 * to a temporary file, fsyncs it, renames it over the old one, fsyncs the directory, and only
 * then empties the log, so a crash at any point leaves a snapshot plus a log whose lines at or
 * below the snapshot's revision are skipped on replay. A torn last line (a crash mid-append, never
 * acknowledged) is cut off on open; a damaged line before the last is refused, never skipped.
 */
export class DataDirectory {
  readonly path: string;
  readonly #log: FileHandle;
  #logBytes: number;
  #changesSinceSnapshot: number;
  #broken: unknown;

  private constructor(path: string, log: FileHandle, logBytes: number, changesSinceSnapshot: number) {
    this.path = path;
    this.#log = log;
    this.#logBytes = logBytes;
    this.#changesSinceSnapshot = changesSinceSnapshot;
  }

  /**
   * Opens (or creates) a data directory. A missing or empty directory starts a new store with
   * a fresh epoch from `newEpoch`; an existing one is read back whole.
   */
  static async open(
    path: string,
    newEpoch: () => string,
  ): Promise<{
    readonly directory: DataDirectory;
    readonly state: StoreState;
    readonly changes: ChangeRecord[];
  }> {
    let isLocked = false;
    try {
      await mkdir(path, { recursive: true });
      await takeLock(path);
      isLocked = true;
      await rm(join(path, SNAPSHOT_TEMP_FILE), { force: true });
      let snapshot = await readSnapshot(path);
      const logPath = join(path, LOG_FILE);
      const logText = await readOptional(logPath);
      if (snapshot === undefined) {
        if (logText !== undefined && logText.length > 0) {
          throw new StoreCorruptError(
            `${logPath} exists but ${join(path, SNAPSHOT_FILE)} does not: refusing to start from a partial data directory`,
          );
        }
        snapshot = { epoch: newEpoch(), revision: 0, resources: [], workloads: [] };
        await writeSnapshot(path, snapshot);
      }
      const { changes, validBytes } = parseLog(logPath, logText ?? Buffer.alloc(0), snapshot.revision);
      const log = await open(logPath, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
      if (logText !== undefined && validBytes < logText.length) {
        await log.truncate(validBytes);
        await log.datasync();
      }
      const directory = new DataDirectory(path, log, validBytes, changes.length);
      return { directory, state: snapshot, changes };
    } catch (error) {
      if (isLocked) await rm(join(path, LOCK_FILE), { force: true });
      if (error instanceof StoreCorruptError || error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`cannot open the store's data directory ${path}: ${message(error)}`, {
        cause: error,
      });
    }
  }

  /** Revisions appended since the last snapshot: the store compacts when this grows. */
  get changesSinceSnapshot(): number {
    return this.#changesSinceSnapshot;
  }

  /** Appends one revision durably; rejects (with the log unchanged) when it cannot. */
  async append(record: ChangeRecord): Promise<void> {
    this.#assertUsable();
    const line = encodeLine(record);
    try {
      await this.#log.write(line);
      await this.#log.datasync();
    } catch (error) {
      try {
        await this.#log.truncate(this.#logBytes);
      } catch (truncateError) {
        // The log may now end in a partial line that a later append would bury mid-file:
        // refuse every further write until the store is reopened (which cuts the torn tail).
        this.#broken = truncateError;
      }
      throw new StoreUnavailableError(`cannot write ${join(this.path, LOG_FILE)}: ${message(error)}`, {
        cause: error,
      });
    }
    this.#logBytes += line.length;
    this.#changesSinceSnapshot += 1;
  }

  /** Writes `state` as the new snapshot and empties the log. */
  async compact(state: StoreState): Promise<void> {
    this.#assertUsable();
    try {
      await writeSnapshot(this.path, state);
      await this.#log.truncate(0);
      await this.#log.datasync();
    } catch (error) {
      throw new StoreUnavailableError(`cannot compact the data directory ${this.path}: ${message(error)}`, {
        cause: error,
      });
    }
    this.#logBytes = 0;
    this.#changesSinceSnapshot = 0;
  }

  async close(): Promise<void> {
    await this.#log.close();
    await rm(join(this.path, LOCK_FILE), { force: true });
  }

  #assertUsable(): void {
    if (this.#broken !== undefined) {
      throw new StoreUnavailableError(
        `the data directory ${this.path} could not be repaired after a failed write; reopen the store`,
        { cause: this.#broken },
      );
    }
  }
}

/**
 * One agent per directory: `LOCK` holds the owner's pid. A lock left by a process that is gone
 * (a crash) is taken over; one held by a live process other than this one is refused. (Two
 * stores opened on one directory inside one process are not detected.)
 */
async function takeLock(path: string): Promise<void> {
  const file = join(path, LOCK_FILE);
  const owner = Number.parseInt((await readOptional(file))?.toString('ascii') ?? '', 10);
  if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
    throw new StoreUnavailableError(
      `the data directory ${path} is in use by process ${owner}; if no agent runs there, delete ${file}`,
    );
  }
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.writeFile(String(process.pid));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function encodeLine(record: ChangeRecord): Buffer {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  const checksum = crc32(json).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${checksum} `, 'ascii'), json, Buffer.from('\n', 'ascii')]);
}

function parseLog(
  logPath: string,
  text: Buffer,
  snapshotRevision: number,
): { changes: ChangeRecord[]; validBytes: number } {
  const changes: ChangeRecord[] = [];
  let offset = 0;
  let lineNumber = 0;
  let lastRevision = snapshotRevision;
  while (offset < text.length) {
    lineNumber += 1;
    const end = text.indexOf(0x0a, offset);
    const isLast = end === -1 || end === text.length - 1;
    const record = end === -1 ? undefined : decodeLine(text.subarray(offset, end));
    if (record === undefined) {
      if (isLast) break; // torn tail of a crashed append: never acknowledged, cut off
      throw new StoreCorruptError(`${logPath} line ${lineNumber} is damaged (checksum or JSON)`);
    }
    if (record.revision > snapshotRevision) {
      if (record.revision !== lastRevision + 1) {
        throw new StoreCorruptError(
          `${logPath} line ${lineNumber} has revision ${record.revision}, expected ${lastRevision + 1}`,
        );
      }
      changes.push(record);
      lastRevision = record.revision;
    }
    offset = end + 1;
  }
  return { changes, validBytes: offset };
}

function decodeLine(line: Buffer): ChangeRecord | undefined {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const json = line.subarray(9);
  if (line.subarray(0, 8).toString('ascii') !== crc32(json).toString(16).padStart(8, '0')) return undefined;
  try {
    const record = JSON.parse(json.toString('utf8')) as ChangeRecord;
    return Number.isSafeInteger(record.revision) && Array.isArray(record.ops) ? record : undefined;
  } catch {
    return undefined;
  }
}

async function readSnapshot(path: string): Promise<StoreState | undefined> {
  const file = join(path, SNAPSHOT_FILE);
  const text = await readOptional(file);
  if (text === undefined) return undefined;
  let parsed: { format?: unknown } & Partial<StoreState>;
  try {
    parsed = JSON.parse(text.toString('utf8')) as typeof parsed;
  } catch (error) {
    throw new StoreCorruptError(`${file} is not valid JSON`, { cause: error });
  }
  if (
    parsed.format !== SNAPSHOT_FORMAT ||
    typeof parsed.epoch !== 'string' ||
    !Number.isSafeInteger(parsed.revision) ||
    !Array.isArray(parsed.resources) ||
    !Array.isArray(parsed.workloads)
  ) {
    throw new StoreCorruptError(`${file} is not a ${SNAPSHOT_FORMAT} snapshot`);
  }
  return parsed as StoreState;
}

async function writeSnapshot(path: string, state: StoreState): Promise<void> {
  const temp = join(path, SNAPSHOT_TEMP_FILE);
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(JSON.stringify({ format: SNAPSHOT_FORMAT, ...state }));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, join(path, SNAPSHOT_FILE));
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
