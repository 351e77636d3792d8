import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.ts';

/**
 * Reads a request body of at most `maxBytes`, refusing (413) as soon as the declared length or
 * the bytes received pass the cap, so an oversized body is never held in memory (bad-inputs
 * A2, B8). Invalid UTF-8 is a 400. The caller closes the connection after a 413 (the rest of the
 * body is never read).
 */
export async function readTextBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > maxBytes) {
        cleanup();
        request.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new HttpError(400, 'bad-request', 'the request body could not be read', { cause: error }));
    };
    const onAborted = (): void => onError(new Error('request aborted'));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
  });
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, total));
  } catch (error) {
    throw new HttpError(400, 'bad-request', 'the request body is not valid UTF-8', { cause: error });
  }
}

/** Reads and parses a JSON body (400 with the parser's message when it is not JSON). */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const text = await readTextBody(request, maxBytes);
  return parseJson(text);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, 'invalid-json', `the body is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'payload-too-large', `the request body is larger than ${maxBytes} bytes`, {
    details: { limitBytes: maxBytes },
    headers: { connection: 'close' },
  });
}
