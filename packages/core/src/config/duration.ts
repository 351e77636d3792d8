/**
 * Istio durations as users write them: protobuf's `1.5s` and Go's `100ms`, `1h2m`, `250us`.
 * Normalized to milliseconds (fractions kept) so the runtime never parses text.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 MICRO SIGN
  μs: 1e-3, // U+03BC GREEK SMALL LETTER MU; Go accepts both
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
/** Longer than any sensible duration; bounds the work done on hostile input. */
const MAX_DURATION_TEXT = 64;

export type DurationParse =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly reason: string };

export function parseDurationMs(text: string): DurationParse {
  if (text.length === 0) return { ok: false, reason: 'empty duration' };
  if (text.length > MAX_DURATION_TEXT)
    return { ok: false, reason: `duration longer than ${MAX_DURATION_TEXT} characters` };
  if (text === '0') return { ok: true, ms: 0 };
  let ms = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < text.length) {
    const start = TERM.lastIndex;
    const match = TERM.exec(text);
    if (match === null) {
      return {
        ok: false,
        reason: `"${text}" is not a duration at offset ${start}: use a number and a unit (h, m, s, ms, us, ns), e.g. "1.5s" or "1h2m"`,
      };
    }
    const [, amount = '', unit = ''] = match;
    ms += Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
  }
  if (!Number.isFinite(ms)) return { ok: false, reason: `"${text}" is out of range` };
  return { ok: true, ms };
}
