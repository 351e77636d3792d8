// Property-based tests of Go-style duration parsing.
// Seeds and run counts: ./properties-settings.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../src/index.ts';
import { runs } from './properties-settings.ts';

/** Milliseconds per unit, written out independently of duration.ts. */
const GO_UNIT_MS: readonly (readonly [string, number])[] = [
  ['h', 60 * 60 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
  ['us', 1 / 1000],
  ['\u00b5s', 1 / 1000], // MICRO SIGN
  ['ns', 1 / 1_000_000],
];
const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const amount = fc.oneof(
  digits(1, 6),
  fc.tuple(digits(1, 4), digits(0, 4)).map(([whole, fraction]) => `${whole}.${fraction}`),
  digits(1, 4).map((fraction) => `.${fraction}`),
);
const durationTerm = fc.record({ amount, unit: fc.constantFrom(...GO_UNIT_MS) });

function expectDurationClose(text: string, expectedMs: number): void {
  const parsed = parseDurationMs(text);
  expect(parsed, text).toMatchObject({ ok: true });
  if (parsed.ok) expect(Math.abs(parsed.ms - expectedMs)).toBeLessThanOrEqual(1e-9 * Math.max(1, expectedMs));
}

describe('parseDurationMs', () => {
  it('reads any Go-style duration as the sum of its terms', () => {
    fc.assert(
      fc.property(fc.array(durationTerm, { minLength: 1, maxLength: 4 }), (terms) => {
        const text = terms.map(({ amount, unit: [unit] }) => `${amount}${unit}`).join('');
        fc.pre(text.length <= 64);
        const expected = terms.reduce((sum, { amount, unit: [, ms] }) => sum + Number(amount) * ms, 0);
        expectDurationClose(text, expected);
      }),
      runs(2000),
    );
  });

  it('accepts the Greek small letter mu for microseconds, as Go does ("1000μs" is 1 ms)', () => {
    // Go's time.ParseDuration accepts both U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU.
    expectDurationClose('1000\u03bcs', 1);
    expectDurationClose('1s500\u03bcs', 1000.5);
  });

  it('returns a finite non-negative number or a reason for any text, and never throws', () => {
    const alphabet = fc.constantFrom(...'0123456789.hmsun\u00b5\u03bc -+eE_', 'ms', 'us', 'ns');
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: alphabet, maxLength: 40 })),
        (text) => {
          const parsed = parseDurationMs(text);
          if (parsed.ok) expect(Number.isFinite(parsed.ms) && parsed.ms >= 0, text).toBe(true);
          else expect(parsed.reason).toMatch(/\S/);
        },
      ),
      runs(3000),
    );
  });

  it('refuses any text longer than 64 characters, even a valid-looking one', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 65 }),
          digits(65, 200).map((d) => `${d}s`),
        ),
        (text) => {
          fc.pre(text.length > 64);
          expect(parseDurationMs(text).ok).toBe(false);
        },
      ),
      runs(500),
    );
  });
});
