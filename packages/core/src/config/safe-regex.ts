import { RE2JS } from 're2js';

/**
 * Every regular expression from config is compiled with RE2 semantics (re2js): matching is linear
 * in the input, so a hostile pattern or request cannot stall the event loop the way `(a+)+$`
 * does in V8's backtracking engine. Istio matches regexes against the whole value (FullMatch).
 */
export const MAX_REGEX_LENGTH = 1024;
/** re2js's program size; Envoy's default error level is 100 instructions, Istio raises it. */
export const MAX_REGEX_PROGRAM_SIZE = 2000;

export type RegexCompile =
  | { readonly ok: true; readonly regex: RE2JS }
  | { readonly ok: false; readonly reason: string };

export function compileSafeRegex(pattern: string): RegexCompile {
  if (pattern.length > MAX_REGEX_LENGTH) {
    return {
      ok: false,
      reason: `regex is ${pattern.length} characters long; the limit is ${MAX_REGEX_LENGTH}`,
    };
  }
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(pattern);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `regex ${JSON.stringify(pattern)} is not valid RE2 syntax: ${detail}` };
  }
  if (regex.programSize() > MAX_REGEX_PROGRAM_SIZE) {
    return {
      ok: false,
      reason: `regex compiles to ${regex.programSize()} instructions; the limit is ${MAX_REGEX_PROGRAM_SIZE}`,
    };
  }
  return { ok: true, regex };
}
