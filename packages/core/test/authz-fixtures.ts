/**
 * Shared pieces of the authorization tests: policies written as users write them (they go through
 * the parser, so the engine sees what a real snapshot holds), an engine for a workload, and
 * requests with sensible defaults.
 */
import { expect } from 'vitest';
import {
  AuthorizationEngine,
  type AuthorizationEngineOptions,
  type AuthorizationPolicyResource,
  type AuthzDecision,
  type AuthzRequest,
  compile,
  type DestinationWorkload,
  formatConfigIssue,
  type PeerIdentity,
  parseConfigObjects,
  peerIdentityFromSpiffeId,
  type RequestAuth,
  type Resource,
} from '../src/index.ts';

export const HTTPBIN: DestinationWorkload = {
  namespace: 'foo',
  labels: { app: 'httpbin' },
  service: 'httpbin',
};

export function authorizationPolicy(name: string, spec: object, namespace = 'foo'): object {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace },
    spec,
  };
}

/** Parses resources as a snapshot would hold them; fails the test on any validation error. */
export function load(...objects: object[]): readonly Resource[] {
  const { resources, issues } = parseConfigObjects(objects);
  const errors = issues.filter((issue) => issue.severity === 'error');
  if (errors.length > 0) expect.fail(errors.map(formatConfigIssue).join('\n'));
  return resources;
}

/** The engine of `workload` (httpbin in `foo` by default) for these policies, as a snapshot gives it. */
export function engineFor(
  policies: readonly object[],
  options: AuthorizationEngineOptions & { readonly workload?: DestinationWorkload } = {},
): AuthorizationEngine {
  const snapshot = compile(load(...policies));
  return new AuthorizationEngine(snapshot.inboundFor(options.workload ?? HTTPBIN).authorization, options);
}

/**
 * An engine for resources that never went through the parser, as a newer agent could send them
 * (`applyResources` trusts its input): how the engine treats what the schema would refuse.
 */
export function engineForUnvalidated(
  specs: readonly { readonly name: string; readonly spec: Record<string, unknown> }[],
): AuthorizationEngine {
  const resources = specs.map(
    ({ name, spec }) =>
      ({
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name, namespace: 'foo', labels: {}, annotations: {} },
        spec,
        source: { file: '<test>' },
      }) as unknown as AuthorizationPolicyResource,
  );
  const snapshot = compile(resources);
  return new AuthorizationEngine(snapshot.inboundFor(HTTPBIN).authorization);
}

export interface TestRequest extends Omit<AuthzRequest, 'header' | 'sourceIp' | 'destinationPort'> {
  readonly headers?: Readonly<Record<string, string>>;
  readonly sourceIp?: string;
  readonly destinationPort?: number;
}

/** A GET / to httpbin on port 8000 from 10.0.0.1, plaintext and unauthenticated unless told otherwise. */
export function request(overrides: TestRequest = {}): AuthzRequest {
  const { headers = {}, ...rest } = overrides;
  const lowerCased = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return {
    method: 'GET',
    path: '/',
    query: '',
    authority: 'httpbin.foo.svc.cluster.local:8000',
    sourceIp: '10.0.0.1',
    destinationIp: '10.0.0.9',
    destinationPort: 8000,
    header: (name) => lowerCased.get(name),
    headerNames: () => lowerCased.keys(),
    ...rest,
  };
}

/** The mTLS identity of `namespace/serviceAccount` in `trustDomain`. */
export function peer(namespace: string, serviceAccount: string, trustDomain = 'cluster.local'): PeerIdentity {
  const identity = peerIdentityFromSpiffeId(`spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`);
  if (identity === undefined) throw new Error('bad test identity');
  return identity;
}

/** What request authentication gives authorization for a token with these claims. */
export function jwtAuth(claims: Record<string, unknown>): RequestAuth {
  const { iss, sub, aud, azp } = claims;
  return {
    ...(typeof iss === 'string' && typeof sub === 'string' ? { principal: `${iss}/${sub}` } : {}),
    audiences:
      typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : [],
    ...(typeof azp === 'string' ? { presenter: azp } : {}),
    claims,
    spaceDelimitedClaims: new Set(['scope', 'permission']),
  };
}

/** The decision for a request the engine decides locally; fails if it needed an external check. */
export function decide(engine: AuthorizationEngine, authzRequest: AuthzRequest): AuthzDecision {
  const decision = engine.authorize(authzRequest);
  if (decision instanceof Promise) expect.fail('expected a local decision, got a pending external check');
  return decision;
}

export function isAllowed(engine: AuthorizationEngine, overrides: TestRequest = {}): boolean {
  return decide(engine, request(overrides)).isAllowed;
}
