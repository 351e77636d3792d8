/**
 * `from[].source` fields: mTLS identities (principals, namespaces, serviceAccounts, trustDomains),
 * JWT identities (requestPrincipals), addresses (ipBlocks, remoteIpBlocks), and their `not` forms.
 */
import { describe, expect, it } from 'vitest';
import { authorizationPolicy, engineFor, isAllowed, jwtAuth, peer } from './authz-fixtures.ts';

const allowFrom = (source: object) =>
  engineFor([authorizationPolicy('allow', { rules: [{ from: [{ source }] }] })]);
const denyFrom = (source: object) =>
  engineFor([authorizationPolicy('deny', { action: 'DENY', rules: [{ from: [{ source }] }] })]);

const sleep = peer('default', 'sleep');
const token = (iss: string, sub: string) => jwtAuth({ iss, sub });

describe('source: principals', () => {
  it('matches the peer identity without the spiffe:// scheme', () => {
    const engine = allowFrom({ principals: ['cluster.local/ns/default/sa/sleep'] });
    expect(isAllowed(engine, { peer: sleep })).toBe(true);
    expect(isAllowed(engine, { peer: peer('default', 'other') })).toBe(false);
  });

  it('needs an mTLS identity: a plaintext caller matches no principal, not even "*"', () => {
    expect(isAllowed(allowFrom({ principals: ['*'] }), {})).toBe(false);
    expect(isAllowed(allowFrom({ principals: ['*'] }), { peer: sleep })).toBe(true);
  });

  it('supports prefix and suffix matches (bad-inputs G2: the suffix is matched on the principal itself)', () => {
    expect(isAllowed(allowFrom({ principals: ['cluster.local/ns/default/*'] }), { peer: sleep })).toBe(true);
    expect(isAllowed(allowFrom({ principals: ['*/ns/default/sa/sleep'] }), { peer: sleep })).toBe(true);
    expect(
      isAllowed(allowFrom({ principals: ['*/ns/default/sa/sleep'] }), {
        peer: peer('default', 'sleep', 'other.td'),
      }),
    ).toBe(true);
    expect(isAllowed(allowFrom({ principals: ['*/ns/other/sa/sleep'] }), { peer: sleep })).toBe(false);
  });

  it('reads a principal written with spiffe:// as Istio means it', () => {
    expect(
      isAllowed(allowFrom({ principals: ['spiffe://cluster.local/ns/default/sa/sleep'] }), { peer: sleep }),
    ).toBe(true);
  });

  it('denies listed principals and lets others through', () => {
    const engine = denyFrom({ principals: ['cluster.local/ns/default/sa/sleep'] });
    expect(isAllowed(engine, { peer: sleep })).toBe(false);
    expect(isAllowed(engine, { peer: peer('default', 'curl') })).toBe(true);
  });

  it('notPrincipals: a DENY catches everyone else, plaintext callers included', () => {
    const engine = denyFrom({ notPrincipals: ['cluster.local/ns/default/sa/sleep'] });
    expect(isAllowed(engine, { peer: sleep })).toBe(true);
    expect(isAllowed(engine, { peer: peer('default', 'curl') })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it('notPrincipals: an ALLOW never lets a plaintext caller in (Weft; Istio would match it)', () => {
    const engine = allowFrom({ notPrincipals: ['cluster.local/ns/default/sa/blocked'] });
    expect(isAllowed(engine, { peer: sleep })).toBe(true);
    expect(isAllowed(engine, { peer: peer('default', 'blocked') })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });
});

describe('source: namespaces, serviceAccounts, trustDomains', () => {
  it('derives the namespace from the peer identity', () => {
    const engine = allowFrom({ namespaces: ['default', 'test*'] });
    expect(isAllowed(engine, { peer: sleep })).toBe(true);
    expect(isAllowed(engine, { peer: peer('testing', 'x') })).toBe(true);
    expect(isAllowed(engine, { peer: peer('prod', 'x') })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it('namespaces: ["*"] requires mTLS (Istio best practice for PERMISSIVE)', () => {
    const engine = allowFrom({ namespaces: ['*'] });
    expect(isAllowed(engine, { peer: sleep })).toBe(true);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it('notNamespaces in a DENY refuses other namespaces and plaintext', () => {
    const engine = denyFrom({ notNamespaces: ['default'] });
    expect(isAllowed(engine, { peer: sleep })).toBe(true);
    expect(isAllowed(engine, { peer: peer('other', 'sleep') })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it("reads a service account without namespace in the policy's namespace", () => {
    const engine = allowFrom({ serviceAccounts: ['sleep', 'default/curl'] });
    expect(isAllowed(engine, { peer: peer('foo', 'sleep') })).toBe(true);
    expect(isAllowed(engine, { peer: peer('default', 'sleep') })).toBe(false);
    expect(isAllowed(engine, { peer: peer('default', 'curl') })).toBe(true);
  });

  it('notServiceAccounts', () => {
    const engine = denyFrom({ notServiceAccounts: ['foo/sleep'] });
    expect(isAllowed(engine, { peer: peer('foo', 'sleep') })).toBe(true);
    expect(isAllowed(engine, { peer: peer('foo', 'curl') })).toBe(false);
  });

  it('trustDomains and notTrustDomains', () => {
    expect(isAllowed(allowFrom({ trustDomains: ['cluster.local'] }), { peer: sleep })).toBe(true);
    expect(
      isAllowed(allowFrom({ trustDomains: ['cluster.local'] }), {
        peer: peer('default', 'sleep', 'evil.td'),
      }),
    ).toBe(false);
    expect(
      isAllowed(denyFrom({ notTrustDomains: ['cluster.local'] }), {
        peer: peer('default', 'sleep', 'evil.td'),
      }),
    ).toBe(false);
  });

  it("a peer ID without Istio's /ns/…/sa/… shape has a principal but no namespace", () => {
    const odd = { principal: 'example.org/workload/7', trustDomain: 'example.org' };
    expect(isAllowed(allowFrom({ principals: ['example.org/*'] }), { peer: odd })).toBe(true);
    expect(isAllowed(allowFrom({ namespaces: ['*'] }), { peer: odd })).toBe(false);
  });
});

describe('source: requestPrincipals', () => {
  it('matches <iss>/<sub> of the verified token', () => {
    const engine = allowFrom({ requestPrincipals: ['https://issuer.example.com/alice'] });
    expect(isAllowed(engine, { auth: token('https://issuer.example.com', 'alice') })).toBe(true);
    expect(isAllowed(engine, { auth: token('https://issuer.example.com', 'bob') })).toBe(false);
    expect(isAllowed(engine, {})).toBe(false);
  });

  it('"*" requires any valid token; "<iss>/*" any subject of one issuer', () => {
    expect(isAllowed(allowFrom({ requestPrincipals: ['*'] }), { auth: token('a', 'b') })).toBe(true);
    expect(isAllowed(allowFrom({ requestPrincipals: ['*'] }), {})).toBe(false);
    expect(
      isAllowed(allowFrom({ requestPrincipals: ['https://issuer.example.com/*'] }), {
        auth: token('https://issuer.example.com', 'x'),
      }),
    ).toBe(true);
    expect(
      isAllowed(allowFrom({ requestPrincipals: ['https://issuer.example.com/*'] }), {
        auth: token('https://other.example.com', 'x'),
      }),
    ).toBe(false);
  });

  it('a token without sub has no request principal', () => {
    expect(
      isAllowed(allowFrom({ requestPrincipals: ['*'] }), {
        auth: jwtAuth({ iss: 'https://issuer.example.com' }),
      }),
    ).toBe(false);
  });

  it('DENY notRequestPrincipals ["*"] refuses requests without a token (Istio\'s require-JWT pattern)', () => {
    const engine = denyFrom({ notRequestPrincipals: ['*'] });
    expect(isAllowed(engine, {})).toBe(false);
    expect(isAllowed(engine, { auth: token('a', 'b') })).toBe(true);
  });
});

describe('source: ipBlocks and remoteIpBlocks', () => {
  it('matches single addresses and CIDR blocks, IPv4 and IPv6', () => {
    const engine = allowFrom({ ipBlocks: ['203.0.113.4', '10.0.0.0/8', '2001:db8::/32'] });
    expect(isAllowed(engine, { sourceIp: '203.0.113.4' })).toBe(true);
    expect(isAllowed(engine, { sourceIp: '203.0.113.5' })).toBe(false);
    expect(isAllowed(engine, { sourceIp: '10.200.3.4' })).toBe(true);
    expect(isAllowed(engine, { sourceIp: '11.0.0.1' })).toBe(false);
    expect(isAllowed(engine, { sourceIp: '2001:db8:1::7' })).toBe(true);
    expect(isAllowed(engine, { sourceIp: '2001:db9::7' })).toBe(false);
  });

  it('treats an IPv4-mapped IPv6 peer (a dual-stack Node server) as its IPv4 address', () => {
    expect(isAllowed(allowFrom({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '::ffff:10.1.2.3' })).toBe(true);
    expect(isAllowed(denyFrom({ ipBlocks: ['10.0.0.0/8'] }), { sourceIp: '::ffff:10.1.2.3' })).toBe(false);
  });

  it('handles /0, /32, /128 and non-byte prefix lengths', () => {
    expect(isAllowed(allowFrom({ ipBlocks: ['0.0.0.0/0'] }), { sourceIp: '198.51.100.1' })).toBe(true);
    expect(isAllowed(allowFrom({ ipBlocks: ['0.0.0.0/0'] }), { sourceIp: '::1' })).toBe(false);
    expect(isAllowed(allowFrom({ ipBlocks: ['198.51.100.1/32'] }), { sourceIp: '198.51.100.1' })).toBe(true);
    expect(isAllowed(allowFrom({ ipBlocks: ['::1/128'] }), { sourceIp: '::1' })).toBe(true);
    expect(isAllowed(allowFrom({ ipBlocks: ['10.0.0.0/9'] }), { sourceIp: '10.127.0.1' })).toBe(true);
    expect(isAllowed(allowFrom({ ipBlocks: ['10.0.0.0/9'] }), { sourceIp: '10.128.0.1' })).toBe(false);
    expect(isAllowed(allowFrom({ ipBlocks: ['2001:db8::/33'] }), { sourceIp: '2001:db8:8000::1' })).toBe(
      false,
    );
  });

  it('notIpBlocks', () => {
    const engine = denyFrom({ notIpBlocks: ['10.0.0.0/8'] });
    expect(isAllowed(engine, { sourceIp: '10.0.0.1' })).toBe(true);
    expect(isAllowed(engine, { sourceIp: '192.168.0.1' })).toBe(false);
  });

  it("remoteIpBlocks read the original client address, the peer's when none is given", () => {
    const engine = denyFrom({ remoteIpBlocks: ['198.51.100.0/24'] });
    expect(isAllowed(engine, { sourceIp: '10.0.0.1', remoteIp: '198.51.100.7' })).toBe(false);
    expect(isAllowed(engine, { sourceIp: '198.51.100.7' })).toBe(false);
    expect(isAllowed(engine, { sourceIp: '198.51.100.7', remoteIp: '10.0.0.1' })).toBe(true);
    expect(isAllowed(denyFrom({ notRemoteIpBlocks: ['10.0.0.0/8'] }), { remoteIp: '8.8.8.8' })).toBe(false);
  });
});

describe('source: combining fields and sources', () => {
  it('ANDs the fields of one source and ORs the sources of one rule', () => {
    const both = allowFrom({ namespaces: ['default'], ipBlocks: ['10.0.0.0/8'] });
    expect(isAllowed(both, { peer: sleep, sourceIp: '10.0.0.1' })).toBe(true);
    expect(isAllowed(both, { peer: sleep, sourceIp: '11.0.0.1' })).toBe(false);
    const either = engineFor([
      authorizationPolicy('allow', {
        rules: [
          { from: [{ source: { namespaces: ['default'] } }, { source: { ipBlocks: ['11.0.0.0/8'] } }] },
        ],
      }),
    ]);
    expect(isAllowed(either, { peer: sleep, sourceIp: '12.0.0.1' })).toBe(true);
    expect(isAllowed(either, { sourceIp: '11.0.0.1' })).toBe(true);
    expect(isAllowed(either, { sourceIp: '12.0.0.1' })).toBe(false);
  });

  it('a field and its not form together: in the one list and not in the other', () => {
    const engine = allowFrom({ namespaces: ['prod*'], notNamespaces: ['prod-legacy'] });
    expect(isAllowed(engine, { peer: peer('prod-eu', 'x') })).toBe(true);
    expect(isAllowed(engine, { peer: peer('prod-legacy', 'x') })).toBe(false);
  });
});
