import { Readable } from 'node:stream';

/** A request body streamed in `chunkBytes` pieces, `totalBytes` long, of a repeating pattern. */
export function streamedBody(totalBytes: number, chunkBytes = 4096): { stream: Readable; text: string } {
  const text = Array.from({ length: totalBytes }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  async function* chunks() {
    for (let offset = 0; offset < totalBytes; offset += chunkBytes) {
      yield Buffer.from(text.slice(offset, offset + chunkBytes));
    }
  }
  return { stream: Readable.from(chunks()), text };
}
