import type { WorkloadAuthorization } from '../../config/compile/inbound-policies.ts';
import type { AuthzDecision, DeniedResponse } from './authz-decision.ts';
import { RBAC_DENIED_RESPONSE } from './authz-decision.ts';
import type { AuthzRequest } from './authz-request.ts';
import { type CompiledPolicy, compilePolicy, matchingRule } from './compiled-policy.ts';
import { parseExtensionProviders } from './external/extension-provider.ts';
import type { ExternalAuthorizer } from './external/external-authorizer.ts';
import { type CompiledHttpAuthorizer, compileHttpAuthorizer } from './external/external-check.ts';
import { RequestFacts } from './request-facts.ts';

export interface AuthorizationEngineOptions {
  /** Mesh options' `extensionProviders` (Istio's MeshConfig), for CUSTOM policies. */
  readonly extensionProviders?: readonly unknown[];
  /** Makes the HTTP calls of CUSTOM policies; without one, CUSTOM policies fail closed. */
  readonly externalAuthorizer?: ExternalAuthorizer;
}

/** A CUSTOM policy and the authorizer it asks, or why it cannot ask one. */
interface CustomPolicy {
  readonly policy: CompiledPolicy;
  readonly authorizer?: CompiledHttpAuthorizer;
}

interface Match {
  readonly policy: CompiledPolicy;
  readonly ruleIndex: number;
}

/**
 * The authorization policies of one workload, compiled once per snapshot, deciding each request
 * as Istio's sidecar does: CUSTOM first (a matching rule sends the request to the external
 * authorizer, which may deny it), then DENY (any matching rule denies), then ALLOW (if any ALLOW
 * policy applies, one of its rules must match; with none, the request is allowed). AUDIT policies
 * only mark the decision. Denials answer 403 `RBAC: access denied`.
 *
 * `authorize` returns the decision itself when it can be made locally — every request that no
 * CUSTOM rule matches — and a promise only when an external authorizer must be asked; `await`
 * works on both. Decisions without audit or external headers are shared, precomputed objects.
 */
export class AuthorizationEngine {
  /** Everything that failed closed (policy, rule, field and why), for diagnostics. */
  readonly problems: readonly string[];
  readonly #custom: readonly CustomPolicy[];
  readonly #deny: readonly CompiledPolicy[];
  readonly #allow: readonly CompiledPolicy[];
  readonly #audit: readonly CompiledPolicy[];
  readonly #externalAuthorizer: ExternalAuthorizer | undefined;
  readonly #decisions = new Map<CompiledPolicy, readonly AuthzDecision[]>();

  constructor(authorization: WorkloadAuthorization, options: AuthorizationEngineOptions = {}) {
    const problems: string[] = [];
    const compileAll = (resources: WorkloadAuthorization['allow']) =>
      resources.map((resource) => {
        const policy = compilePolicy(resource);
        for (const problem of policy.problems) problems.push(`${policy.key}: ${problem} (fails closed)`);
        return policy;
      });
    // A policy whose action Weft does not know is compiled as a DENY, wherever it was filed.
    const all = [authorization.custom, authorization.deny, authorization.allow, authorization.audit].flatMap(
      compileAll,
    );
    const byAction = (action: CompiledPolicy['action']) => all.filter((policy) => policy.action === action);
    this.#deny = byAction('DENY');
    this.#allow = byAction('ALLOW');
    this.#audit = byAction('AUDIT');
    this.#custom = this.#compileCustom(byAction('CUSTOM'), options, problems);
    this.#externalAuthorizer = options.externalAuthorizer;
    for (const policy of [...this.#deny, ...this.#allow]) {
      this.#decisions.set(
        policy,
        policy.rules.map((_, ruleIndex) =>
          Object.freeze({
            isAllowed: policy.action === 'ALLOW',
            reason: policy.action === 'ALLOW' ? 'allow-matched' : 'deny-matched',
            policy: policy.key,
            ruleIndex,
            isAudited: false,
            ...(policy.action === 'ALLOW' ? {} : { response: RBAC_DENIED_RESPONSE }),
          } as const),
        ),
      );
    }
    this.problems = Object.freeze(problems);
  }

  /** Whether any policy applies to the workload at all. */
  get hasPolicies(): boolean {
    return this.#custom.length + this.#deny.length + this.#allow.length + this.#audit.length > 0;
  }

  authorize(request: AuthzRequest): AuthzDecision | Promise<AuthzDecision> {
    const facts = new RequestFacts(request);
    const isTcp = request.protocol === 'tcp';
    const audit = this.#audit.length === 0 ? undefined : firstMatch(this.#audit, facts, isTcp);
    for (const custom of this.#custom) {
      const ruleIndex = matchingRule(custom.policy, facts, isTcp);
      if (ruleIndex === -1) continue;
      const { authorizer } = custom;
      if (authorizer === undefined || isTcp || this.#externalAuthorizer === undefined) {
        return withAudit(
          denied(
            'custom-unavailable',
            RBAC_DENIED_RESPONSE,
            { policy: custom.policy, ruleIndex },
            custom.policy.provider,
          ),
          audit,
        );
      }
      return this.#askExternal(
        this.#externalAuthorizer,
        authorizer,
        { policy: custom.policy, ruleIndex },
        facts,
        audit,
      );
    }
    return withAudit(this.#decideLocally(facts, isTcp), audit);
  }

  #decideLocally(facts: RequestFacts, isTcp: boolean): AuthzDecision {
    for (const policy of this.#deny) {
      const ruleIndex = matchingRule(policy, facts, isTcp);
      if (ruleIndex !== -1) return this.#decisionOf(policy, ruleIndex);
    }
    if (this.#allow.length === 0) return NO_ALLOW_POLICIES;
    for (const policy of this.#allow) {
      const ruleIndex = matchingRule(policy, facts, isTcp);
      if (ruleIndex !== -1) return this.#decisionOf(policy, ruleIndex);
    }
    return NO_ALLOW_MATCHED;
  }

  #decisionOf(policy: CompiledPolicy, ruleIndex: number): AuthzDecision {
    return this.#decisions.get(policy)?.[ruleIndex] ?? NO_ALLOW_MATCHED;
  }

  async #askExternal(
    client: ExternalAuthorizer,
    authorizer: CompiledHttpAuthorizer,
    custom: Match,
    facts: RequestFacts,
    audit: Match | undefined,
  ): Promise<AuthzDecision> {
    const request = facts.request;
    const outcome = await client.check(authorizer.settings, authorizer.buildRequest(request), request.signal);
    const verdict = authorizer.interpret(outcome);
    if (verdict.kind !== 'allowed') {
      const response: DeniedResponse = {
        status: verdict.status,
        body: verdict.body,
        headers: verdict.headers,
      };
      const reason = verdict.kind === 'denied' ? 'custom-denied' : 'custom-error';
      return withAudit(denied(reason, response, custom, authorizer.name), audit);
    }
    const local = withAudit(this.#decideLocally(facts, request.protocol === 'tcp'), audit);
    if (!local.isAllowed) return local;
    return {
      ...local,
      provider: authorizer.name,
      ...(verdict.hasFailedOpen ? { hasFailedOpen: true } : {}),
      ...(verdict.upstreamHeaders.length > 0 ? { upstreamHeaders: verdict.upstreamHeaders } : {}),
      ...(verdict.downstreamHeaders.length > 0 ? { downstreamHeaders: verdict.downstreamHeaders } : {}),
    };
  }

  /**
   * Istio allows one extension provider per workload: CUSTOM policies naming different providers,
   * or a provider the mesh options do not define validly, fail closed (requests their rules match
   * are denied) instead of picking one.
   */
  #compileCustom(
    policies: readonly CompiledPolicy[],
    options: AuthorizationEngineOptions,
    problems: string[],
  ): CustomPolicy[] {
    if (policies.length === 0) return [];
    const parsed = parseExtensionProviders(options.extensionProviders ?? []);
    problems.push(...parsed.problems);
    const names = new Set(policies.map((policy) => policy.provider));
    if (names.size > 1) {
      problems.push(
        `CUSTOM policies ${policies.map((policy) => policy.key).join(', ')} name different providers ` +
          `(${[...names].join(', ')}); a workload can use one, so all of them deny what they match`,
      );
      return policies.map((policy) => ({ policy }));
    }
    return policies.map((policy) => {
      const settings = policy.provider === undefined ? undefined : parsed.authorizers.get(policy.provider);
      if (settings === undefined || policy.provider === undefined) {
        problems.push(
          `${policy.key}: provider ${JSON.stringify(policy.provider)} is not a valid envoyExtAuthzHttp ` +
            'extension provider in the mesh options, so the requests it matches are denied',
        );
        return { policy };
      }
      if (options.externalAuthorizer === undefined) {
        problems.push(
          `${policy.key}: no external authorizer client was given, so the requests it matches are denied`,
        );
      }
      return { policy, authorizer: compileHttpAuthorizer(policy.provider, settings) };
    });
  }
}

const NO_ALLOW_POLICIES: AuthzDecision = Object.freeze({
  isAllowed: true,
  reason: 'no-allow-policies',
  isAudited: false,
});

const NO_ALLOW_MATCHED: AuthzDecision = Object.freeze({
  isAllowed: false,
  reason: 'no-allow-matched',
  isAudited: false,
  response: RBAC_DENIED_RESPONSE,
});

function firstMatch(
  policies: readonly CompiledPolicy[],
  facts: RequestFacts,
  isTcp: boolean,
): Match | undefined {
  for (const policy of policies) {
    const ruleIndex = matchingRule(policy, facts, isTcp);
    if (ruleIndex !== -1) return { policy, ruleIndex };
  }
  return undefined;
}

function denied(
  reason: AuthzDecision['reason'],
  response: DeniedResponse,
  match: Match,
  provider: string | undefined,
): AuthzDecision {
  return {
    isAllowed: false,
    reason,
    policy: match.policy.key,
    ruleIndex: match.ruleIndex,
    isAudited: false,
    response,
    ...(provider === undefined ? {} : { provider }),
  };
}

function withAudit(decision: AuthzDecision, audit: Match | undefined): AuthzDecision {
  return audit === undefined ? decision : { ...decision, isAudited: true, auditPolicy: audit.policy.key };
}
