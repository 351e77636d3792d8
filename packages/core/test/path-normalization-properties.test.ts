// Property-based tests of request path normalization (bad-inputs D1–D6). Seeds and run counts:
// ./properties-settings.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normalizeRequestPath,
  PATH_NORMALIZATIONS,
  type PathNormalization,
} from '../src/security/request-path/path-normalization.ts';
import { runs } from './properties-settings.ts';

/** The spellings that have broken normalizers, including the `%2e%2e` a naive one missed. */
const piece = fc.constantFrom(
  '/',
  '//',
  '.',
  '..',
  '/./',
  '/../',
  '%2e',
  '%2E',
  '%2e%2e',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '\\',
  ';',
  '#',
  '?',
  'a',
  'B',
  '~',
  '%41',
  '%7e',
  '%25',
  '%252f',
  '%c0%ae',
  '%00',
  '%',
  '%zz',
  '\u0000',
  '\u00e9',
  'admin',
);
const target = fc.array(piece, { maxLength: 16 }).map((pieces) => `/${pieces.join('')}`);
const mode = fc.constantFrom(...PATH_NORMALIZATIONS);
const normalizingMode = fc.constantFrom<PathNormalization>(
  'BASE',
  'MERGE_SLASHES',
  'DECODE_AND_MERGE_SLASHES',
);

function accepted(input: string, chosen: PathNormalization): string | undefined {
  const result = normalizeRequestPath(input, chosen);
  return result.ok ? result.path : undefined;
}

/** Decodes each %XX once, byte by byte, as an application that decodes the path would. */
function decodeOnce(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

describe('path normalization properties', () => {
  it('is idempotent in every mode', () => {
    fc.assert(
      fc.property(target, mode, (input, chosen) => {
        const once = accepted(input, chosen);
        if (once === undefined) return;
        expect(normalizeRequestPath(once, chosen)).toEqual({ ok: true, path: once, query: '' });
      }),
      runs(3000, [['/%2e%2e/a', 'BASE']]),
    );
  });

  it('leaves no dot segment, backslash or fragment, and always an absolute path', () => {
    fc.assert(
      fc.property(target, normalizingMode, (input, chosen) => {
        const path = accepted(input, chosen);
        if (path === undefined) return;
        expect(path.startsWith('/')).toBe(true);
        expect(path).not.toMatch(/\/\.\.?(\/|$)/);
        expect(path).not.toContain('\\');
        expect(path).not.toMatch(/[?#]/);
      }),
      runs(3000, [
        ['/a/%2e%2e', 'BASE'],
        ['/.', 'MERGE_SLASHES'],
      ]),
    );
  });

  it('leaves no "//" when merging slashes', () => {
    fc.assert(
      fc.property(
        target,
        fc.constantFrom<PathNormalization>('MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'),
        (input, chosen) => {
          const path = accepted(input, chosen);
          if (path !== undefined) expect(path).not.toContain('//');
        },
      ),
      runs(3000),
    );
  });

  it('leaves no encoded slash under DECODE_AND_MERGE_SLASHES, even after the application decodes once', () => {
    fc.assert(
      fc.property(target, (input) => {
        const path = accepted(input, 'DECODE_AND_MERGE_SLASHES');
        if (path === undefined) return;
        expect(path).not.toMatch(/%(2f|5c)/i);
        // What the application sees after its own decoding has no segment that climbs.
        for (const segment of decodeOnce(path).split('/')) expect(['.', '..']).not.toContain(segment);
      }),
      runs(3000, [['/%2e%2e%2fadmin'], ['/%252e%252e/x']]),
    );
  });

  it('keeps only upper-case escapes of reserved or non-ASCII bytes', () => {
    fc.assert(
      fc.property(target, normalizingMode, (input, chosen) => {
        const path = accepted(input, chosen);
        if (path === undefined) return;
        for (const [encoded] of path.matchAll(/%[0-9A-Fa-f]{2}/g)) {
          expect(encoded).toBe(encoded.toUpperCase());
          const byte = Number.parseInt(encoded.slice(1), 16);
          expect(/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))).toBe(false);
          expect(byte).not.toBe(0);
        }
      }),
      runs(3000),
    );
  });

  it('refuses exactly the paths with a control, space or non-ASCII character, or a broken escape', () => {
    fc.assert(
      fc.property(target, mode, (input, chosen) => {
        const path = input.split(/[?#]/)[0] ?? '';
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the property is about control characters.
        const hasBadCharacter = /[\u0000-\u0020\u007f-\uffff]/.test(path);
        const hasBadEscape = chosen !== 'NONE' && /%(?![0-9A-Fa-f]{2})|%00/.test(path);
        expect(normalizeRequestPath(input, chosen).ok).toBe(!hasBadCharacter && !hasBadEscape);
      }),
      runs(3000),
    );
  });

  it('agrees with the WHATWG URL parser on dot segments and backslashes once normalized', () => {
    const safePiece = fc.constantFrom('/', '.', '..', '%2e', '%2E', '\\', 'a', '%41', '%2f', '%5c', '~');
    fc.assert(
      fc.property(fc.array(safePiece, { maxLength: 12 }), (pieces) => {
        const path = accepted(`/${pieces.join('')}`, 'BASE');
        if (path === undefined) return;
        // WHATWG finds nothing more to remove: our output is already in its normal form.
        expect(new URL(`http://example.com${path}`).pathname).toBe(path);
      }),
      runs(3000),
    );
  });
});
