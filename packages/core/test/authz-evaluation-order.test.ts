/**
 * How AuthorizationPolicies combine (Istio's reference, "Authorization Policy"): CUSTOM, then DENY,
 * then ALLOW; no ALLOW policy means allow; ALLOW policies that all miss mean deny; AUDIT only marks.
 * External (CUSTOM) checks have their own file, authz-custom.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_DENIED_BODY } from '../src/index.ts';
import { authorizationPolicy, decide, engineFor, isAllowed, request } from './authz-fixtures.ts';

const allowGet = authorizationPolicy('allow-get', {
  action: 'ALLOW',
  rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
});
const denyAdmin = authorizationPolicy('deny-admin', {
  action: 'DENY',
  rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }],
});

describe('authorization: which policies decide', () => {
  it('allows everything when no policy applies to the workload', () => {
    const engine = engineFor([]);
    expect(engine.hasPolicies).toBe(false);
    expect(decide(engine, request({ method: 'DELETE', path: '/admin' }))).toEqual({
      isAllowed: true,
      reason: 'no-allow-policies',
      isAudited: false,
    });
  });

  it('denies everything with an ALLOW policy without rules (allow-nothing)', () => {
    const engine = engineFor([authorizationPolicy('allow-nothing', {})]);
    expect(decide(engine, request())).toEqual({
      isAllowed: false,
      reason: 'no-allow-matched',
      isAudited: false,
      response: { status: 403, body: ACCESS_DENIED_BODY, headers: [] },
    });
  });

  it('allows everything with an ALLOW policy whose one rule is empty (allow-all)', () => {
    const engine = engineFor([authorizationPolicy('allow-all', { rules: [{}] })]);
    expect(decide(engine, request({ method: 'DELETE', path: '/anything' }))).toMatchObject({
      isAllowed: true,
      reason: 'allow-matched',
      policy: 'AuthorizationPolicy/foo/allow-all',
      ruleIndex: 0,
    });
  });

  it('denies everything with a DENY policy whose one rule is empty', () => {
    const engine = engineFor([authorizationPolicy('deny-all', { action: 'DENY', rules: [{}] }), allowGet]);
    expect(decide(engine, request())).toMatchObject({
      isAllowed: false,
      reason: 'deny-matched',
      ruleIndex: 0,
    });
  });

  it('lets DENY win over a matching ALLOW', () => {
    const engine = engineFor([allowGet, denyAdmin]);
    expect(decide(engine, request({ path: '/admin/users' }))).toMatchObject({
      isAllowed: false,
      reason: 'deny-matched',
      policy: 'AuthorizationPolicy/foo/deny-admin',
      response: { status: 403, body: 'RBAC: access denied' },
    });
    expect(isAllowed(engine, { path: '/status' })).toBe(true);
  });

  it('allows what no DENY matches when no ALLOW policy applies', () => {
    const engine = engineFor([denyAdmin]);
    expect(decide(engine, request({ path: '/status' }))).toMatchObject({
      isAllowed: true,
      reason: 'no-allow-policies',
    });
  });

  it('denies what no ALLOW matches once one ALLOW policy applies', () => {
    const engine = engineFor([allowGet]);
    expect(decide(engine, request({ method: 'POST' }))).toMatchObject({
      isAllowed: false,
      reason: 'no-allow-matched',
    });
  });

  it('allows when any of several ALLOW policies matches, naming the first that did', () => {
    const allowPost = authorizationPolicy('allow-post', {
      rules: [{ to: [{ operation: { methods: ['POST'] } }] }],
    });
    const engine = engineFor([allowGet, allowPost]);
    expect(decide(engine, request({ method: 'POST' }))).toMatchObject({
      isAllowed: true,
      policy: 'AuthorizationPolicy/foo/allow-post',
    });
  });

  it('names the rule that matched', () => {
    const engine = engineFor([
      authorizationPolicy('two-rules', {
        rules: [
          { to: [{ operation: { methods: ['POST'] } }] },
          { to: [{ operation: { methods: ['GET'] } }] },
        ],
      }),
    ]);
    expect(decide(engine, request({ method: 'GET' })).ruleIndex).toBe(1);
  });

  it('marks requests an AUDIT policy matches without changing the outcome', () => {
    const audit = authorizationPolicy('audit-admin', {
      action: 'AUDIT',
      rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }],
    });
    const allowedEngine = engineFor([audit]);
    expect(decide(allowedEngine, request({ path: '/admin' }))).toEqual({
      isAllowed: true,
      reason: 'no-allow-policies',
      isAudited: true,
      auditPolicy: 'AuthorizationPolicy/foo/audit-admin',
    });
    expect(decide(allowedEngine, request({ path: '/public' })).isAudited).toBe(false);
    const deniedEngine = engineFor([audit, denyAdmin]);
    expect(decide(deniedEngine, request({ path: '/admin' }))).toMatchObject({
      isAllowed: false,
      reason: 'deny-matched',
      isAudited: true,
    });
  });

  it('does not count AUDIT policies as ALLOW policies', () => {
    const audit = authorizationPolicy('audit-nothing', { action: 'AUDIT' });
    expect(decide(engineFor([audit]), request()).isAllowed).toBe(true);
  });

  it('applies mesh-wide, namespace-wide and selected policies together', () => {
    const meshDeny = authorizationPolicy(
      'mesh-deny-delete',
      { action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] },
      'istio-system',
    );
    const otherWorkload = authorizationPolicy('productpage-only', {
      selector: { matchLabels: { app: 'productpage' } },
    });
    const namespaceAllow = allowGet;
    const engine = engineFor([meshDeny, otherWorkload, namespaceAllow]);
    expect(isAllowed(engine, { method: 'GET' })).toBe(true);
    expect(decide(engine, request({ method: 'DELETE' })).policy).toBe(
      'AuthorizationPolicy/istio-system/mesh-deny-delete',
    );
    // A policy in another namespace without selector does not apply.
    expect(isAllowed(engineFor([authorizationPolicy('elsewhere', {}, 'bar')]))).toBe(true);
  });

  it('hands out the same decision object for the same outcome (no allocation per request)', () => {
    const engine = engineFor([allowGet]);
    expect(decide(engine, request())).toBe(decide(engine, request()));
  });
});

describe('authorization: the decision matrix (bad-inputs G4)', () => {
  // Every combination of: a DENY that matches or not, ALLOW policies absent / matching / missing.
  const cases = [
    { deny: 'none', allow: 'none', expected: true },
    { deny: 'none', allow: 'match', expected: true },
    { deny: 'none', allow: 'miss', expected: false },
    { deny: 'none', allow: 'empty', expected: false },
    { deny: 'match', allow: 'none', expected: false },
    { deny: 'match', allow: 'match', expected: false },
    { deny: 'match', allow: 'miss', expected: false },
    { deny: 'miss', allow: 'none', expected: true },
    { deny: 'miss', allow: 'match', expected: true },
    { deny: 'miss', allow: 'miss', expected: false },
    { deny: 'miss', allow: 'empty', expected: false },
  ] as const;
  const rule = (methods: string[]) => ({ rules: [{ to: [{ operation: { methods } }] }] });

  it.each(cases)('DENY $deny, ALLOW $allow → allowed: $expected', ({ deny, allow, expected }) => {
    const policies: object[] = [];
    if (deny !== 'none')
      policies.push(
        authorizationPolicy('d', { action: 'DENY', ...rule([deny === 'match' ? 'GET' : 'PUT']) }),
      );
    if (allow === 'empty') policies.push(authorizationPolicy('a', { action: 'ALLOW' }));
    else if (allow !== 'none')
      policies.push(
        authorizationPolicy('a', { action: 'ALLOW', ...rule([allow === 'match' ? 'GET' : 'PUT']) }),
      );
    expect(isAllowed(engineFor(policies), { method: 'GET' })).toBe(expected);
  });
});
