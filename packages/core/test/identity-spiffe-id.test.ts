/**
 * SPIFFE IDs as the SPIFFE-ID spec defines them (bad-inputs E9): the rules one by one, and
 * properties over generated IDs and byte-level mutations of them (the "fuzz" of §4.3: the parser
 * accepts exactly the spec's language and refuses everything else with a SpiffeIdError).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkTrustDomain,
  isSpiffeId,
  MAX_SPIFFE_ID_BYTES,
  parseSpiffeId,
  SpiffeIdError,
  workloadOf,
  workloadSpiffeId,
} from '../src/security/identity/spiffe-id.ts';

function refusal(text: string): string {
  try {
    parseSpiffeId(text);
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(SpiffeIdError);
    return (error as Error).message;
  }
}

describe('parseSpiffeId', () => {
  it('reads the trust domain and path of a workload ID', () => {
    const id = parseSpiffeId('spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    expect(id).toEqual({
      trustDomain: 'cluster.local',
      path: '/ns/default/sa/bookinfo-reviews',
      uri: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
    });
    expect(workloadOf(id)).toEqual({ namespace: 'default', serviceAccount: 'bookinfo-reviews' });
  });

  it('accepts a trust domain alone, and paths that are not Istio-shaped (which name no workload)', () => {
    expect(parseSpiffeId('spiffe://example.org').path).toBe('');
    expect(workloadOf(parseSpiffeId('spiffe://example.org/payments/db'))).toBeUndefined();
  });

  const refused: [string, string, RegExp][] = [
    ['an upper-case trust domain', 'spiffe://Cluster.local/ns/a/sa/b', /lower case/],
    ['an upper-case scheme', 'SPIFFE://cluster.local/ns/a/sa/b', /must start with "spiffe:\/\/"/],
    ['another scheme', 'https://cluster.local/ns/a/sa/b', /must start with "spiffe:\/\/"/],
    ['a port', 'spiffe://cluster.local:8443/ns/a/sa/b', /no port/],
    ['userinfo', 'spiffe://admin@cluster.local/ns/a/sa/b', /no userinfo/],
    ['an empty trust domain', 'spiffe:///ns/a/sa/b', /trust domain is empty/],
    ['a percent-encoded slash', 'spiffe://cluster.local/ns/a%2Fb/sa/c', /percent-encoded/],
    ['a ".." segment', 'spiffe://cluster.local/ns/../sa/b', /"\.\." segment/],
    ['a "." segment', 'spiffe://cluster.local/ns/./sa/b', /"\." segment/],
    ['a trailing slash', 'spiffe://cluster.local/ns/a/sa/b/', /ends with "\/"/],
    ['an empty segment', 'spiffe://cluster.local/ns//sa/b', /empty segment/],
    ['a query', 'spiffe://cluster.local/ns/a/sa/b?x=1', /no query or fragment/],
    ['a fragment', 'spiffe://cluster.local/ns/a/sa/b#x', /no query or fragment/],
    ['a space', 'spiffe://cluster.local/ns/a b/sa/c', /may only hold/],
    ['a NUL byte', 'spiffe://cluster.local/ns/a\u0000/sa/c', /may only hold/],
    ['non-ASCII letters', 'spiffe://cluster.local/ns/ä/sa/c', /may only hold/],
    ['a trust domain over 255 bytes', `spiffe://${'a'.repeat(256)}/ns/a`, /longer than 255/],
    ['an ID over 2048 bytes', `spiffe://example.org/${'a'.repeat(2048)}`, /longer than 2048/],
  ];
  for (const [what, text, reason] of refused) {
    it(`refuses ${what}`, () => {
      expect(refusal(text)).toMatch(reason);
    });
  }

  it('accepts an ID of exactly 2048 bytes', () => {
    const text = `spiffe://example.org/${'a'.repeat(MAX_SPIFFE_ID_BYTES - 'spiffe://example.org/'.length)}`;
    expect(text.length).toBe(MAX_SPIFFE_ID_BYTES);
    expect(isSpiffeId(text)).toBe(true);
  });

  it('formats workload IDs, and refuses to format one from parts that break the rules', () => {
    expect(workloadSpiffeId('cluster.local', 'default', 'reviews').uri).toBe(
      'spiffe://cluster.local/ns/default/sa/reviews',
    );
    expect(() => workloadSpiffeId('cluster.local', 'a/b', 'reviews')).toThrow(SpiffeIdError);
    expect(() => checkTrustDomain('Cluster.Local')).toThrow(/lower case/);
  });
});

const domainCharacter = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-_');
const segmentCharacter = fc.constantFrom(
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_',
);
const trustDomain = fc.string({ unit: domainCharacter, minLength: 1, maxLength: 40 });
const segment = fc
  .string({ unit: segmentCharacter, minLength: 1, maxLength: 12 })
  .filter((text) => text !== '.' && text !== '..');
const validId = fc
  .tuple(trustDomain, fc.array(segment, { maxLength: 6 }))
  .map(([domain, segments]) => `spiffe://${domain}${segments.map((part) => `/${part}`).join('')}`);

describe('parseSpiffeId properties', () => {
  it('accepts every ID built by the spec grammar and gives it back unchanged', () => {
    fc.assert(
      fc.property(validId, (text) => {
        const id = parseSpiffeId(text);
        expect(id.uri).toBe(text);
        expect(`spiffe://${id.trustDomain}${id.path}`).toBe(text);
      }),
    );
  });

  it('answers any byte-level mutation of a valid ID with a valid ID or a SpiffeIdError, never anything else', () => {
    fc.assert(
      fc.property(
        validId,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('replace', 'insert', 'delete'),
        (text, at, byte, how) => {
          const bytes = Buffer.from(text, 'latin1');
          const index = at % (bytes.length + 1);
          const mutated =
            how === 'insert'
              ? Buffer.concat([bytes.subarray(0, index), Buffer.from([byte]), bytes.subarray(index)])
              : how === 'delete'
                ? Buffer.concat([bytes.subarray(0, index), bytes.subarray(index + 1)])
                : Buffer.concat([bytes.subarray(0, index), Buffer.from([byte]), bytes.subarray(index + 1)]);
          const candidate = mutated.toString('latin1');
          try {
            const id = parseSpiffeId(candidate);
            // Whatever passed obeys the spec's invariants.
            expect(id.trustDomain).toMatch(/^[a-z0-9._-]+$/);
            expect(id.path === '' || /^(\/[A-Za-z0-9._-]+)+$/.test(id.path)).toBe(true);
            expect(id.path.split('/')).not.toContain('..');
          } catch (error) {
            expect(error).toBeInstanceOf(SpiffeIdError);
          }
        },
      ),
    );
  });
});
