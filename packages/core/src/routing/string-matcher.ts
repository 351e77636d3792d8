import { compileSafeRegex } from '../config/safe-regex.ts';
import type { StringMatch } from '../config/schema-primitives.ts';

/** A compiled StringMatch: `undefined` means the value is absent. */
export type ValueMatcher = (value: string | undefined) => boolean;

/**
 * Compiles a StringMatch once per snapshot. Regexes use RE2 (linear time) and must match the
 * whole value, as Istio's `regex` does. `ignoreCase` applies to exact and prefix only, as Istio's
 * `ignoreUriCase`. The pattern was validated at parse time, so a compile failure here is a bug.
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
        const expected = match.value.toLowerCase();
        return (value) =>
          value !== undefined && value.length === expected.length && value.toLowerCase() === expected;
      }
      const expected = match.value;
      return (value) => value === expected;
    }
    case 'prefix': {
      if (options.ignoreCase === true) {
        const expected = match.value.toLowerCase();
        return (value) => value !== undefined && value.toLowerCase().startsWith(expected);
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
