import { ErrorCodes, WeftError } from '../errors/weft-error.ts';

/**
 * Splits a byte stream into newline-delimited lines, decoding each whole line as UTF-8 (so a
 * multi-byte character cut by a chunk boundary is never mangled). A line longer than
 * `maxLineBytes` is refused before it is buffered whole (bad-inputs A2: the client caps the
 * size of a message on the watch stream).
 */
export class NdjsonLines {
  readonly #maxLineBytes: number;
  #parts: Buffer[] = [];
  #size = 0;

  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
  }

  /** The complete, non-blank lines this chunk finishes, in order. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      const piece = chunk.subarray(start, newline === -1 ? chunk.length : newline);
      this.#size += piece.length;
      if (this.#size > this.#maxLineBytes) {
        throw new WeftError(
          ErrorCodes.configLimit,
          `a watch frame exceeds ${this.#maxLineBytes} bytes; the stream is dropped`,
        );
      }
      if (piece.length > 0) this.#parts.push(piece);
      if (newline === -1) return lines;
      const line = Buffer.concat(this.#parts, this.#size).toString('utf8');
      this.#parts = [];
      this.#size = 0;
      if (line.trim() !== '') lines.push(line);
      start = newline + 1;
    }
  }
}
