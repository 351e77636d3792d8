import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { WatchFrame } from './protocol.ts';
import type { ConfigRecord } from './received-config.ts';
import { parseWatchFrame } from './watch-frame.ts';

/**
 * The last-known-good file: the last config the client applied, written so that a process that
 * starts while no agent answers can serve it (bad-inputs B1). Its content is one snapshot frame
 * of the watch protocol (JSON), so it is read back with the same checks as the stream and can be
 * inspected or hand-made with the protocol's documentation.
 *
 * Writes are atomic (a temporary file, flushed, then renamed over the old one): a crash mid-write
 * leaves the previous file whole. Writes are coalesced: while one is in flight only the newest
 * pending record is kept, so a burst of deltas costs at most two writes.
 */

/** Reads the file; undefined when it does not exist, a WeftError when it is unreadable. */
export async function readLastGoodFile(path: string, maxBytes: number): Promise<ConfigRecord | undefined> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > maxBytes) throw new Error(`${size} bytes exceeds the ${maxBytes}-byte limit`);
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(path, cause);
  }
  let frame: WatchFrame;
  try {
    frame = parseWatchFrame(text);
  } catch (cause) {
    throw unreadable(path, cause);
  }
  if (frame.type !== 'snapshot') throw unreadable(path, new Error(`it holds a ${frame.type} frame`));
  return { mark: frame.mark, resources: frame.resources, workloads: frame.workloads };
}

export class LastGoodWriter {
  readonly #path: string;
  readonly #onError: (error: WeftError) => void;
  #pending: ConfigRecord | undefined;
  #writing: Promise<void> | undefined;
  #sequence = 0;

  constructor(path: string, onError: (error: WeftError) => void) {
    this.#path = path;
    this.#onError = onError;
  }

  /** Schedules `record` to be written; never throws (failures go to `onError`). */
  save(record: ConfigRecord): void {
    this.#pending = record;
    this.#writing ??= this.#drain();
  }

  /** Resolves when nothing is pending or being written. */
  async flushed(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  async #drain(): Promise<void> {
    try {
      for (let record = this.#pending; record !== undefined; record = this.#pending) {
        this.#pending = undefined;
        await this.#write(record);
      }
    } finally {
      this.#writing = undefined;
    }
  }

  async #write(record: ConfigRecord): Promise<void> {
    const frame: WatchFrame = { type: 'snapshot', ...record };
    this.#sequence += 1;
    const temporary = `${this.#path}.${process.pid}.${this.#sequence}.tmp`;
    try {
      await mkdir(dirname(this.#path), { recursive: true });
      await writeFile(temporary, `${JSON.stringify(frame)}\n`, { encoding: 'utf8', flush: true });
      await rename(temporary, this.#path);
    } catch (cause) {
      await rm(temporary, { force: true }).catch(() => {});
      this.#onError(
        new WeftError(
          ErrorCodes.controlPlaneUnavailable,
          `could not write the last-good file ${this.#path}`,
          { cause },
        ),
      );
    }
  }
}

function unreadable(path: string, cause: unknown): WeftError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new WeftError(
    ErrorCodes.controlPlaneUnavailable,
    `the last-good file ${path} is unusable: ${reason}`,
    {
      cause,
    },
  );
}
