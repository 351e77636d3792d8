import { compileSafeRegex } from '../config/safe-regex.ts';
import type { StringMatch } from '../config/schema-primitives.ts';

/** A compiled StringMatch: `undefined` means the value is absent. */
export type ValueMatcher = (value: string | undefined) => boolean;

/**
 * Compiles a StringMatch once per snapshot. Regexes use RE2 (linear time) and must match the
 * whole value, as Istio's `regex` does. `ignoreCase` applies to exact and prefix only, as Istio's
 * `ignoreUriCase`, and folds ASCII letters only, as Envoy does. The pattern was validated at parse time, so a compile failure here is a bug.
 */
export function compileStringMatch(
  match: StringMatch,
  options: { readonly ignoreCase?: boolean } = {},
): ValueMatcher {
  switch (match.type) {
    case 'present':
      return (value) => value !== undefined;
    case 'exact': {
      if (options.ignoreCase === true) {
        const expected = asciiLowerCase(match.value);
        return (value) =>
          value !== undefined && value.length === expected.length && asciiLowerCase(value) === expected;
      }
      const expected = match.value;
      return (value) => value === expected;
    }
    case 'prefix': {
      if (options.ignoreCase === true) {
        const expected = asciiLowerCase(match.value);
        const length = expected.length;
        return (value) => value !== undefined && asciiLowerCase(value.slice(0, length)) === expected;
      }
      const expected = match.value;
      return (value) => value?.startsWith(expected) === true;
    }
    case 'regex': {
      const compiled = compileSafeRegex(match.value);
      if (!compiled.ok) throw new Error(`regex passed validation but does not compile: ${compiled.reason}`);
      const { regex } = compiled;
      return (value) => value !== undefined && regex.matches(value);
    }
  }
}

/**
 * Folds A–Z only, as Envoy's `ignore_case` does: Unicode case mapping can change a string's
 * length (İ) or depend on context (Σ), so a full fold would make a match reject its own text.
 */
function asciiLowerCase(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 65 && code <= 90) return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
  }
  return text;
}
