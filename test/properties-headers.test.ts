/**
 * Property-based tests of header handling (issue 10): how @weft/http reads a request's headers
 * (every shape undici accepts → one lower-cased record, repeated headers joined one way), how it
 * applies a route's header operations, how cookies are read for hashing, how authorization trims
 * values (bad-inputs D14) and reads the authority (D8–D10); and which header names the config
 * schema lets a VirtualService set. Seeds: support/properties.ts.
 *
 * Already covered elsewhere (not repeated): properties-route-matching.test.ts (header matches
 * end to end, D20 joins), packages/core/test/properties-hosts.test.ts (canonicalHost, toFqdn).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMesh, parseConfig } from '@weft/core';
import { createMeshDispatcher } from '@weft/http';
import fc from 'fast-check';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { RequestFacts } from '../packages/core/src/security/authz/request-facts.ts';
import { parseAuthority } from '../packages/core/src/security/request-path/request-authority.ts';
import {
  applyHeaderOperations,
  type HeaderOperations,
} from '../packages/http/src/outbound/header-operations.ts';
import {
  cookieValue,
  type HeaderRecord,
  headerValue,
  readRequestHeaders,
} from '../packages/http/src/outbound/request-headers.ts';
import { runs } from './support/properties.ts';

/** RFC 9110 token characters (a header name), in both cases. */
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const tokenName = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 8 });
/** Names that collide once lower-cased, so that repeats in other cases are frequent. */
const collidingName = fc.constantFrom('x-a', 'X-A', 'x-A', 'x-b', 'Cookie', 'cookie');
const headerLine = fc.tuple(fc.oneof(collidingName, tokenName), fc.string({ maxLength: 10 }));

describe('reading request headers (@weft/http)', () => {
  it('gives one lower-cased record whatever shape the headers come in: flat array, pairs or record', () => {
    fc.assert(
      fc.property(fc.array(headerLine, { maxLength: 8 }), (lines) => {
        const fromFlat = readRequestHeaders(lines.flat());
        const fromPairs = readRequestHeaders(
          new Map(lines.map((line, index) => [`${index}`, line])).values(),
        );
        expect(fromPairs).toEqual(fromFlat);
        // A record cannot repeat a key; it can repeat a name in another case.
        const unique = new Map(lines.map(([name, text]) => [name, text]));
        const fromRecord = readRequestHeaders(Object.fromEntries(unique));
        expect(fromRecord).toEqual(readRequestHeaders([...unique].flat()));
        for (const name of Object.keys(fromFlat)) expect(name).toBe(name.toLowerCase());
      }),
      runs(500),
    );
  });

  it('keeps every value of a repeated header, in order, and reads it as one value joined with ", "', () => {
    fc.assert(
      fc.property(fc.array(headerLine, { maxLength: 8 }), (lines) => {
        const record = readRequestHeaders(lines.flat());
        const names = new Set(lines.map(([name]) => name.toLowerCase()));
        for (const name of names) {
          const values = lines.filter(([line]) => line.toLowerCase() === name).map(([, text]) => text);
          expect(headerValue(record, name)).toBe(values.join(', '));
          const stored = record[name];
          expect(values.length === 1 ? stored : Array.isArray(stored) && stored).toEqual(
            values.length === 1 ? values[0] : values,
          );
        }
        expect(headerValue(record, 'absent-header')).toBeUndefined();
      }),
      runs(500),
    );
  });
});

describe('header operations (@weft/http)', () => {
  /** The reference: Envoy's order, remove, then set, then add; names compare without case. */
  function reference(
    lines: readonly (readonly [string, string])[],
    operations: HeaderOperations,
  ): Map<string, string[]> {
    const headers = new Map<string, string[]>();
    for (const [name, text] of lines)
      headers.set(name.toLowerCase(), [...(headers.get(name.toLowerCase()) ?? []), text]);
    for (const name of operations.remove ?? []) headers.delete(name.toLowerCase());
    for (const [name, text] of Object.entries(operations.set ?? {})) headers.set(name.toLowerCase(), [text]);
    for (const [name, text] of Object.entries(operations.add ?? {})) {
      headers.set(name.toLowerCase(), [...(headers.get(name.toLowerCase()) ?? []), text]);
    }
    return headers;
  }

  const asMap = (record: HeaderRecord) =>
    new Map(Object.entries(record).map(([name, text]) => [name, Array.isArray(text) ? text : [text]]));

  it('removes, then sets, then adds, as the reference, whatever the case of the names', () => {
    const operations: fc.Arbitrary<HeaderOperations> = fc.record(
      {
        remove: fc.array(collidingName, { maxLength: 2 }),
        set: fc.dictionary(collidingName, fc.string({ maxLength: 4 }), { maxKeys: 2 }),
        add: fc.dictionary(collidingName, fc.string({ maxLength: 4 }), { maxKeys: 2 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(collidingName, fc.string({ maxLength: 4 })), { maxLength: 6 }),
        operations,
        (lines, ops) => {
          // The case-insensitive map keys of `set`/`add` can collide: the later one wins, as in Object.entries.
          const record = readRequestHeaders(lines.flat());
          applyHeaderOperations(record, ops);
          expect(asMap(record)).toEqual(reference(lines, ops));
          // Applying the same set twice changes nothing more.
          const once = structuredClone(record);
          applyHeaderOperations(record, { ...(ops.set === undefined ? {} : { set: ops.set }) });
          applyHeaderOperations(once, { ...(ops.set === undefined ? {} : { set: ops.set }) });
          expect(record).toEqual(once);
        },
      ),
      runs(500),
    );
  });
});

describe('cookies (@weft/http, consistent-hash keys)', () => {
  it('reads the first cookie of a name from a Cookie header, with or without spaces, and nothing else', () => {
    const cookieName = fc.string({ unit: fc.constantFrom(...'abcXYZ_-1'), minLength: 1, maxLength: 4 });
    const cookieText = fc.string({ unit: fc.constantFrom(...'abc123=-_.'), maxLength: 5 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(cookieName, cookieText), { minLength: 1, maxLength: 5 }),
        fc.constantFrom('; ', ';', ', '),
        cookieName,
        (pairs, separator, probe) => {
          const header = pairs.map(([name, text]) => `${name}=${text}`).join(separator);
          const first = pairs.find(([name]) => name === probe);
          expect(cookieValue(header, probe)).toBe(first?.[1]);
          expect(cookieValue(undefined, probe)).toBeUndefined();
        },
      ),
      runs(500),
    );
  });
});

describe('header values as authorization reads them (bad-inputs D14)', () => {
  it('strips surrounding spaces and tabs only, keeps everything inside, and is idempotent', () => {
    const padding = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 3 });
    const other = fc.string({
      unit: fc.constantFrom('a', ' ', '\t', '\r', '\u000b', '\u00a0', '\u0000', ','),
      maxLength: 6,
    });
    fc.assert(
      fc.property(padding, other, padding, (before, inside, after) => {
        const facts = (text: string) =>
          new RequestFacts({ sourceIp: '10.0.0.1', destinationPort: 9080, header: () => text });
        const read = facts(`${before}${inside}${after}`).header('x') ?? '';
        const expected = inside.replace(/^[ \t]+|[ \t]+$/g, '');
        expect(read).toBe(expected);
        expect(facts(read).header('x')).toBe(read);
      }),
      runs(1_000),
    );
  });
});

describe('the authority as authorization reads it (bad-inputs D8–D10)', () => {
  const label = fc.string({ unit: fc.constantFrom(...'abcXYZ019-'), minLength: 1, maxLength: 6 });
  const host = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'));

  it('never throws, and anything it accepts is a lower-case host without port or trailing dot, and a port in range', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 20 })),
        (text) => {
          const authority = parseAuthority(text);
          if (authority === undefined) return;
          expect(authority.host).toBe(authority.host.toLowerCase());
          expect(authority.host.endsWith('.')).toBe(false);
          expect(authority.host).not.toMatch(/[\s/@\\?#]/);
          if (authority.port !== undefined) {
            expect(Number.isInteger(authority.port) && authority.port >= 0 && authority.port <= 65_535).toBe(
              true,
            );
          }
        },
      ),
      runs(2_000),
    );
  });

  it('reads host[.][:port] in any case as the canonical host and that port', () => {
    fc.assert(
      fc.property(
        host,
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 65_535 }), { nil: undefined }),
        (name, dot, port) => {
          const text = `${name}${dot ? '.' : ''}${port === undefined ? '' : `:${port}`}`;
          expect(parseAuthority(text)).toEqual({ host: name.toLowerCase(), port });
          // What the port is does not change what the host is.
          expect(parseAuthority(text)?.host).toBe(parseAuthority(name.toUpperCase())?.host);
        },
      ),
      runs(1_000),
    );
  });
});

describe('finding: header names a VirtualService may set', () => {
  const operationYaml = (name: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - headers: { request: { set: { ${JSON.stringify(name)}: "v" } } }
    route: [{ destination: { host: reviews } }]
`;
  const isAccepted = (name: string) =>
    parseConfig(operationYaml(name)).issues.every((issue) => issue.severity !== 'error');

  it('control: token names and :authority are accepted; empty names and other pseudo-headers are refused', () => {
    fc.assert(
      fc.property(tokenName, (name) => {
        expect(isAccepted(name)).toBe(true);
      }),
      runs(200),
    );
    expect(isAccepted(':authority')).toBe(true);
    expect(isAccepted('')).toBe(false);
    expect(isAccepted(':path')).toBe(false);
  });

  /**
   * Was a finding, fixed by checking names against HEADER_TOKEN. Before: `headers.request.set`/`add` (and `response`, and `remove`) accepted any
   * non-empty name that is not a pseudo-header (packages/core/src/config/kinds/
   * virtual-service-headers.ts checks values for control characters, and names only for ""
   * and ":"). A name that is not an HTTP token ("x y", "x:y", "é", "x\r\ny: 1") passes admission
   * and compiles; then every request on the route fails with 503 ("invalid header key" from
   * undici) — see the next test. Nothing is injected (undici refuses the name), but bad config
   * must be refused at write time with its path (bad-inputs A1), not discovered per request.
   * Fix: check names against HEADER_TOKEN (exported by the same file), ":authority" aside.
   */
  it('every name the schema accepts in a header operation is an HTTP token (or :authority)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 6 }), (name) => {
        if (!isAccepted(name)) return;
        expect(name === ':authority' || /^[!#$%&'*+\-.^_`|~a-z0-9]+$/i.test(name)).toBe(true);
      }),
      runs(300, [['x y']]),
    );
  });

  it('a header operation the schema accepted never makes the route answer 503', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((incoming, response) => {
      seen.push(incoming.headers);
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      for (const name of ['x-token', 'x y', 'x:y']) {
        if (!isAccepted(name)) continue;
        const mesh = createMesh({
          workload: { name: 'productpage', namespace: 'default', serviceAccount: 'productpage', labels: {} },
          config: { yaml: operationYaml(name) },
          workloads: [
            {
              name: 'reviews-0',
              namespace: 'default',
              service: 'reviews',
              serviceAccount: 'reviews',
              labels: { app: 'reviews' },
              address: '127.0.0.1',
              ports: { 9080: port },
            },
          ],
        });
        const dispatcher = createMeshDispatcher(mesh);
        try {
          const response = await request('http://reviews:9080/', { dispatcher });
          await response.body.text();
          expect(`${name}: ${response.statusCode}`).toBe(`${name}: 200`);
        } finally {
          await dispatcher.close();
          mesh.close();
        }
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(seen.length).toBeGreaterThan(0);
  });
});
