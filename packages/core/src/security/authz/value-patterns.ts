/**
 * Istio's rule value syntax, shared by every string field of AuthorizationPolicy: `abc` matches
 * exactly, `abc*` by prefix, `*abc` by suffix, and `*` any value that is present. (The schema
 * refuses a `*` anywhere else.) Compiled once into a set lookup plus short prefix/suffix lists.
 */
export type ValueTest = (value: string) => boolean;

export interface ValuePatternOptions {
  /** Compare without ASCII case (hosts): patterns are folded here, values by the caller. */
  readonly isCaseInsensitive?: boolean;
  /** Rewrites each pattern's literal text before compiling (e.g. dropping `spiffe://`). */
  readonly normalizeLiteral?: (literal: string) => string;
}

export function compileValuePatterns(
  patterns: readonly string[],
  options: ValuePatternOptions = {},
): ValueTest {
  const fold = (text: string) => {
    const literal = options.normalizeLiteral?.(text) ?? text;
    return options.isCaseInsensitive === true ? literal.toLowerCase() : literal;
  };
  const exact: string[] = [];
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  for (const pattern of patterns) {
    if (pattern === '*') return () => true;
    if (pattern.endsWith('*')) prefixes.push(fold(pattern.slice(0, -1)));
    else if (pattern.startsWith('*')) suffixes.push(fold(pattern.slice(1)));
    else exact.push(fold(pattern));
  }
  // The common shapes get their own closures: this runs for every field of every rule a request
  // meets, so a loop over empty lists or a set lookup for one value is measurable (bench/authz.ts).
  if (prefixes.length === 0 && suffixes.length === 0) return exactTest(exact);
  if (exact.length === 0 && suffixes.length === 0) return prefixTest(prefixes);
  const exactMatch = exactTest(exact);
  return (value) => {
    if (exactMatch(value)) return true;
    for (const prefix of prefixes) if (startsWith(value, prefix)) return true;
    for (const suffix of suffixes) if (endsWith(value, suffix)) return true;
    return false;
  };
}

/**
 * `String.prototype.startsWith` and `endsWith` cost V8 about three times an anchored `indexOf`
 * on strings sliced from larger ones (principals are slices of the SPIFFE URI); measured with
 * bench/authz.ts, where 14 principal prefixes are tried per request.
 */
function startsWith(value: string, prefix: string): boolean {
  return value.lastIndexOf(prefix, 0) === 0;
}

function endsWith(value: string, suffix: string): boolean {
  const start = value.length - suffix.length;
  return start >= 0 && value.indexOf(suffix, start) === start;
}

/** Short lists are compared one by one; long ones through a set. */
function exactTest(values: readonly string[]): ValueTest {
  const [first, second] = values;
  if (values.length === 0) return () => false;
  if (values.length === 1) return (value) => value === first;
  if (values.length === 2) return (value) => value === first || value === second;
  if (values.length <= 8) return (value) => values.includes(value);
  const set = new Set(values);
  return (value) => set.has(value);
}

function prefixTest(prefixes: readonly string[]): ValueTest {
  const [first] = prefixes;
  if (prefixes.length === 1 && first !== undefined) return (value) => startsWith(value, first);
  return (value) => {
    for (const prefix of prefixes) if (startsWith(value, prefix)) return true;
    return false;
  };
}
