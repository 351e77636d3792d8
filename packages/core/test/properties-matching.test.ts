// Property-based tests of route matching: string matchers, paths and query parameters.
// Seeds and run counts: ./properties-settings.ts.
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { compileHttpMatch, type HttpMatchConditions } from '../src/routing/http-match.ts';
import { compileRetryPolicy } from '../src/routing/retry-policy.ts';
import { pathOnly, queryParameter, type RouteRequest } from '../src/routing/route-request.ts';
import { type CompiledRoute, RouteTable } from '../src/routing/route-table.ts';
import { compileStringMatch } from '../src/routing/string-matcher.ts';
import { runs } from './properties-settings.ts';

/** Letters whose case mapping is not one-to-one in Unicode, mixed with plain ASCII. */
const trickyUnit = fc.constantFrom(
  ...'aAbBiI/-.',
  '\u0130',
  '\u0131',
  '\u00df',
  '\u1e9e',
  '\u212a',
  '\u017f',
  '\u03a3',
);
const asciiText = fc.string({ unit: fc.constantFrom(...'aAbBzZ/-._?=&%09'), maxLength: 12 });
const unicodeText = fc.oneof(
  fc.string({ unit: trickyUnit, maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
/** A value and a candidate that often shares a prefix with it, in either case. */
const valueAndCandidate = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(text, text, fc.constantFrom('same', 'upper', 'lower', 'other'))
    .map(([expected, suffix, shape]) => {
      if (shape === 'other') return [expected, suffix] as const;
      const head =
        shape === 'upper' ? expected.toUpperCase() : shape === 'lower' ? expected.toLowerCase() : expected;
      return [expected, head + suffix] as const;
    });

describe('compileStringMatch', () => {
  it('exact and prefix agree with ===, startsWith and their lower-cased forms on ASCII', () => {
    fc.assert(
      fc.property(valueAndCandidate(asciiText), ([expected, value]) => {
        const exact = { type: 'exact', value: expected } as const;
        const prefix = { type: 'prefix', value: expected } as const;
        expect(compileStringMatch(exact)(value)).toBe(value === expected);
        expect(compileStringMatch(prefix)(value)).toBe(value.startsWith(expected));
        expect(compileStringMatch(exact, { ignoreCase: true })(value)).toBe(
          value.toLowerCase() === expected.toLowerCase(),
        );
        expect(compileStringMatch(prefix, { ignoreCase: true })(value)).toBe(
          value.toLowerCase().startsWith(expected.toLowerCase()),
        );
        expect(compileStringMatch(exact)(undefined)).toBe(false);
        expect(compileStringMatch(prefix, { ignoreCase: true })(undefined)).toBe(false);
      }),
      runs(3000),
    );
  });

  it('exact and prefix agree with === and startsWith on any Unicode text', () => {
    fc.assert(
      fc.property(valueAndCandidate(unicodeText), ([expected, value]) => {
        expect(compileStringMatch({ type: 'exact', value: expected })(value)).toBe(value === expected);
        expect(compileStringMatch({ type: 'prefix', value: expected })(value)).toBe(
          value.startsWith(expected),
        );
      }),
      runs(3000),
    );
  });

  /**
   * The least any case-insensitive match must do. JavaScript's toLowerCase is not a safe fold for
   * it: "İ" lower-cases to two code units, and "Σ" to "ς" or "σ" depending on what follows. Envoy's
   * ignore_case folds ASCII only, which keeps lengths and needs no context.
   */
  it('an ignore-case exact or prefix match accepts the very text it was written with, in any script', () => {
    fc.assert(
      fc.property(unicodeText, unicodeText, (expected, suffix) => {
        expect(compileStringMatch({ type: 'exact', value: expected }, { ignoreCase: true })(expected)).toBe(
          true,
        );
        const prefix = compileStringMatch({ type: 'prefix', value: expected }, { ignoreCase: true });
        expect(prefix(expected + suffix)).toBe(true);
      }),
      runs(3000, [
        ['\u0130', ''],
        ['/\u0130stanbul', '/x'],
        ['a\u03a3', 'a'],
      ]),
    );
  });

  it('a regex of RE2JS.quote(s) matches exactly s', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), unicodeText, (text, other) => {
        const matches = compileStringMatch({ type: 'regex', value: RE2JS.quote(text) });
        expect(matches(text)).toBe(true);
        expect(matches(other)).toBe(other === text);
        expect(matches(`${text}${other}`)).toBe(other === '');
      }),
      runs(1500),
    );
  });
});

const routeRequest = (path: string, method = 'GET'): RouteRequest => ({
  path,
  method,
  authority: 'reviews:9080',
  scheme: 'http',
  port: 9080,
  header: () => undefined,
});
const pathText = fc.string({ unit: fc.constantFrom(...'/aAbB-._~%20', '\u00e9'), maxLength: 16 });
const queryText = fc.string({ unit: fc.constantFrom(...'ab=&?%+/#'), maxLength: 16 });
const uriMatch = fc.oneof(
  pathText.map((value) => ({ type: 'exact', value }) as const),
  pathText.map((value) => ({ type: 'prefix', value }) as const),
  pathText.map((value) => ({ type: 'regex', value: RE2JS.quote(value) }) as const),
  fc.constant({ type: 'present' } as const),
);

describe('path and query matching', () => {
  it('pathOnly never keeps a "?", and is the whole path when there is no query', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (path) => {
        const only = pathOnly(path);
        expect(only.includes('?')).toBe(false);
        expect(path.startsWith(only)).toBe(true);
        if (!path.includes('?')) expect(only).toBe(path);
      }),
      runs(2000),
    );
  });

  it('a route match ignores the query string', () => {
    fc.assert(
      fc.property(
        uriMatch,
        fc.boolean(),
        pathText,
        queryText,
        pathText,
        (uri, ignoreUriCase, path, query, variant) => {
          const conditions: HttpMatchConditions = {
            uri,
            ignoreUriCase,
            method: { type: 'exact', value: 'GET' },
          };
          const matches = compileHttpMatch(conditions);
          const route: CompiledRoute = {
            name: 'r',
            source: 'test',
            matches,
            matchBlocks: [{ matches }],
            destinations: [],
            totalWeight: 0,
            retry: compileRetryPolicy(undefined),
          };
          const table = new RouteTable('reviews', 9080, [route]);
          const uriMatches = compileStringMatch(uri, { ignoreCase: ignoreUriCase });
          for (const candidate of [path, variant]) {
            const expected = uriMatches(candidate);
            expect(table.match(routeRequest(candidate)) !== undefined).toBe(expected);
            expect(table.match(routeRequest(`${candidate}?${query}`)) !== undefined).toBe(expected);
          }
        },
      ),
      runs(2000),
    );
  });

  it('queryParameter decodes the first occurrence of a parameter, and only of that parameter', () => {
    const pair = fc.tuple(
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
    );
    fc.assert(
      fc.property(
        pathText,
        fc.array(pair, { maxLength: 4 }),
        pair,
        pair,
        (path, others, [key, value], [, later]) => {
          fc.pre(key !== '' && others.every(([name]) => name !== key));
          const encode = ([name, text]: readonly [string, string]) =>
            `${encodeURIComponent(name)}=${encodeURIComponent(text)}`;
          const query = [...others, [key, value] as const, [key, later] as const].map(encode).join('&');
          expect(queryParameter(`${path}?${query}`, key)).toBe(value);
          expect(queryParameter(`${path}?${others.map(encode).join('&')}`, key)).toBeUndefined();
          expect(queryParameter(path, key)).toBeUndefined();
        },
      ),
      runs(2000),
    );
  });
});
