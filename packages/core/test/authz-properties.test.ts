// Property-based tests of the authorization engine: compiled matchers agree with naive reference
// matchers (bad-inputs G2), and adding a DENY policy never lets a request in. Seeds and run counts:
// ./properties-settings.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorizationPolicy, engineFor, isAllowed, peer } from './authz-fixtures.ts';
import { runs } from './properties-settings.ts';

/** Istio's value syntax, the obvious way: what the compiled matchers must agree with. */
function referenceMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return value === pattern;
}

const segment = fc.constantFrom('cluster.local', 'td', 'ns', 'sa', 'default', 'foo', 'bar', 'a', '');
const principal = fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/'));
const pattern = fc.oneof(
  principal,
  principal.map((text) => `${text}*`),
  principal.map((text) => `*${text}`),
  fc.constant('*'),
);

describe('authorization properties', () => {
  it('principals: the compiled matcher agrees with the reference on any principal (G2)', () => {
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 3 }), principal, (patterns, candidate) => {
        // The schema refuses empty values and a "*" at both ends; the engine never sees them.
        const usable = patterns.filter((value) => value === '*' || (value !== '' && !/^\*.*\*$/.test(value)));
        fc.pre(usable.length > 0 && candidate !== '');
        const engine = engineFor([
          authorizationPolicy('allow', { rules: [{ from: [{ source: { principals: usable } }] }] }),
        ]);
        const expected = usable.some((value) => referenceMatch(value, candidate));
        expect(isAllowed(engine, { peer: { principal: candidate, trustDomain: 'td' } })).toBe(expected);
      }),
      runs(300, [[['*/ns/foo/sa/bar'], 'cluster.local/ns/foo/sa/bar']]),
    );
  });

  it('hosts: matching ignores case, port and trailing dot, and agrees with the reference', () => {
    const label = fc.constantFrom('api', 'Example', 'com', 'internal', 'a');
    const host = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'));
    const hostPattern = fc.oneof(
      host,
      host.map((text) => `*.${text}`),
      host.map((text) => `${text}.*`),
    );
    fc.assert(
      fc.property(
        hostPattern,
        host,
        fc.option(fc.integer({ min: 1, max: 65_535 })),
        fc.boolean(),
        (policyHost, requestHost, port, trailingDot) => {
          const engine = engineFor([
            authorizationPolicy('allow', { rules: [{ to: [{ operation: { hosts: [policyHost] } }] }] }),
          ]);
          const authority = `${requestHost}${trailingDot ? '.' : ''}${port === null ? '' : `:${port}`}`;
          const expected = referenceMatch(policyHost.toLowerCase(), requestHost.toLowerCase());
          expect(isAllowed(engine, { authority })).toBe(expected);
        },
      ),
      runs(300),
    );
  });

  it('ipBlocks: IPv4 CIDR matching agrees with arithmetic on the address', () => {
    const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
    const toNumber = (o: readonly number[]) => o.reduce((value, octet) => value * 256 + octet, 0);
    fc.assert(
      fc.property(
        octets,
        fc.integer({ min: 0, max: 32 }),
        octets,
        fc.boolean(),
        (network, bits, address, mapped) => {
          const block = `${network.join('.')}/${bits}`;
          const engine = engineFor([
            authorizationPolicy('allow', { rules: [{ from: [{ source: { ipBlocks: [block] } }] }] }),
          ]);
          const size = 2 ** (32 - bits);
          const expected = Math.floor(toNumber(network) / size) === Math.floor(toNumber(address) / size);
          const sourceIp = `${mapped ? '::ffff:' : ''}${address.join('.')}`;
          expect(isAllowed(engine, { sourceIp })).toBe(expected);
        },
      ),
      runs(300, [[[10, 0, 0, 0], 8, [10, 255, 1, 1], true]]),
    );
  });

  it('adding a DENY policy never turns a denial into an allow', () => {
    const method = fc.constantFrom('GET', 'POST', 'DELETE');
    const path = fc.constantFrom('/', '/admin', '/admin/users', '/public', '/api/v1');
    const namespace = fc.constantFrom('default', 'foo', 'bar');
    const operation = fc.record(
      {
        methods: fc.array(method, { minLength: 1, maxLength: 2 }),
        paths: fc.array(
          path.map((p) => (p === '/' ? p : `${p}*`)),
          { minLength: 1, maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    );
    const rule = fc.record(
      {
        to: operation.filter((op) => Object.keys(op).length > 0).map((op) => [{ operation: op }]),
        from: fc
          .array(namespace, { minLength: 1, maxLength: 2 })
          .map((namespaces) => [{ source: { namespaces } }]),
      },
      { requiredKeys: [] },
    );
    const policy = fc.record({
      action: fc.constantFrom('ALLOW', 'DENY'),
      rules: fc.array(rule, { minLength: 1, maxLength: 2 }),
    });
    fc.assert(
      fc.property(
        fc.array(policy, { maxLength: 3 }),
        fc.array(rule, { minLength: 1, maxLength: 2 }),
        method,
        path,
        namespace,
        (policies, denyRules, m, p, ns) => {
          const base = policies.map((spec, i) => authorizationPolicy(`p${i}`, spec));
          const withDeny = [...base, authorizationPolicy('extra-deny', { action: 'DENY', rules: denyRules })];
          const call = { method: m, path: p, peer: peer(ns, 'caller') };
          if (!isAllowed(engineFor(base), call)) expect(isAllowed(engineFor(withDeny), call)).toBe(false);
        },
      ),
      runs(200),
    );
  });
});
