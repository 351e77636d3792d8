import type { HeaderReader } from './attempt-outcome.ts';
import type { RateLimitResetHeader } from './retry-plan.ts';

/**
 * Wall-clock time in epoch milliseconds, injected (the monotonic Clock cannot read HTTP dates).
 * Only the composition root passes `Date.now`.
 */
export type WallClock = () => number;

export type ServerDelaySource = 'retry-after' | 'reset-header';

export interface ServerRequestedDelay {
  /** Milliseconds from now; 0 for a date in the past. Not yet capped. */
  readonly delayMs: number;
  readonly source: ServerDelaySource;
}

/**
 * The delay a response asks for before a retry: `Retry-After` first (when honoured), then the
 * plan's reset headers in order; the first value that parses wins, and a malformed one is skipped
 * (the caller falls back to exponential back-off).
 *
 * An HTTP-date is measured against the response's own `Date` header when it has a valid one, so
 * that clock skew between client and server cancels out; otherwise against `wallClock`. With
 * neither, date forms are ignored.
 */
export function serverRequestedDelay(
  headers: HeaderReader,
  options: { readonly isRetryAfterHonoured: boolean; readonly resetHeaders: readonly RateLimitResetHeader[] },
  wallClock: WallClock | undefined,
): ServerRequestedDelay | undefined {
  if (options.isRetryAfterHonoured) {
    const value = headers.get('retry-after');
    if (value !== undefined && value !== null) {
      const delayMs = parseRetryAfterMs(value, () => referenceTimeMs(headers, wallClock));
      if (delayMs !== undefined) return { delayMs, source: 'retry-after' };
    }
  }
  for (const header of options.resetHeaders) {
    const value = headers.get(header.name);
    if (value === undefined || value === null) continue;
    const delayMs = parseResetHeaderMs(value, header.format, wallClock);
    if (delayMs !== undefined) return { delayMs, source: 'reset-header' };
  }
  return undefined;
}

/**
 * `Retry-After = HTTP-date / delay-seconds` (RFC 9110 §10.2.3). Returns milliseconds from now,
 * 0 for a date already past, or undefined when the value is neither form (or a date with no
 * reference time).
 */
export function parseRetryAfterMs(
  value: string,
  referenceTimeMs: () => number | undefined,
): number | undefined {
  const text = value.trim();
  if (DELAY_SECONDS.test(text)) return Number(text) * 1000;
  const dateMs = parseHttpDate(text);
  if (dateMs === undefined) return undefined;
  const nowMs = referenceTimeMs();
  if (nowMs === undefined) return undefined;
  return Math.max(0, dateMs - nowMs);
}

function parseResetHeaderMs(
  value: string,
  format: RateLimitResetHeader['format'],
  wallClock: WallClock | undefined,
): number | undefined {
  const text = value.trim();
  if (!DELAY_SECONDS.test(text)) return undefined;
  const seconds = Number(text);
  if (format === 'seconds') return seconds * 1000;
  if (wallClock === undefined) return undefined;
  return Math.max(0, seconds * 1000 - wallClock());
}

function referenceTimeMs(headers: HeaderReader, wallClock: WallClock | undefined): number | undefined {
  const date = headers.get('date');
  const serverNowMs = date === undefined || date === null ? undefined : parseHttpDate(date.trim());
  return serverNowMs ?? wallClock?.();
}

const DELAY_SECONDS = /^\d{1,15}$/;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete, still to be accepted) */
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`,
);
/** `Sun Nov  6 08:49:37 1994` (obsolete ANSI C asctime(), always GMT) */
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * An HTTP-date (RFC 9110 §5.6.7) in any of its three forms, as epoch milliseconds; undefined if
 * malformed or not a real calendar time. Parsed by hand because `Date.parse` reads asctime as
 * local time and accepts many non-HTTP forms.
 */
export function parseHttpDate(text: string): number | undefined {
  let match = IMF_FIXDATE.exec(text);
  if (match !== null) return utc(match[3], match[2], match[1], match[4], match[5], match[6]);
  match = RFC850_DATE.exec(text);
  if (match !== null) {
    // Two-digit years: 70–99 are 19xx, 00–69 are 20xx. (RFC 9110 asks for "not more than 50 years
    // in the future"; for a retry delay any past date means 0 anyway.)
    const yy = Number(match[3]);
    return utc(String(yy >= 70 ? 1900 + yy : 2000 + yy), match[2], match[1], match[4], match[5], match[6]);
  }
  match = ASCTIME_DATE.exec(text);
  if (match !== null) return utc(match[6], match[1], match[2], match[3], match[4], match[5]);
  return undefined;
}

function utc(
  year: string | undefined,
  month: string | undefined,
  day: string | undefined,
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
): number | undefined {
  const monthIndex = MONTHS.indexOf(month ?? '');
  const [y, d, h, m, s] = [year, day, hour, minute, second].map((part) => Number((part ?? '').trim()));
  if (y === undefined || d === undefined || h === undefined || m === undefined || s === undefined)
    return undefined;
  if (monthIndex < 0 || h > 23 || m > 59 || s > 60 || d < 1) return undefined;
  const ms = Date.UTC(y, monthIndex, d, h, m, Math.min(s, 59));
  // Reject dates that do not exist (31 Feb rolls over into March).
  return new Date(ms).getUTCDate() === d ? ms : undefined;
}
