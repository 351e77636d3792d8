import { isIP } from 'node:net';
import { z } from 'zod';
import type { KindDefinition } from '../kind-definition.ts';
import { cappedArray, hostName } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';
import {
  checkTargeting,
  foldTargetRefs,
  policyTargetingFields,
  targetRefDeprecation,
} from './policy-targeting.ts';

/**
 * AuthorizationPolicy (security.istio.io): which callers may perform which operations on a workload.
 *
 * Normalized output: `action` is always present (ALLOW by default); `ports`/`notPorts` become numbers;
 * `hosts`/`notHosts` are lower-cased without a trailing dot, because the Host header is compared
 * case-insensitively (bad-inputs D8, D10); the hidden singular `targetRef` is folded into `targetRefs`.
 * There are no durations in this kind. Every other string is kept as written: the authz compiler
 * turns `abc*`, `*abc` and `*` into prefix, suffix and presence matchers.
 *
 * This is a security kind, so it fails closed: what Weft cannot enforce (Envoy filter metadata)
 * refuses the whole resource instead of being ignored, since ignoring part of a rule could widen an
 * ALLOW or drop a DENY. CUSTOM needs `provider.name`, an `envoyExtAuthzHttp` extension provider of
 * the mesh options; whether that provider exists is checked when a workload's policies are compiled
 * (mesh options are not part of a resource), and a missing one denies what the policy matches.
 */

/**
 * Istio's rule strings match exactly, by prefix (`abc*`), by suffix (`*abc`) or by presence (`*`).
 * Istio would treat any other `*` as a literal character, which is almost always a mistake that
 * silently never matches, so Weft refuses it.
 */
function wildcardProblem(value: string): string | undefined {
  const stars = value.split('*').length - 1;
  if (stars === 0 || value === '*') return undefined;
  if (stars === 1 && (value.startsWith('*') || value.endsWith('*'))) return undefined;
  return (
    `"${value}" uses "*" in the middle or more than once; Istio supports only "*" alone, ` +
    'a prefix ("abc*") or a suffix ("*abc"): split it into several values'
  );
}

function trustDomainProblem(value: string): string | undefined {
  if (value.includes('/'))
    return `trust domain "${value}" must not contain "/": write only the domain, e.g. "cluster.local"`;
  return wildcardProblem(value);
}

/** `namespace/serviceAccount` or `serviceAccount`, without wildcards (Istio's CheckServiceAccount). */
function serviceAccountProblem(value: string): string | undefined {
  const fix = 'write "<serviceAccount>" or "<namespace>/<serviceAccount>"';
  if (value.includes('*'))
    return `service account "${value}" must not contain "*": wildcards are not allowed here; ${fix}`;
  if (value.length > 320) return `service account "${value.slice(0, 32)}…" is longer than 320 characters`;
  const parts = value.split('/');
  if (parts.length > 2 || parts.some((part) => part === ''))
    return `service account "${value}" is malformed: ${fix}`;
  return undefined;
}

/** A single address or a CIDR block, as Go's netip.ParseAddr / ParsePrefix accept. */
function ipBlockProblem(value: string): string | undefined {
  const fix = 'use an address such as "203.0.113.4" or a CIDR block such as "203.0.113.0/24"';
  if (value.includes('%')) return `"${value}" has a zone identifier, which a policy cannot match: ${fix}`;
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return `"${value}" is not an IP address or CIDR block: ${fix}`;
  if (slash === -1) return undefined;
  const bits = value.slice(slash + 1);
  const maxBits = family === 4 ? 32 : 128;
  if (!/^(0|[1-9]\d{0,2})$/.test(bits) || Number(bits) > maxBits) {
    return `"${value}" has an invalid prefix length; it must be 0–${maxBits}: ${fix}`;
  }
  return undefined;
}

function portProblem(value: string): string | undefined {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65_535) {
    return `port "${value}" must be a number from 1 to 65535, written as a string, e.g. "8080"`;
  }
  return undefined;
}

const PATH_TEMPLATE_OPERATORS = ['{*}', '{**}'];
/** RFC 3986 pchar, which Envoy requires of the literal segments of a URI template. */
const PATH_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/**
 * Plain paths follow the wildcard rule; paths with `{*}` or `{**}` are Envoy URI templates and follow
 * Istio's CheckValidPathTemplate: operators fill whole segments, `{**}` is the last operator, and
 * the other segments are plain literals (so no `*`).
 */
function pathProblem(path: string): string | undefined {
  const isTemplate = PATH_TEMPLATE_OPERATORS.some((operator) => path.includes(operator));
  let sawMatchAny = false;
  for (const segment of path.replace(/^\/+|\/+$/g, '').split('/')) {
    if (PATH_TEMPLATE_OPERATORS.includes(segment)) {
      if (sawMatchAny) {
        return `path template "${path}" has an operator after {**}; {**} must be the last operator`;
      }
      sawMatchAny = segment === '{**}';
      continue;
    }
    if (/[{}]/.test(segment)) {
      return `path "${path}" has "{" or "}" outside a whole-segment {*} or {**} operator, which Istio rejects`;
    }
    if (isTemplate && !PATH_LITERAL.test(segment)) {
      return (
        `path template "${path}" has the segment "${segment}", which is not a plain literal; ` +
        'in a template use {*} for one segment and {**} for the rest instead of "*"'
      );
    }
  }
  return isTemplate ? undefined : wildcardProblem(path);
}

/** A non-empty rule value, checked by `problem`; the empty string would match nothing. */
function ruleValue(field: string, problem: (value: string) => string | undefined = wildcardProblem) {
  return z
    .string()
    .min(1, `empty value in ${field}: remove it, or use "*" to require that the value is present`)
    .superRefine((value, context) => addProblem(context, problem(value)));
}

function ruleValues(field: string, problem?: (value: string) => string | undefined, max?: number) {
  return cappedArray(ruleValue(field, problem), max).optional();
}

const hostPattern = ruleValue('hosts').pipe(hostName);
const portList = cappedArray(ruleValue('ports', portProblem).transform(Number)).optional();

export const sourceSchema = z
  .strictObject({
    principals: ruleValues('principals'),
    notPrincipals: ruleValues('notPrincipals'),
    requestPrincipals: ruleValues('requestPrincipals'),
    notRequestPrincipals: ruleValues('notRequestPrincipals'),
    namespaces: ruleValues('namespaces'),
    notNamespaces: ruleValues('notNamespaces'),
    serviceAccounts: ruleValues('serviceAccounts', serviceAccountProblem, 16),
    notServiceAccounts: ruleValues('notServiceAccounts', serviceAccountProblem, 16),
    ipBlocks: ruleValues('ipBlocks', ipBlockProblem),
    notIpBlocks: ruleValues('notIpBlocks', ipBlockProblem),
    remoteIpBlocks: ruleValues('remoteIpBlocks', ipBlockProblem),
    notRemoteIpBlocks: ruleValues('notRemoteIpBlocks', ipBlockProblem),
    trustDomains: ruleValues('trustDomains', trustDomainProblem),
    notTrustDomains: ruleValues('notTrustDomains', trustDomainProblem),
  })
  .superRefine((source, context) => {
    if (!Object.values(source).some((list) => list !== undefined && list.length > 0)) {
      addProblem(
        context,
        'source is empty, which Istio rejects (at least one field must be set): add principals, namespaces, ' +
          'ipBlocks or another field, or remove the entry to match any source',
      );
    }
    const hasServiceAccounts =
      (source.serviceAccounts?.length ?? 0) + (source.notServiceAccounts?.length ?? 0) > 0;
    const identityFields = (['principals', 'notPrincipals', 'namespaces', 'notNamespaces'] as const).filter(
      (field) => (source[field]?.length ?? 0) > 0,
    );
    if (hasServiceAccounts && identityFields.length > 0) {
      addProblem(
        context,
        `serviceAccounts cannot be combined with ${identityFields.join(', ')}: use serviceAccounts ` +
          '("<namespace>/<serviceAccount>") alone, or principals and namespaces alone',
        [identityFields[0] ?? 'principals'],
      );
    }
  });

export const operationSchema = z
  .strictObject({
    hosts: cappedArray(hostPattern).optional(),
    notHosts: cappedArray(hostPattern).optional(),
    ports: portList,
    notPorts: portList,
    methods: ruleValues('methods'),
    notMethods: ruleValues('notMethods'),
    paths: ruleValues('paths', pathProblem),
    notPaths: ruleValues('notPaths', pathProblem),
  })
  .superRefine((operation, context) => {
    if (!Object.values(operation).some((list) => list !== undefined && list.length > 0)) {
      addProblem(
        context,
        'operation is empty, which Istio rejects (at least one field must be set): add hosts, ports, ' +
          'methods or paths, or remove the entry to match any operation',
      );
    }
  });

/** A `when` key with its per-value check, or a reason the key is refused. */
type ConditionKey =
  | { readonly isAccepted: true; readonly valueProblem?: (value: string) => string | undefined }
  | { readonly isAccepted: false; readonly reason: string };

const EXACT_CONDITION_KEYS: ReadonlyMap<string, ((value: string) => string | undefined) | undefined> =
  new Map([
    ['source.ip', ipBlockProblem],
    ['remote.ip', ipBlockProblem],
    ['destination.ip', ipBlockProblem],
    ['destination.port', portProblem],
    ['source.namespace', wildcardProblem],
    ['source.principal', wildcardProblem],
    ['source.trustDomain', trustDomainProblem],
    ['source.serviceAccount', serviceAccountProblem],
    ['request.auth.principal', wildcardProblem],
    ['request.auth.audiences', undefined],
    ['request.auth.presenter', undefined],
    ['connection.sni', undefined],
  ]);

const HEADER_KEY = /^request\.headers\[[^[\]]+\]$/;
/** Nested claims are written `request.auth.claims[outer][inner]`. */
const CLAIM_KEY = /^request\.auth\.claims(\[[^[\]]+\])+$/;

function classifyConditionKey(key: string): ConditionKey {
  if (EXACT_CONDITION_KEYS.has(key)) return { isAccepted: true, valueProblem: EXACT_CONDITION_KEYS.get(key) };
  if (HEADER_KEY.test(key) || CLAIM_KEY.test(key)) return { isAccepted: true };
  if (key.startsWith('experimental.envoy.filters.')) {
    return {
      isAccepted: false,
      reason:
        `"${key}" (Envoy filter metadata) is not supported by Weft, so the policy is refused rather than ` +
        'matched partially: express the condition with request.headers[...] or request.auth.claims[...]',
    };
  }
  if (key === 'destination.namespace') {
    return {
      isAccepted: false,
      reason: `"${key}" is replaced by metadata.namespace: create the policy in that namespace`,
    };
  }
  if (key.startsWith('destination.labels')) {
    return {
      isAccepted: false,
      reason: `"${key}" is replaced by the workload selector: use spec.selector.matchLabels`,
    };
  }
  if (key === 'destination.name' || key === 'destination.user') {
    return {
      isAccepted: false,
      reason: `"${key}" was removed after Istio v1alpha1: use spec.selector to pick the workload`,
    };
  }
  if (key.startsWith('request.headers') || key.startsWith('request.auth.claims')) {
    return {
      isAccepted: false,
      reason: `"${key}" must name one entry in brackets, e.g. request.headers[x-user]`,
    };
  }
  return {
    isAccepted: false,
    reason:
      `unknown condition key "${key}": use one of request.headers[<name>], source.ip, remote.ip, ` +
      'source.namespace, source.principal, source.serviceAccount, source.trustDomain, request.auth.principal, ' +
      'request.auth.audiences, request.auth.presenter, request.auth.claims[<name>], destination.ip, ' +
      'destination.port, connection.sni',
  };
}

export const conditionSchema = z
  .strictObject({
    key: z
      .string()
      .min(1, 'key must not be empty: name an attribute, e.g. source.ip or request.headers[x-user]'),
    values: cappedArray(z.string().min(1, 'empty value: remove it')).optional(),
    notValues: cappedArray(z.string().min(1, 'empty value: remove it')).optional(),
  })
  .superRefine((condition, context) => {
    const classified = classifyConditionKey(condition.key);
    if (!classified.isAccepted) {
      addProblem(context, classified.reason, ['key']);
      return;
    }
    if ((condition.values?.length ?? 0) + (condition.notValues?.length ?? 0) === 0) {
      addProblem(
        context,
        `condition "${condition.key}" needs values or notValues: list what to match or remove it`,
      );
    }
    const { valueProblem } = classified;
    if (valueProblem === undefined) return;
    for (const field of ['values', 'notValues'] as const) {
      condition[field]?.forEach((value, index) => {
        addProblem(context, valueProblem(value), [field, index]);
      });
    }
  });

const fromSchema = z.strictObject({ source: sourceSchema.optional() }).superRefine((from, context) => {
  if (from.source === undefined)
    addProblem(context, 'each from entry needs a source: add source: {...}', ['source']);
});

const toSchema = z.strictObject({ operation: operationSchema.optional() }).superRefine((to, context) => {
  if (to.operation === undefined)
    addProblem(context, 'each to entry needs an operation: add operation: {...}', ['operation']);
});

export const ruleSchema = z
  .strictObject({
    from: cappedArray(fromSchema, 512).optional(),
    to: cappedArray(toSchema, 512).optional(),
    when: cappedArray(conditionSchema, 512).optional(),
  })
  .superRefine((rule, context) => {
    for (const field of ['from', 'to'] as const) {
      if (rule[field]?.length === 0) {
        addProblem(context, `"${field}" is an empty list, which Istio rejects: remove it to match anything`, [
          field,
        ]);
      }
    }
  });

export const authorizationPolicySpecSchema = z
  .strictObject({
    ...policyTargetingFields,
    rules: cappedArray(ruleSchema, 512).optional(),
    action: z
      .enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'], {
        error: 'action must be one of ALLOW, DENY, AUDIT or CUSTOM',
      })
      .default('ALLOW'),
    provider: z
      .strictObject({
        name: z.string().min(1, 'provider.name must name an extension provider of the mesh options'),
      })
      .optional(),
  })
  .superRefine((spec, context) => {
    checkTargeting(spec, context);
    if (spec.action === 'CUSTOM' && spec.provider === undefined) {
      addProblem(
        context,
        'a CUSTOM policy needs provider.name: the extension provider (envoyExtAuthzHttp) that decides',
        ['provider'],
      );
    }
    if (spec.provider !== undefined && spec.action !== 'CUSTOM') {
      addProblem(context, `provider is only allowed with action CUSTOM (found ${spec.action})`, ['provider']);
    }
    if (spec.action === 'DENY' && (spec.rules === undefined || spec.rules.length === 0)) {
      addProblem(
        context,
        'a DENY policy without rules never applies, so Istio rejects it: add an empty rule `{}` to deny every request',
        ['rules'],
      );
    }
  })
  .transform(foldTargetRefs);

export type AuthorizationPolicySpec = z.output<typeof authorizationPolicySpecSchema>;

export const authorizationPolicyKind: KindDefinition<AuthorizationPolicySpec> = {
  kind: 'AuthorizationPolicy',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  isSecurity: true,
  specSchema: authorizationPolicySpecSchema,
  // experimental.envoy.filters.* is a value, refused by the schema itself.
  unsupportedFields: [],
  deprecatedFields: [targetRefDeprecation],
};
