import { z } from 'zod';
import { parseDurationMs } from './duration.ts';
import { canonicalHost } from './host.ts';
import { compileSafeRegex } from './safe-regex.ts';

/**
 * Building blocks shared by the per-kind schemas. Every object schema is strict: an unknown key
 * becomes an `unrecognized_keys` issue, which the parser turns into a warning (and drops the key)
 * for traffic kinds, and into an error for security kinds, where ignoring a field could widen
 * access (fail closed).
 */

/** Longest list the parser accepts anywhere in a resource, before any per-field limit. */
export const MAX_LIST_LENGTH = 10_000;

/** A list capped at `max` elements, so a hostile resource cannot make compile() quadratic. */
export function cappedArray<T extends z.ZodType>(item: T, max = MAX_LIST_LENGTH) {
  return z.array(item).max(max, { message: `at most ${max} entries are allowed` });
}

/** Duration text → milliseconds; `min` and `max` are in milliseconds. */
export function durationMs(bounds: { readonly min?: number; readonly max?: number } = {}) {
  return z.string().transform((text, context) => {
    const parsed = parseDurationMs(text);
    if (!parsed.ok) {
      context.addIssue({ code: 'custom', message: parsed.reason });
      return z.NEVER;
    }
    if (bounds.min !== undefined && parsed.ms < bounds.min) {
      context.addIssue({
        code: 'custom',
        message: `duration "${text}" is below the minimum of ${bounds.min}ms`,
      });
      return z.NEVER;
    }
    if (bounds.max !== undefined && parsed.ms > bounds.max) {
      context.addIssue({
        code: 'custom',
        message: `duration "${text}" is above the maximum of ${bounds.max}ms`,
      });
      return z.NEVER;
    }
    return parsed.ms;
  });
}

/** A duration that Istio requires to be at least 1 ms (timeouts, intervals, ejection times). */
export const positiveDurationMs = durationMs({ min: 1 });

/** A duration where 0 switches the feature off (Istio skips its ≥ 1ms check for exactly 0). */
export const durationOrZeroMs = durationMs().refine(
  (ms) => ms === 0 || ms >= 1,
  'duration must be 0 (disabled) or at least 1ms',
);

/** A non-negative 32-bit integer, as protobuf's uint32 / UInt32Value. */
export const uint32 = z.number().int().min(0).max(4_294_967_295);
/** A 32-bit integer, as protobuf's int32 / Int32Value. */
export const int32 = z.number().int().min(-2_147_483_648).max(2_147_483_647);

/** A non-negative int32 (a count or a limit); `field` names it in the message. */
export function nonNegativeInt32(field: string) {
  return int32.min(0, `${field} must be ≥ 0`);
}

/** uint64 as YAML users write it (a number) or as proto JSON encodes it (a decimal string). */
export const uint64 = z
  .union([z.number(), z.string().regex(/^\d+$/, 'must be a non-negative integer').transform(Number)])
  .pipe(z.number().int().min(0, 'must be ≥ 0').max(Number.MAX_SAFE_INTEGER, 'is too large'));

export const portNumber = z.number().int().min(1, 'port must be 1–65535').max(65_535, 'port must be 1–65535');

/** Istio's `Percent { value: double }`, 0–100. */
export const percentValue = z
  .number()
  .min(0, 'percentage must be 0–100')
  .max(100, 'percentage must be 0–100');
export const percentage = z.strictObject({ value: percentValue });

/** A regular expression compiled (and so validated) with RE2 semantics; the pattern text is kept. */
export const re2Pattern = z.string().superRefine((pattern, context) => {
  const compiled = compileSafeRegex(pattern);
  if (!compiled.ok) context.addIssue({ code: 'custom', message: compiled.reason });
});

/** A host as written in config: compared case-insensitively, one trailing dot ignored. */
export const hostName = z
  .string()
  .min(1, 'host must not be empty')
  .max(255, 'host must be at most 255 characters')
  .refine((host) => !/[\s/\\]/.test(host), 'host must not contain whitespace or slashes')
  .refine((host) => !host.includes('..') && host !== '.', 'host must not have an empty label ("..")')
  .transform(canonicalHost);

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Kubernetes label keys and values, as `workloadSelector.matchLabels` and `subset.labels` use. */
export const labels = z
  .record(
    z.string().max(317).regex(LABEL_NAME, 'not a valid label key'),
    z.string().max(63).regex(LABEL_VALUE, 'not a valid label value'),
  )
  .refine((value) => Object.keys(value).length <= 4096, 'at most 4096 labels');

/**
 * A `map<string, V>`: keys are checked here rather than by a zod key schema, so that a bad key
 * gets its own message (a key schema reports only "Invalid key in record").
 */
export function mapOf<V extends z.ZodType>(value: V, keyProblem: (key: string) => string | undefined) {
  return z.record(z.string(), value).superRefine((map, context) => {
    for (const key of Object.keys(map)) {
      const problem = keyProblem(key);
      if (problem !== undefined) context.addIssue({ code: 'custom', path: [key], message: problem });
    }
  });
}

/** Istio's `StringMatch` (one of exact, prefix, regex), normalized to a tagged union. */
export type StringMatch =
  | { readonly type: 'exact'; readonly value: string }
  | { readonly type: 'prefix'; readonly value: string }
  | { readonly type: 'regex'; readonly value: string }
  /** `{}`: Istio treats an empty match as "present" for headers and "any" for the URI. */
  | { readonly type: 'present' };

export const stringMatch = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: re2Pattern.optional() })
  .transform((match, context): StringMatch => {
    const set = (['exact', 'prefix', 'regex'] as const).filter((key) => match[key] !== undefined);
    if (set.length > 1) {
      context.addIssue({
        code: 'custom',
        message: `only one of exact, prefix and regex may be set (got ${set.join(', ')})`,
      });
      return z.NEVER;
    }
    const [type] = set;
    if (type === undefined) return { type: 'present' };
    return { type, value: match[type] ?? '' };
  });

/** `workloadSelector` / `selector`: `matchLabels` only, as Istio. */
export const workloadSelector = z.strictObject({ matchLabels: labels.optional() });

/** `exportTo`: `.` (this namespace), `*` (all), `~` (none) or namespace names. */
export const exportTo = cappedArray(z.string().min(1), 256).optional();
