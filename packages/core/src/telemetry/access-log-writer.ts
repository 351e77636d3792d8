/** What the access log writes to: process.stdout, a file stream, any Node Writable. */
export interface AccessLogStream {
  /** Returns false when the stream's buffer is full (Node's backpressure signal). */
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * Writes access-log lines without ever holding a request up (bad-inputs I1): while the stream
 * says its buffer is full, lines are dropped and counted, until it drains. A slow disk or a
 * stalled pipe costs lines, never memory or latency.
 */
export class AccessLogWriter {
  readonly #stream: AccessLogStream;
  readonly #onDrop: () => void;
  #isBlocked = false;
  #dropped = 0;

  constructor(stream: AccessLogStream, onDrop: () => void = () => {}) {
    this.#stream = stream;
    this.#onDrop = onDrop;
  }

  /** Lines dropped because the stream was full. */
  get dropped(): number {
    return this.#dropped;
  }

  write(line: string): void {
    if (this.#isBlocked) {
      this.#dropped++;
      this.#onDrop();
      return;
    }
    if (!this.#stream.write(line)) {
      this.#isBlocked = true;
      this.#stream.once('drain', () => {
        this.#isBlocked = false;
      });
    }
  }
}
