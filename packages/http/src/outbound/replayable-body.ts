import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Linkerd's cap: a body larger than this is sent once and its request is not retried. */
export const DEFAULT_MAX_REPLAY_BYTES = 64 * 1024;

type Body = Dispatcher.DispatchOptions['body'];

/**
 * A request body that can be sent more than once. Bytes and strings replay as they are.
 * A stream (fetch always gives one) is recorded while it is sent, up to a cap: if it ends within
 * the cap it can be replayed from the recording; if it grows past the cap, or is sent only in
 * part, the request cannot be retried, and `whyNotReplayable` says so.
 */
export class ReplayableBody {
  readonly #source: Body;
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #recordedBytes = 0;
  #state: 'unsent' | 'sending' | 'recorded' | 'too-large' | 'partial' = 'unsent';

  constructor(source: Body, maxBytes = DEFAULT_MAX_REPLAY_BYTES) {
    this.#source = source;
    this.#maxBytes = maxBytes;
  }

  get isStream(): boolean {
    const source = this.#source;
    return (
      source !== null &&
      source !== undefined &&
      typeof source === 'object' &&
      !Buffer.isBuffer(source) &&
      !(source instanceof Uint8Array)
    );
  }

  /** Undefined when the body can be sent again; otherwise the reason it cannot. */
  get whyNotReplayable(): string | undefined {
    if (!this.isStream) return undefined;
    switch (this.#state) {
      case 'unsent':
      case 'recorded':
        return undefined;
      case 'too-large':
        return `request body over ${this.#maxBytes} bytes is not buffered for retries`;
      default:
        return 'request body stream was only partly sent';
    }
  }

  /** The body for the next attempt. */
  next(): Body {
    if (!this.isStream) return this.#source;
    if (this.#state === 'recorded') return Buffer.concat(this.#chunks);
    if (this.#state !== 'unsent') throw new Error('request body cannot be replayed');
    this.#state = 'sending';
    return Readable.from(this.#record(this.#source as AsyncIterable<Uint8Array | string>), {
      objectMode: false,
    });
  }

  async *#record(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<Buffer> {
    let completed = false;
    try {
      for await (const chunk of source) {
        const buffer =
          typeof chunk === 'string'
            ? Buffer.from(chunk)
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (this.#state === 'sending') {
          this.#recordedBytes += buffer.length;
          if (this.#recordedBytes > this.#maxBytes) {
            this.#state = 'too-large';
            this.#chunks = [];
          } else {
            this.#chunks.push(Buffer.from(buffer));
          }
        }
        yield buffer;
      }
      completed = true;
    } finally {
      if (this.#state === 'sending') this.#state = completed ? 'recorded' : 'partial';
    }
  }
}
