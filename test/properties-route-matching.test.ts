/**
 * Property-based tests of route matching over structured inputs (issue 10): random
 * VirtualServices (routes with method, header, withoutHeaders and query-parameter matches of
 * every kind) go through the whole configuration path — parse, validate, compile, route table —
 * and random requests (repeated headers in any case, query strings) through @weft/http's header
 * reading; the route chosen must be the one a small reference of Istio's HTTPMatchRequest
 * semantics chooses. Seeds: support/properties.ts.
 *
 * Already covered in the core package (not repeated): properties-matching.test.ts (string
 * matchers alone, path-only and query decoding), route-matching.test.ts (examples per field).
 */
import { createMesh, type RouteRequest } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerValue, readRequestHeaders } from '../packages/http/src/outbound/request-headers.ts';
import { runs } from './support/properties.ts';

type Match =
  | { readonly exact: string }
  | { readonly prefix: string }
  | { readonly regex: string }
  | Record<string, never>;

interface Block {
  readonly method?: Match;
  readonly headers?: Readonly<Record<string, Match>>;
  readonly withoutHeaders?: Readonly<Record<string, Match>>;
  readonly queryParams?: Readonly<Record<string, Match>>;
}

interface Route {
  readonly name: string;
  readonly match?: readonly Block[];
}

/**
 * Values from a small pool, joined forms of repeated headers included ("a, b" is what a request
 * with `x-a: a` and `x-a: b` must be matched as), so that matches and near misses are frequent.
 */
const value = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', 'a, b', 'b, a', 'a,b', 'a, a', ''),
  fc.string({ unit: fc.constantFrom('a', 'b', '-', ' ', ','), maxLength: 4 }),
);
/** Regexes RE2 and JavaScript read alike (no backreferences, no lookaround). */
const regex = fc.constantFrom('a+', 'a.*', '.*b', '[ab]{2}', 'a|b', '(a, )?b', '.*', 'a-?b', 'a, b', 'a,b');
const stringMatch = (values: fc.Arbitrary<string>): fc.Arbitrary<Match> =>
  fc.oneof(
    values.map((exact) => ({ exact })),
    values.filter((prefix) => prefix !== '').map((prefix) => ({ prefix })), // Weft refuses "" (use {})
    regex.map((pattern) => ({ regex: pattern })),
  );
const headerName = fc.constantFrom('x-a', 'x-b', 'end-user');
const methodMatch = fc.oneof(
  fc.constantFrom('GET', 'POST', 'get').map((exact) => ({ exact })),
  fc.constantFrom('G', 'P').map((prefix) => ({ prefix })),
  fc.constant({ regex: 'GET|PUT' }),
);
const headerMatch = fc.oneof(stringMatch(value), fc.constant({} as Record<string, never>));

const block: fc.Arbitrary<Block> = fc.record(
  {
    method: methodMatch,
    headers: fc.dictionary(headerName, headerMatch, { maxKeys: 2 }),
    withoutHeaders: fc.dictionary(headerName, headerMatch, { maxKeys: 1 }),
    queryParams: fc.dictionary(fc.constantFrom('q', 'r'), stringMatch(value), { maxKeys: 1 }),
  },
  { requiredKeys: [] },
);

const routes: fc.Arbitrary<Route[]> = fc
  .array(fc.option(fc.array(block, { minLength: 1, maxLength: 2 }), { nil: undefined }), {
    minLength: 1,
    maxLength: 4,
  })
  .map((matches) =>
    matches.map((match, index) => ({ name: `r${index}`, ...(match === undefined ? {} : { match }) })),
  );

interface Request {
  readonly method: string;
  /** Header lines as a client writes them: any case, possibly repeated. */
  readonly headers: readonly (readonly [string, string])[];
  readonly query: readonly (readonly [string, string])[];
}

const request: fc.Arbitrary<Request> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'get'),
  headers: fc.array(fc.tuple(fc.constantFrom('x-a', 'X-A', 'x-b', 'End-User', 'x-c'), value), {
    maxLength: 5,
  }),
  query: fc.array(fc.tuple(fc.constantFrom('q', 'r'), value), { maxLength: 3 }),
});

// ---- the reference ------------------------------------------------------------------------------

/** Istio's StringMatch on a value that may be absent: absent matches nothing, `{}` is "present". */
function referenceMatches(match: Match, candidate: string | undefined): boolean {
  if (candidate === undefined) return false;
  if ('exact' in match) return candidate === match.exact;
  if ('prefix' in match) return candidate.startsWith(match.prefix);
  if ('regex' in match) return new RegExp(`^(?:${match.regex})$`, 'u').test(candidate);
  return true;
}

function referenceRoute(table: readonly Route[], input: Request): string | undefined {
  // One canonical value per header: every occurrence, in order, joined with ", " (bad-inputs D20).
  const joined = new Map<string, string[]>();
  for (const [name, text] of input.headers) {
    const key = name.toLowerCase();
    joined.set(key, [...(joined.get(key) ?? []), text]);
  }
  const header = (name: string) => joined.get(name)?.join(', ');
  // Query parameters: the first occurrence wins, as Envoy's.
  const query = (name: string) => input.query.find(([key]) => key === name)?.[1];
  const holds = (candidate: Block) =>
    (candidate.method === undefined || referenceMatches(candidate.method, input.method)) &&
    Object.entries(candidate.headers ?? {}).every(([name, match]) => referenceMatches(match, header(name))) &&
    // Weft's documented withoutHeaders: an absent header satisfies it (route-matching.test.ts).
    Object.entries(candidate.withoutHeaders ?? {}).every(
      ([name, match]) => !referenceMatches(match, header(name)),
    ) &&
    Object.entries(candidate.queryParams ?? {}).every(([name, match]) =>
      referenceMatches(match, query(name)),
    );
  return table.find((route) => route.match === undefined || route.match.some(holds))?.name;
}

// ---- Weft ---------------------------------------------------------------------------------------

function weftRoute(table: readonly Route[], input: Request): string | undefined {
  const mesh = createMesh({
    workload: { name: 'productpage', namespace: 'default', serviceAccount: 'productpage', labels: {} },
    config: {
      objects: [
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'reviews', namespace: 'default' },
          spec: {
            hosts: ['reviews'],
            http: table.map((route) => ({ ...route, route: [{ destination: { host: 'reviews' } }] })),
          },
        },
      ],
    },
  });
  try {
    const routeTable = mesh.outbound.routeTable('reviews.default.svc.cluster.local', 9080);
    if (routeTable === undefined) throw new Error('the VirtualService was not compiled');
    const headers = readRequestHeaders(input.headers.flat());
    const queryString = input.query
      .map(([key, text]) => `${encodeURIComponent(key)}=${encodeURIComponent(text)}`)
      .join('&');
    const routeRequest: RouteRequest = {
      path: `/reviews/1${queryString === '' ? '' : `?${queryString}`}`,
      method: input.method,
      authority: 'reviews:9080',
      scheme: 'http',
      port: 9080,
      header: (name) => headerValue(headers, name),
    };
    return routeTable.match(routeRequest)?.name;
  } finally {
    mesh.close();
  }
}

describe('route matching, end to end from config', () => {
  it('picks the route the reference picks, for any routes and any request', () => {
    fc.assert(
      fc.property(routes, request, (table, input) => {
        expect(weftRoute(table, input)).toBe(referenceRoute(table, input));
      }),
      runs(600),
    );
  });

  it('matches a header sent several times, in any case, as its values joined with ", " in order (bad-inputs D20)', () => {
    const token = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '-', '1'), minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('x-a', 'X-A', 'x-A'), token), { minLength: 1, maxLength: 4 }),
        (lines) => {
          const joined = lines.map(([, text]) => text).join(', ');
          const table: Route[] = [
            { name: 'first-only', match: [{ headers: { 'x-a': { exact: lines[0]?.[1] ?? '' } } }] },
            { name: 'joined', match: [{ headers: { 'x-a': { exact: joined } } }] },
            { name: 'fallback' },
          ];
          const expected = lines.length === 1 ? 'first-only' : 'joined';
          const input: Request = { method: 'GET', headers: lines, query: [] };
          expect(referenceRoute(table, input)).toBe(expected);
          expect(weftRoute(table, input)).toBe(expected);
        },
      ),
      runs(200),
    );
  });
});
