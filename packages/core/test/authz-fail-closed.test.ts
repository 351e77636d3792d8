/**
 * What the engine does with what it cannot evaluate: fields and keys it does not understand (which
 * only a resource that skipped the parser can carry, e.g. one from a newer agent), unknown actions,
 * and HTTP-only fields on TCP traffic. ALLOW rules then never match; DENY rules always do.
 */
import { describe, expect, it } from 'vitest';
import {
  authorizationPolicy,
  decide,
  engineFor,
  engineForUnvalidated,
  isAllowed,
  request,
} from './authz-fixtures.ts';

describe('fail closed: rules Weft does not understand', () => {
  const unknownSourceField = {
    rules: [{ from: [{ source: { principals: ['*'], sourceLabels: { app: 'x' } } }] }],
  };
  const unknownOperationField = {
    rules: [{ to: [{ operation: { methods: ['GET'], headers: { a: 'b' } } }] }],
  };
  const unknownRuleField = { rules: [{ to: [{ operation: { methods: ['GET'] } }], unless: [{ key: 'x' }] }] };
  const unknownConditionKey = { rules: [{ when: [{ key: 'request.geo.country', values: ['NZ'] }] }] };
  const envoyFilterKey = {
    rules: [
      { when: [{ key: 'experimental.envoy.filters.network.mysql_proxy[db.table]', values: ['[update]'] }] },
    ],
  };
  const badIpBlock = { rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/99'] } }] }] };
  const emptyFrom = { rules: [{ from: [] }] };
  const cases = {
    'an unknown source field': unknownSourceField,
    'an unknown operation field': unknownOperationField,
    'an unknown rule field': unknownRuleField,
    'an unknown condition key': unknownConditionKey,
    'an experimental.envoy.filters condition': envoyFilterKey,
    'an address that is not one': badIpBlock,
    'an empty from list': emptyFrom,
  };

  it.each(Object.entries(cases))('an ALLOW rule with %s never matches', (_, spec) => {
    const engine = engineForUnvalidated([{ name: 'odd', spec: { action: 'ALLOW', ...spec } }]);
    expect(decide(engine, request({ peer: undefined }))).toMatchObject({
      isAllowed: false,
      reason: 'no-allow-matched',
    });
    expect(engine.problems.join('\n')).toContain('AuthorizationPolicy/foo/odd');
  });

  it.each(Object.entries(cases))('a DENY rule with %s always matches', (_, spec) => {
    const engine = engineForUnvalidated([{ name: 'odd', spec: { action: 'DENY', ...spec } }]);
    expect(decide(engine, request())).toMatchObject({
      isAllowed: false,
      reason: 'deny-matched',
      policy: 'AuthorizationPolicy/foo/odd',
    });
  });

  it("only the rule that cannot be read fails closed; the policy's other rules work", () => {
    const engine = engineForUnvalidated([
      {
        name: 'mixed',
        spec: {
          action: 'ALLOW',
          rules: [unknownSourceField.rules[0], { to: [{ operation: { methods: ['GET'] } }] }],
        },
      },
    ]);
    expect(isAllowed(engine, { method: 'GET' })).toBe(true);
    expect(isAllowed(engine, { method: 'POST' })).toBe(false);
  });

  it('an action Weft does not know denies every request', () => {
    const engine = engineForUnvalidated([
      { name: 'future', spec: { action: 'RATE_LIMIT', rules: [{ to: [{ operation: { paths: ['/x'] } }] }] } },
      { name: 'allow-all', spec: { action: 'ALLOW', rules: [{}] } },
    ]);
    expect(decide(engine, request({ path: '/y' }))).toMatchObject({
      isAllowed: false,
      reason: 'deny-matched',
      policy: 'AuthorizationPolicy/foo/future',
    });
    expect(engine.problems.join('\n')).toContain('RATE_LIMIT');
  });
});

describe('fail closed: HTTP-only fields on TCP traffic (bad-inputs G3, Istio authz-tcp task)', () => {
  const tcp = { protocol: 'tcp' as const, method: undefined, path: undefined, authority: undefined };

  it('an ALLOW rule with methods never matches TCP; one with ports only does', () => {
    const engine = engineFor([
      authorizationPolicy('allow-get', {
        rules: [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }],
      }),
    ]);
    expect(isAllowed(engine, { ...tcp, destinationPort: 9000 })).toBe(false);
    expect(isAllowed(engine, { method: 'GET', destinationPort: 9000 })).toBe(true);
    const portsOnly = engineFor([
      authorizationPolicy('allow-port', { rules: [{ to: [{ operation: { ports: ['9000'] } }] }] }),
    ]);
    expect(isAllowed(portsOnly, { ...tcp, destinationPort: 9000 })).toBe(true);
    expect(isAllowed(portsOnly, { ...tcp, destinationPort: 9001 })).toBe(false);
  });

  it('a DENY rule drops its HTTP-only fields on TCP, so it denies more', () => {
    const engine = engineFor([
      authorizationPolicy('deny-get', {
        action: 'DENY',
        rules: [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }],
      }),
    ]);
    expect(isAllowed(engine, { ...tcp, destinationPort: 9000 })).toBe(false);
    expect(isAllowed(engine, { ...tcp, destinationPort: 9001 })).toBe(true);
    // Over HTTP the method still counts.
    expect(isAllowed(engine, { method: 'POST', destinationPort: 9000 })).toBe(true);
  });

  it('a DENY on requestPrincipals or headers denies all TCP traffic it could apply to', () => {
    const engine = engineFor([
      authorizationPolicy('deny-jwtless', {
        action: 'DENY',
        rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }] }],
      }),
    ]);
    expect(isAllowed(engine, tcp)).toBe(false);
  });

  it('ALLOW rules without HTTP-only fields still work for TCP', () => {
    const engine = engineFor([
      authorizationPolicy('allow-ns', {
        rules: [
          {
            from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }],
            when: [{ key: 'destination.port', values: ['9000'] }],
          },
        ],
      }),
    ]);
    expect(isAllowed(engine, { ...tcp, destinationPort: 9000 })).toBe(true);
    expect(isAllowed(engine, { ...tcp, destinationPort: 9000, sourceIp: '11.0.0.1' })).toBe(false);
  });

  it('an AUDIT rule with HTTP-only fields does not mark TCP traffic', () => {
    const engine = engineFor([
      authorizationPolicy('audit', { action: 'AUDIT', rules: [{ to: [{ operation: { paths: ['*'] } }] }] }),
    ]);
    expect(decide(engine, request(tcp)).isAudited).toBe(false);
    expect(decide(engine, request()).isAudited).toBe(true);
  });
});
