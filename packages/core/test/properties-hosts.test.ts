// Property-based tests of host names: canonical form, FQDN expansion and wildcard matching.
// Seeds and run counts: ./properties-settings.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalHost, hostMatches, toFqdn } from '../src/index.ts';
import { runs } from './properties-settings.ts';

const hostText = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'B', 'z', '0', '-', '.', '*', '\u0130', '\u212a'), maxLength: 24 }),
  fc.string({ maxLength: 24 }),
  fc.domain(),
);
const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
const nameContext = fc.record({
  namespace: dnsLabel,
  domainSuffix: fc.oneof(
    fc.constant('cluster.local'),
    fc.tuple(dnsLabel, dnsLabel).map((p) => p.join('.')),
  ),
});

describe('hosts', () => {
  it('canonicalHost is idempotent and gives a lower-case name without a trailing dot', () => {
    fc.assert(
      fc.property(hostText, (host) => {
        const canonical = canonicalHost(host);
        expect(canonicalHost(canonical)).toBe(canonical);
        expect(canonical.toLowerCase()).toBe(canonical);
        expect(canonical.endsWith('.')).toBe(false);
      }),
      runs(2000, [['..'], ['reviews..']]),
    );
  });

  it('toFqdn is idempotent, expands dotless names and keeps the others as canonicalHost gives them', () => {
    fc.assert(
      fc.property(hostText, nameContext, (host, context) => {
        const fqdn = toFqdn(host, context);
        expect(toFqdn(fqdn, context)).toBe(fqdn);
        const canonical = canonicalHost(host);
        if (canonical.includes('.') || canonical.includes('*')) expect(fqdn).toBe(canonical);
        else expect(fqdn).toBe(`${canonical}.${context.namespace}.svc.${context.domainSuffix}`);
      }),
      runs(2000, [['reviews..', { namespace: 'default', domainSuffix: 'cluster.local' }]]),
    );
  });

  it('a wildcard covers every name under its domain, and an exact pattern only itself', () => {
    fc.assert(
      fc.property(fc.domain(), fc.oneof(dnsLabel, fc.domain()), hostText, (domain, label, other) => {
        expect(hostMatches(`*.${domain}`, `${label}.${domain}`)).toBe(true);
        expect(hostMatches('*', other)).toBe(true);
        const exact = other.startsWith('*') ? domain : other;
        expect(hostMatches(exact, domain)).toBe(exact === domain);
        expect(hostMatches(exact, `${label}.${domain}`)).toBe(exact === `${label}.${domain}`);
      }),
      runs(1000),
    );
  });
});
