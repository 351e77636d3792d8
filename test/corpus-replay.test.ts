/**
 * Replays every input saved in ./corpus/ (house style rule 18; corpus/README.md): the watch
 * stream decoder, header operations in VirtualServices, and the config parser over raw bytes.
 * `accept-*` must decode, `reject-*` must be refused, `finding-reject-*` must be refused but is
 * not yet (a known bug, `it.fails`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseConfig } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { NdjsonLines } from '../packages/core/src/agent-client/ndjson-lines.ts';
import { AgentProtocolError, parseWatchFrame } from '../packages/core/src/agent-client/watch-frame.ts';
import { ErrorCodes, WeftError } from '../packages/core/src/errors/weft-error.ts';
import { parseEveryWay } from './support/config-checks.ts';

const CORPUS = new URL('./corpus/', import.meta.url);
/** The stream cap the replay uses: small enough that an oversized-frame input fits the 50 KB rule. */
const MAX_FRAME_BYTES = 16 * 1024;

function inputs(folder: string): { readonly name: string; readonly bytes: Buffer }[] {
  const directory = new URL(`${folder}/`, CORPUS);
  return readdirSync(directory)
    .filter((name) => /^(accept|reject|finding-reject)-/.test(name))
    .sort()
    .map((name) => ({ name, bytes: withoutComments(readFileSync(new URL(name, directory))) }));
}

/** Drops the leading `#` comment lines. */
function withoutComments(bytes: Buffer): Buffer {
  let start = 0;
  // A UTF-8 byte-order mark may precede the comment (corpus/config/accept-utf8-bom.yaml).
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const offset = hasBom ? 3 : 0;
  start = offset;
  while (bytes[start] === 0x23) {
    const newline = bytes.indexOf(10, start);
    start = newline === -1 ? bytes.length : newline + 1;
  }
  return hasBom ? Buffer.concat([bytes.subarray(0, offset), bytes.subarray(start)]) : bytes.subarray(start);
}

/** Register the replay of one input under the expectation its name gives. */
function replay(name: string, check: (shouldReject: boolean) => void): void {
  if (name.startsWith('finding-reject-')) {
    it.fails(`FINDING ${name}: is refused`, () => check(true));
  } else {
    const shouldReject = name.startsWith('reject-');
    it(`${name}: is ${shouldReject ? 'refused' : 'accepted'}`, () => check(shouldReject));
  }
}

describe('corpus: watch stream', () => {
  const files = inputs('watch-stream');

  it('holds the seed inputs', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  /** Decodes `bytes` cut into pieces of `pieceBytes` (whole when 0); the frames, or the error. */
  function decode(bytes: Buffer, pieceBytes: number): { frames: number; error?: unknown } {
    const lines = new NdjsonLines(MAX_FRAME_BYTES);
    let frames = 0;
    try {
      const step = pieceBytes === 0 ? Math.max(1, bytes.length) : pieceBytes;
      for (let start = 0; start < bytes.length; start += step) {
        for (const line of lines.push(bytes.subarray(start, start + step))) {
          parseWatchFrame(line);
          frames += 1;
        }
      }
      return { frames };
    } catch (error) {
      return { frames, error };
    }
  }

  for (const { name, bytes } of files) {
    replay(name, (shouldReject) => {
      const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
      const outcomes = [0, 1, 2, 3, 7].map((pieceBytes) => decode(bytes, pieceBytes));
      // However the bytes arrive, the outcome is the same.
      expect(outcomes.map((outcome) => [outcome.frames, outcome.error === undefined])).toEqual(
        outcomes.map(() => [outcomes[0]?.frames, outcomes[0]?.error === undefined]),
      );
      const [whole] = outcomes;
      if (shouldReject) {
        expect(
          whole?.error instanceof AgentProtocolError ||
            (whole?.error instanceof WeftError && whole.error.code === ErrorCodes.configLimit),
        ).toBe(true);
      } else {
        expect(whole?.error).toBeUndefined();
        expect(whole?.frames).toBeGreaterThan(0);
      }
      expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }
});

for (const folder of ['headers', 'config']) {
  describe(`corpus: ${folder}`, () => {
    const files = inputs(folder);

    it('holds the seed inputs', () => {
      expect(files.length).toBeGreaterThanOrEqual(5);
    });

    for (const { name, bytes } of files) {
      replay(name, (shouldReject) => {
        // Every way of decoding gives a complete, frozen result (.bin files: UTF-8 and Latin-1).
        const results = name.endsWith('.bin')
          ? parseEveryWay(bytes, name)
          : [parseConfig(bytes.toString('utf8'), { file: name })];
        if (!name.endsWith('.bin')) parseEveryWay(bytes, name);
        for (const parsed of results) {
          const errors = parsed.issues.filter((issue) => issue.severity === 'error');
          if (shouldReject) {
            expect(errors.length).toBeGreaterThan(0);
            expect(parsed.resources).toEqual([]);
          } else {
            expect(errors).toEqual([]);
            expect(parsed.resources.length).toBeGreaterThan(0);
          }
        }
      });
    }
  });
}
