import { resourceKey } from '../../config/resource.ts';
import type { AuthorizationPolicyResource } from '../../config/resources.ts';
import { type CompiledRule, compileRule } from './compile-rule.ts';
import type { PolicyAction } from './policy-action.ts';
import { ALWAYS } from './predicate.ts';
import type { RequestFacts } from './request-facts.ts';

/** One AuthorizationPolicy, compiled once per snapshot. */
export interface CompiledPolicy {
  /** `AuthorizationPolicy/<namespace>/<name>`, as decisions, messages and metrics name it. */
  readonly key: string;
  readonly action: PolicyAction;
  readonly rules: readonly CompiledRule[];
  /** CUSTOM only: the extension provider's name. */
  readonly provider?: string;
  /** What could not be compiled as written, and so fails closed. */
  readonly problems: readonly string[];
}

const ACTIONS: ReadonlySet<string> = new Set(['CUSTOM', 'DENY', 'ALLOW', 'AUDIT']);

/**
 * Compiles a policy's rules. A policy without rules never matches (so an ALLOW without rules is
 * Istio's `allow-nothing`); `rules: [{}]` matches every request. An action Weft does not know is
 * compiled as a DENY of every request: the safe reading of a policy it cannot read.
 */
export function compilePolicy(resource: AuthorizationPolicyResource): CompiledPolicy {
  const key = resourceKey(resource);
  const spec = resource.spec as unknown as Record<string, unknown>;
  const declared = spec.action ?? 'ALLOW';
  if (typeof declared !== 'string' || !ACTIONS.has(declared)) {
    return {
      key,
      action: 'DENY',
      rules: [{ http: ALWAYS, tcp: ALWAYS, problems: [] }],
      problems: [`action ${JSON.stringify(declared)} is one Weft does not know: every request is denied`],
    };
  }
  const action = declared as PolicyAction;
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  const compiled = rules.map((rule: unknown, index) =>
    compileRule(rule, `rules[${index}]`, action, resource.metadata.namespace),
  );
  const provider = spec.provider as { readonly name?: unknown } | undefined;
  return {
    key,
    action,
    rules: compiled,
    ...(typeof provider?.name === 'string' ? { provider: provider.name } : {}),
    problems: compiled.flatMap((rule) => rule.problems),
  };
}

/** The index of the first rule that matches the request, or -1. */
export function matchingRule(policy: CompiledPolicy, facts: RequestFacts, isTcp: boolean): number {
  const { rules } = policy;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as CompiledRule;
    if (isTcp ? rule.tcp(facts) : rule.http(facts)) return i;
  }
  return -1;
}
