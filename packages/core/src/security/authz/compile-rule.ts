import { compileCondition } from './compile-condition.ts';
import { compileOperation } from './compile-operation.ts';
import { compileSource } from './compile-source.ts';
import type { FieldCheck, FieldChecks, FieldContext } from './field-check.ts';
import { failsClosedByMatching, type PolicyAction } from './policy-action.ts';
import { ALWAYS, allOf, anyOf, NEVER, type Predicate } from './predicate.ts';

/** A rule compiled for both kinds of traffic. */
export interface CompiledRule {
  readonly http: Predicate;
  readonly tcp: Predicate;
  /** Why the rule cannot be evaluated as written; when non-empty it fails closed. */
  readonly problems: readonly string[];
}

const RULE_FIELDS = new Set(['from', 'to', 'when']);

/**
 * A rule matches when one of its sources, one of its operations and all of its conditions match;
 * a missing `from`, `to` or `when` matches anything, so `{}` matches every request.
 *
 * Fail-closed compilation: a rule Weft cannot fully understand (a field it does not know, an
 * attribute it cannot read, a malformed value — which only a resource that skipped validation, e.g.
 * from a newer agent, can carry) never matches in an ALLOW policy and always matches in the others.
 *
 * For TCP traffic (bad-inputs G3), as Istio: an ALLOW or AUDIT rule that uses HTTP-only fields never
 * matches; a DENY or CUSTOM rule is evaluated without its HTTP-only fields, so it matches more.
 */
export function compileRule(
  rule: unknown,
  owner: string,
  action: PolicyAction,
  namespace: string,
): CompiledRule {
  const context: FieldContext = { namespace, absentMatches: failsClosedByMatching(action) };
  const problems: string[] = [];
  if (typeof rule !== 'object' || rule === null) return failClosed(action, [`${owner} is not an object`]);
  const fields = rule as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (!RULE_FIELDS.has(key) && value !== undefined)
      problems.push(`${owner}.${key} is a field Weft does not understand`);
  }
  const sources = entries(fields.from, `${owner}.from`, 'source', problems, (source, at) =>
    compileSource(source, at, context),
  );
  const operations = entries(fields.to, `${owner}.to`, 'operation', problems, (operation, at) =>
    compileOperation(operation, at, context),
  );
  const conditions = entries(fields.when, `${owner}.when`, undefined, problems, (condition, at) =>
    compileCondition(condition, at, context),
  );
  if (problems.length > 0) return failClosed(action, problems);
  const all = [...(sources ?? []), ...(operations ?? []), ...(conditions ?? [])].flat();
  const build = (keep: (check: FieldCheck) => boolean): Predicate => {
    const group = (list: FieldCheck[][] | undefined) =>
      list === undefined
        ? ALWAYS
        : anyOf(list.map((checks) => allOf(checks.filter(keep).map((check) => check.predicate))));
    const when = allOf(
      (conditions ?? [])
        .flat()
        .filter(keep)
        .map((check) => check.predicate),
    );
    return allOf([group(sources), group(operations), when]);
  };
  const http = build(() => true);
  const usesHttp = all.some((check) => check.isHttpOnly);
  const widensOnTcp = action === 'DENY' || action === 'CUSTOM';
  const tcp = !usesHttp ? http : widensOnTcp ? build((check) => !check.isHttpOnly) : NEVER;
  return { http, tcp, problems: [] };
}

function failClosed(action: PolicyAction, problems: readonly string[]): CompiledRule {
  const verdict = failsClosedByMatching(action) ? ALWAYS : NEVER;
  return { http: verdict, tcp: verdict, problems };
}

/**
 * The compiled entries of `from`, `to` or `when`: undefined when the field is absent (match
 * anything); each entry's checks, unwrapping `source` / `operation` when `wrapper` is given.
 */
function entries(
  value: unknown,
  owner: string,
  wrapper: string | undefined,
  problems: string[],
  compile: (entry: unknown, at: string) => FieldChecks,
): FieldCheck[][] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    problems.push(`${owner} is not a list`);
    return undefined;
  }
  if (value.length === 0) {
    // Istio refuses an empty list here; matching anything would widen an ALLOW.
    problems.push(`${owner} is an empty list`);
    return undefined;
  }
  return value.map((entry: unknown, index) => {
    let inner = entry;
    let at = `${owner}[${index}]`;
    if (wrapper !== undefined) {
      const wrapped = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {};
      for (const key of Object.keys(wrapped))
        if (key !== wrapper) problems.push(`${at}.${key} is a field Weft does not understand`);
      inner = wrapped[wrapper];
      at = `${at}.${wrapper}`;
    }
    const compiled = compile(inner, at);
    problems.push(...compiled.problems);
    return compiled.checks;
  });
}
