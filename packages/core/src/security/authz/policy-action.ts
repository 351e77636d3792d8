/** AuthorizationPolicy actions, in the order Istio evaluates them (AUDIT only marks). */
export type PolicyAction = 'CUSTOM' | 'DENY' | 'ALLOW' | 'AUDIT';

/**
 * Whether an unclear match (an attribute the rule needs is absent, a field Weft cannot evaluate,
 * HTTP-only fields on TCP) should count as a match for this action: matching more is the safe side
 * for DENY and CUSTOM (deny or ask more), matching less is the safe side for ALLOW. AUDIT only
 * marks requests, so it sides with matching.
 */
export function failsClosedByMatching(action: PolicyAction): boolean {
  return action !== 'ALLOW';
}
