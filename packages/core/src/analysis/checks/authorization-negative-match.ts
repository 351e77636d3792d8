import type { AnalysisCheck } from '../analysis-check.ts';

/**
 * bad-inputs G1: DENY rules with positive `paths` and ALLOW rules with `notPaths` are the ones
 * that a path-normalization gap turns into a bypass. Istio recommends the inverse patterns.
 */
export const authorizationNegativeMatch: AnalysisCheck = {
  code: 'authorization-bypass-prone',
  severity: 'warning',
  summary:
    'An AuthorizationPolicy uses DENY with paths or ALLOW with notPaths, patterns that normalization gaps can bypass.',
  *run({ snapshot }) {
    for (const policy of snapshot.resources.AuthorizationPolicy) {
      const action = policy.spec.action ?? 'ALLOW';
      for (const [i, rule] of (policy.spec.rules ?? []).entries()) {
        for (const [j, to] of (rule.to ?? []).entries()) {
          const risky =
            action === 'DENY' ? to.operation?.paths : action === 'ALLOW' ? to.operation?.notPaths : undefined;
          if (risky === undefined || risky.length === 0) continue;
          const field = action === 'DENY' ? 'paths' : 'notPaths';
          const safer = action === 'DENY' ? 'an ALLOW policy with notPaths' : 'a DENY policy with paths';
          yield {
            resource: policy,
            path: `spec.rules[${i}].to[${j}].operation.${field}`,
            message: `${action} with ${field} fails open if a request's path is spelled differently (case, encoding, slashes); prefer ${safer}, or match prefixes`,
          };
        }
      }
    }
  },
};
