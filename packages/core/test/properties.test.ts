/**
 * Property-based tests (house style rule 18) for the parsers, matchers and normalizers of
 * @weft/core. Every property runs with a fixed seed so a failure reproduces; set FC_NUM_RUNS to
 * run more cases (e.g. `FC_NUM_RUNS=20000 vitest run packages/core/test/properties.test.ts`).
 * An input that once broke a property belongs in ./corpus/ too, where corpus-replay.test.ts
 * replays it on every run.
 */
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it, vi } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import {
  mergeTrafficPolicy,
  type PortLevelPolicyShape,
  type TrafficPolicyShape,
} from '../src/config/compile/traffic-policy-merge.ts';
import {
  type ConfigIssue,
  canonicalHost,
  hostMatches,
  type ParsedConfig,
  parseConfig,
  parseConfigObjects,
  parseDurationMs,
  type Resource,
  toFqdn,
} from '../src/index.ts';
import { compileHttpMatch, type HttpMatchConditions } from '../src/routing/http-match.ts';
import { compileRetryPolicy } from '../src/routing/retry-policy.ts';
import { pathOnly, queryParameter, type RouteRequest } from '../src/routing/route-request.ts';
import { type CompiledRoute, RouteTable } from '../src/routing/route-table.ts';
import { compileStringMatch } from '../src/routing/string-matcher.ts';
import { readBookinfo } from './bookinfo-fixtures.ts';

const SEED = 20_260_611;
const EXTRA_RUNS = Number(process.env.FC_NUM_RUNS);
// A long run (FC_NUM_RUNS=20000 takes minutes) must not trip vitest's 20 s test timeout.
if (Number.isInteger(EXTRA_RUNS)) vi.setConfig({ testTimeout: 3_600_000 });

/** `numRuns` for this property, or more when FC_NUM_RUNS asks for a longer run. */
function runs<T>(numRuns: number, examples: T[] = []): fc.Parameters<T> {
  const count = Number.isInteger(EXTRA_RUNS) && EXTRA_RUNS > numRuns ? EXTRA_RUNS : numRuns;
  return { seed: SEED, numRuns: count, examples };
}

// --- invariants every parse result keeps ---------------------------------------------------------

const SEVERITIES = new Set(['error', 'warning']);

function expectWellFormedIssue(issue: ConfigIssue, file: (name: string) => boolean): void {
  expect(SEVERITIES.has(issue.severity), `severity ${issue.severity}`).toBe(true);
  for (const field of ['code', 'resource', 'message'] as const) {
    expect(typeof issue[field] === 'string' && issue[field] !== '', `${field} of ${issue.code}`).toBe(true);
  }
  expect(typeof issue.path).toBe('string');
  expect(file(issue.location.file), `location.file ${issue.location.file}`).toBe(true);
  for (const position of [issue.location.line, issue.location.column]) {
    if (position !== undefined) expect(Number.isInteger(position) && position >= 1).toBe(true);
  }
}

/** Plain JSON data (objects, arrays, strings, finite numbers, booleans, null), frozen all the way down. */
function isFrozenJson(value: unknown): boolean {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') {
    return true;
  }
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return false;
  return Object.isFrozen(value) && Object.values(value).every(isFrozenJson);
}

function expectWellFormed(result: ParsedConfig, file: (name: string) => boolean): void {
  for (const issue of result.issues) expectWellFormedIssue(issue, file);
  for (const resource of result.resources) {
    expect(isFrozenJson(resource), `${resource.kind}/${resource.metadata.name} is frozen JSON`).toBe(true);
  }
}

const isFile = (name: string) => (file: string) => file === name;
const isObjectInput = (file: string) => /^<input>\[\d+\]$/.test(file);

/** A resource without its source position, which moves when other documents change length. */
function withoutSource({ source: _source, ...rest }: Resource): Omit<Resource, 'source'> {
  return rest;
}

// --- 1. durations ------------------------------------------------------------------------------

/** Milliseconds per unit, written out independently of duration.ts. */
const GO_UNIT_MS: readonly (readonly [string, number])[] = [
  ['h', 60 * 60 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
  ['us', 1 / 1000],
  ['\u00b5s', 1 / 1000], // MICRO SIGN
  ['ns', 1 / 1_000_000],
];
const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const amount = fc.oneof(
  digits(1, 6),
  fc.tuple(digits(1, 4), digits(0, 4)).map(([whole, fraction]) => `${whole}.${fraction}`),
  digits(1, 4).map((fraction) => `.${fraction}`),
);
const durationTerm = fc.record({ amount, unit: fc.constantFrom(...GO_UNIT_MS) });

function expectDurationClose(text: string, expectedMs: number): void {
  const parsed = parseDurationMs(text);
  expect(parsed, text).toMatchObject({ ok: true });
  if (parsed.ok) expect(Math.abs(parsed.ms - expectedMs)).toBeLessThanOrEqual(1e-9 * Math.max(1, expectedMs));
}

describe('parseDurationMs', () => {
  it('reads any Go-style duration as the sum of its terms', () => {
    fc.assert(
      fc.property(fc.array(durationTerm, { minLength: 1, maxLength: 4 }), (terms) => {
        const text = terms.map(({ amount, unit: [unit] }) => `${amount}${unit}`).join('');
        fc.pre(text.length <= 64);
        const expected = terms.reduce((sum, { amount, unit: [, ms] }) => sum + Number(amount) * ms, 0);
        expectDurationClose(text, expected);
      }),
      runs(2000),
    );
  });

  it('accepts the Greek small letter mu for microseconds, as Go does ("1000μs" is 1 ms)', () => {
    // Go's time.ParseDuration accepts both U+00B5 MICRO SIGN and U+03BC GREEK SMALL LETTER MU.
    expectDurationClose('1000\u03bcs', 1);
    expectDurationClose('1s500\u03bcs', 1000.5);
  });

  it('returns a finite non-negative number or a reason for any text, and never throws', () => {
    const alphabet = fc.constantFrom(...'0123456789.hmsun\u00b5\u03bc -+eE_', 'ms', 'us', 'ns');
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: alphabet, maxLength: 40 })),
        (text) => {
          const parsed = parseDurationMs(text);
          if (parsed.ok) expect(Number.isFinite(parsed.ms) && parsed.ms >= 0, text).toBe(true);
          else expect(parsed.reason).toMatch(/\S/);
        },
      ),
      runs(3000),
    );
  });

  it('refuses any text longer than 64 characters, even a valid-looking one', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 65 }),
          digits(65, 200).map((d) => `${d}s`),
        ),
        (text) => {
          fc.pre(text.length > 64);
          expect(parseDurationMs(text).ok).toBe(false);
        },
      ),
      runs(500),
    );
  });
});

// --- 2. hosts ----------------------------------------------------------------------------------

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

// --- 3. the config parser ----------------------------------------------------------------------

const KIND_API_VERSIONS: Readonly<Record<string, string>> = {
  VirtualService: 'networking.istio.io/v1',
  DestinationRule: 'networking.istio.io/v1',
  ServiceEntry: 'networking.istio.io/v1',
  Sidecar: 'networking.istio.io/v1',
  Gateway: 'networking.istio.io/v1',
  WorkloadEntry: 'networking.istio.io/v1',
  AuthorizationPolicy: 'security.istio.io/v1',
  PeerAuthentication: 'security.istio.io/v1',
  RequestAuthentication: 'security.istio.io/v1',
  Telemetry: 'telemetry.istio.io/v1',
  // Kubernetes' Service is a kind the parser keeps too; its spec passes unknown fields through.
  Service: 'v1',
};

/** Field names from Istio's schemas, so random specs reach past the first strict-object check. */
const FIELD_NAMES = (
  'action address addresses attempts audiences authority baseEjectionTime body caCertificates ' +
  'connectTimeout connectionPool consecutive5xxErrors consecutiveErrors consistentHash corsPolicy ' +
  'credentialName delegate destination directResponse egress endpoints exact exportTo fault fixedDelay ' +
  'from gateways headers host hosts http http1MaxPendingRequests httpHeaderName ignoreUriCase ingress ' +
  'interval issuer jwksUri jwtRules labels loadBalancer localityLbSetting match matchLabels ' +
  'maxEjectionPercent methods mirror mirrorPercentage mode mtls name namespaces notPaths number ' +
  'outboundTrafficPolicy outlierDetection paths percentage perTryTimeout port portLevelMtls ' +
  'portLevelSettings ports prefix principals protocol providers queryParams redirect regex resolution ' +
  'retries retryOn rewrite route rules selector servers simple subset subsets tcp timeout tls to ' +
  'tracing trafficPolicy uri value values weight when withoutHeaders workloadSelector'
).split(' ');
const LEAF_STRINGS = [
  'reviews',
  'reviews.default.svc.cluster.local',
  '*.example.com',
  '*',
  'v1',
  '1.5s',
  '100ms',
  '0',
  '-1s',
  '1h2m',
  '(a+)+$',
  '(a)\\1',
  '^/api/.*',
  '/api',
  'GET',
  'ROUND_ROBIN',
  'ISTIO_MUTUAL',
  'STRICT',
  'ALLOW',
  'DENY',
  'MESH_EXTERNAL',
  'DNS',
  'http',
  'x-user',
  '10.0.0.0/8',
  'spiffe://cluster.local/ns/default/sa/bookinfo',
  '',
];
const leaf = fc.oneof(
  fc.constantFrom(...LEAF_STRINGS),
  fc.integer({ min: -2, max: 70_000 }),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
);
const { object: istioLikeObject } = fc.letrec<{ node: unknown; array: unknown[]; object: object }>((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 3 }),
  object: fc.dictionary(fc.constantFrom(...FIELD_NAMES), tie('node'), { maxKeys: 5 }),
}));

function resourceOf(specArbitrary: fc.Arbitrary<unknown>) {
  return fc
    .record(
      {
        kind: fc.constantFrom(...Object.keys(KIND_API_VERSIONS)),
        name: fc.oneof(fc.constantFrom('reviews', 'a', 'x-1.y'), fc.string({ maxLength: 8 })),
        namespace: fc.option(fc.constantFrom('default', 'foo', 'Bad_NS'), { nil: undefined }),
        spec: specArbitrary,
      },
      { requiredKeys: ['kind', 'name', 'spec'] },
    )
    .map(({ kind, name, namespace, spec }) => ({
      apiVersion: KIND_API_VERSIONS[kind],
      kind,
      metadata: namespace === undefined ? { name } : { name, namespace },
      spec,
    }));
}

/** YAML's syntax in pieces, so random text reaches past the tokenizer. */
const YAML_TOKENS = fc.constantFrom(
  ...['\n', '  ', ' ', '- ', ': ', '---\n', '...\n', '{', '}', '[', ']', ',', '&a ', '*a', '<<: ', '!!str '],
  ...['!!binary ', '!!set ', '? ', '|\n', '>-\n', '#', '"', "'", '\\u0000', '%YAML 1.2\n', '\t', '\ufeff'],
  ...['apiVersion', 'networking.istio.io/v1', 'kind', 'VirtualService', 'metadata', 'name', 'spec'],
  ...['hosts', 'reviews', '__proto__', 'null', '~', '1e999', '0x1F', '.nan', 'true'],
);
const anyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
  fc.array(YAML_TOKENS, { maxLength: 60 }).map((tokens) => tokens.join('')),
);

/** The Bookinfo documents as plain values, with the index of each one the parser turns into a resource. */
const BOOKINFO_FILES = [
  'bookinfo-gateway.yaml',
  'destination-rule-all.yaml',
  'virtual-service-all-v1.yaml',
  'bookinfo.yaml',
];
const BOOKINFO_DOCUMENTS: readonly unknown[] = BOOKINFO_FILES.flatMap((file) =>
  parseAllDocuments(readBookinfo(file))
    .map((document) => document.toJS() as unknown)
    .filter((value) => value !== null),
);
const BOOKINFO_RESOURCES = BOOKINFO_DOCUMENTS.map((document) => parseConfigObjects([document]).resources);
const RESOURCE_INDEXES = BOOKINFO_RESOURCES.flatMap((resources, index) =>
  resources.length > 0 ? [index] : [],
);

/** Every path to an object (not array) inside a value, the root included. */
function objectPaths(value: unknown, path: readonly (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [];
  const own = Array.isArray(value) ? [] : [[...path]];
  return [
    ...own,
    ...Object.entries(value).flatMap(([key, child]) =>
      objectPaths(child, [...path, Array.isArray(value) ? Number(key) : key]),
    ),
  ];
}

function at(root: unknown, path: readonly (string | number)[]): Record<string, unknown> {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root) as Record<
    string,
    unknown
  >;
}

type Mutation = (document: Record<string, unknown>) => void;
/** Edits that always make a resource invalid, whatever its kind. */
const invalidatingMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.array(fc.integer())).map(
    (spec): Mutation =>
      (document) => {
        document.spec = spec;
      },
  ),
  fc.constantFrom('Bad_Name', 'UPPER', '-x', '', 'a'.repeat(254)).map(
    (name): Mutation =>
      (document) => {
        at(document, ['metadata']).name = name;
      },
  ),
  fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.nat()).map(
    ([key, pick]): Mutation =>
      (document) => {
        const paths = objectPaths(document);
        const target = at(document, paths[pick % paths.length] ?? []);
        Object.defineProperty(target, key, { value: { polluted: true }, enumerable: true, writable: true });
      },
  ),
  fc.constantFrom<Mutation>(
    (document) => {
      document.apiVersion = `${String(document.apiVersion).replace(/v1$/, '')}v0alpha0`;
    },
    (document) => {
      document.kind = 'NoSuchKind';
    },
  ),
);

const raw = (apiVersion: string, kind: string, spec: unknown) => ({
  apiVersion,
  kind,
  metadata: { name: 'r' },
  spec,
});
/** Counterexamples the fc.anything property found; replayed first on every run. */
const KNOWN_NON_JSON_SPECS: [unknown[]][] = [
  [[raw('telemetry.istio.io/v1', 'Telemetry', new Uint8Array([0]))]],
  [[raw('telemetry.istio.io/v1', 'Telemetry', new String(' '))]],
  [[raw('v1', 'Service', { clusterIP: new Uint8Array([10]) })]],
  [[raw('v1', 'Service', { externalIPs: new Set(['10.0.0.1']) })]],
];

describe('parseConfig and parseConfigObjects', () => {
  it('never throw on arbitrary text, and every issue is complete', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expectWellFormed(parseConfig(text, { file: 'fuzz.yaml' }), isFile('fuzz.yaml'));
      }),
      runs(1500),
    );
  });

  it('never throw on arbitrary JSON specs of every known kind', () => {
    fc.assert(
      fc.property(
        fc.array(resourceOf(fc.oneof(fc.jsonValue(), istioLikeObject)), { maxLength: 4 }),
        (raws) => {
          expectWellFormed(parseConfigObjects(raws), isObjectInput);
          expectWellFormed(parseConfig(JSON.stringify(raws), { file: 'fuzz.json' }), isFile('fuzz.json'));
        },
      ),
      runs(400),
    );
  });

  it('never throw on arbitrary JavaScript values as specs, and return only frozen JSON', () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
    });
    fc.assert(
      fc.property(fc.array(resourceOf(anything), { maxLength: 3 }), (raws) => {
        expectWellFormed(parseConfigObjects(raws), isObjectInput);
      }),
      runs(800, KNOWN_NON_JSON_SPECS),
    );
  });

  it('read the same resources from YAML text as from the objects it was written from', () => {
    fc.assert(
      fc.property(fc.array(resourceOf(istioLikeObject), { minLength: 1, maxLength: 4 }), (raws) => {
        const text = raws.map((raw) => stringify(raw)).join('---\n');
        const fromText = parseConfig(text, { file: 'fuzz.yaml' });
        const fromObjects = parseConfigObjects(raws);
        expectWellFormed(fromText, isFile('fuzz.yaml'));
        expect(fromText.resources.map(withoutSource)).toEqual(fromObjects.resources.map(withoutSource));
        const gist = ({ severity, code, resource, path, message }: ConfigIssue) =>
          `${severity} ${code} ${resource} ${path} ${message}`;
        expect(fromText.issues.map(gist)).toEqual(fromObjects.issues.map(gist));
      }),
      runs(300),
    );
  });

  it('give deep-equal results when the same text is parsed twice', () => {
    const bookinfoEdit = fc
      .tuple(fc.constantFrom(...RESOURCE_INDEXES), fc.nat(), fc.constantFrom(...FIELD_NAMES), leaf)
      .map(([index, pick, key, value]) => {
        const document = structuredClone(BOOKINFO_DOCUMENTS[index]);
        const paths = objectPaths(document);
        at(document, paths[pick % paths.length] ?? [])[key] = value;
        return stringify(document);
      });
    fc.assert(
      fc.property(fc.oneof(anyText, bookinfoEdit), (text) => {
        const first = parseConfig(text);
        expectWellFormed(first, isFile('<input>'));
        expect(parseConfig(text)).toEqual(first);
      }),
      runs(400),
    );
  });

  it('one resource made invalid leaves every other resource of the input parsed (bad-inputs A7)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RESOURCE_INDEXES), invalidatingMutation, (victim, mutate) => {
        const documents = structuredClone(BOOKINFO_DOCUMENTS) as Record<string, unknown>[];
        const document = documents[victim];
        if (document === undefined) throw new Error(`no document ${victim}`);
        mutate(document);
        const expected = BOOKINFO_RESOURCES.flatMap((resources, index) =>
          index === victim ? [] : resources,
        );
        for (const parsed of [
          parseConfig(documents.map((each) => stringify(each)).join('---\n'), { file: 'bookinfo.yaml' }),
          parseConfigObjects(documents),
        ]) {
          expect(parsed.resources.map(withoutSource)).toEqual(expected.map(withoutSource));
          expect(parsed.issues.some((issue) => issue.severity === 'error')).toBe(true);
        }
      }),
      runs(80),
    );
  });
});

// --- 4. route matching -------------------------------------------------------------------------

/** Letters whose case mapping is not one-to-one in Unicode, mixed with plain ASCII. */
const trickyUnit = fc.constantFrom(
  ...'aAbBiI/-.',
  '\u0130',
  '\u0131',
  '\u00df',
  '\u1e9e',
  '\u212a',
  '\u017f',
  '\u03a3',
);
const asciiText = fc.string({ unit: fc.constantFrom(...'aAbBzZ/-._?=&%09'), maxLength: 12 });
const unicodeText = fc.oneof(
  fc.string({ unit: trickyUnit, maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
/** A value and a candidate that often shares a prefix with it, in either case. */
const valueAndCandidate = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(text, text, fc.constantFrom('same', 'upper', 'lower', 'other'))
    .map(([expected, suffix, shape]) => {
      if (shape === 'other') return [expected, suffix] as const;
      const head =
        shape === 'upper' ? expected.toUpperCase() : shape === 'lower' ? expected.toLowerCase() : expected;
      return [expected, head + suffix] as const;
    });

describe('compileStringMatch', () => {
  it('exact and prefix agree with ===, startsWith and their lower-cased forms on ASCII', () => {
    fc.assert(
      fc.property(valueAndCandidate(asciiText), ([expected, value]) => {
        const exact = { type: 'exact', value: expected } as const;
        const prefix = { type: 'prefix', value: expected } as const;
        expect(compileStringMatch(exact)(value)).toBe(value === expected);
        expect(compileStringMatch(prefix)(value)).toBe(value.startsWith(expected));
        expect(compileStringMatch(exact, { ignoreCase: true })(value)).toBe(
          value.toLowerCase() === expected.toLowerCase(),
        );
        expect(compileStringMatch(prefix, { ignoreCase: true })(value)).toBe(
          value.toLowerCase().startsWith(expected.toLowerCase()),
        );
        expect(compileStringMatch(exact)(undefined)).toBe(false);
        expect(compileStringMatch(prefix, { ignoreCase: true })(undefined)).toBe(false);
      }),
      runs(3000),
    );
  });

  it('exact and prefix agree with === and startsWith on any Unicode text', () => {
    fc.assert(
      fc.property(valueAndCandidate(unicodeText), ([expected, value]) => {
        expect(compileStringMatch({ type: 'exact', value: expected })(value)).toBe(value === expected);
        expect(compileStringMatch({ type: 'prefix', value: expected })(value)).toBe(
          value.startsWith(expected),
        );
      }),
      runs(3000),
    );
  });

  /**
   * The least any case-insensitive match must do. JavaScript's toLowerCase is not a safe fold for
   * it: "İ" lower-cases to two code units, and "Σ" to "ς" or "σ" depending on what follows. Envoy's
   * ignore_case folds ASCII only, which keeps lengths and needs no context.
   */
  it('an ignore-case exact or prefix match accepts the very text it was written with, in any script', () => {
    fc.assert(
      fc.property(unicodeText, unicodeText, (expected, suffix) => {
        expect(compileStringMatch({ type: 'exact', value: expected }, { ignoreCase: true })(expected)).toBe(
          true,
        );
        const prefix = compileStringMatch({ type: 'prefix', value: expected }, { ignoreCase: true });
        expect(prefix(expected + suffix)).toBe(true);
      }),
      runs(3000, [
        ['\u0130', ''],
        ['/\u0130stanbul', '/x'],
        ['a\u03a3', 'a'],
      ]),
    );
  });

  it('a regex of RE2JS.quote(s) matches exactly s', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), unicodeText, (text, other) => {
        const matches = compileStringMatch({ type: 'regex', value: RE2JS.quote(text) });
        expect(matches(text)).toBe(true);
        expect(matches(other)).toBe(other === text);
        expect(matches(`${text}${other}`)).toBe(other === '');
      }),
      runs(1500),
    );
  });
});

const routeRequest = (path: string, method = 'GET'): RouteRequest => ({
  path,
  method,
  authority: 'reviews:9080',
  scheme: 'http',
  port: 9080,
  header: () => undefined,
});
const pathText = fc.string({ unit: fc.constantFrom(...'/aAbB-._~%20', '\u00e9'), maxLength: 16 });
const queryText = fc.string({ unit: fc.constantFrom(...'ab=&?%+/#'), maxLength: 16 });
const uriMatch = fc.oneof(
  pathText.map((value) => ({ type: 'exact', value }) as const),
  pathText.map((value) => ({ type: 'prefix', value }) as const),
  pathText.map((value) => ({ type: 'regex', value: RE2JS.quote(value) }) as const),
  fc.constant({ type: 'present' } as const),
);

describe('path and query matching', () => {
  it('pathOnly never keeps a "?", and is the whole path when there is no query', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (path) => {
        const only = pathOnly(path);
        expect(only.includes('?')).toBe(false);
        expect(path.startsWith(only)).toBe(true);
        if (!path.includes('?')) expect(only).toBe(path);
      }),
      runs(2000),
    );
  });

  it('a route match ignores the query string', () => {
    fc.assert(
      fc.property(
        uriMatch,
        fc.boolean(),
        pathText,
        queryText,
        pathText,
        (uri, ignoreUriCase, path, query, variant) => {
          const conditions: HttpMatchConditions = {
            uri,
            ignoreUriCase,
            method: { type: 'exact', value: 'GET' },
          };
          const matches = compileHttpMatch(conditions);
          const route: CompiledRoute = {
            name: 'r',
            source: 'test',
            matches,
            matchBlocks: [{ matches }],
            destinations: [],
            totalWeight: 0,
            retry: compileRetryPolicy(undefined),
          };
          const table = new RouteTable('reviews', 9080, [route]);
          const uriMatches = compileStringMatch(uri, { ignoreCase: ignoreUriCase });
          for (const candidate of [path, variant]) {
            const expected = uriMatches(candidate);
            expect(table.match(routeRequest(candidate)) !== undefined).toBe(expected);
            expect(table.match(routeRequest(`${candidate}?${query}`)) !== undefined).toBe(expected);
          }
        },
      ),
      runs(2000),
    );
  });

  it('queryParameter decodes the first occurrence of a parameter, and only of that parameter', () => {
    const pair = fc.tuple(
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
    );
    fc.assert(
      fc.property(
        pathText,
        fc.array(pair, { maxLength: 4 }),
        pair,
        pair,
        (path, others, [key, value], [, later]) => {
          fc.pre(key !== '' && others.every(([name]) => name !== key));
          const encode = ([name, text]: readonly [string, string]) =>
            `${encodeURIComponent(name)}=${encodeURIComponent(text)}`;
          const query = [...others, [key, value] as const, [key, later] as const].map(encode).join('&');
          expect(queryParameter(`${path}?${query}`, key)).toBe(value);
          expect(queryParameter(`${path}?${others.map(encode).join('&')}`, key)).toBeUndefined();
          expect(queryParameter(path, key)).toBeUndefined();
        },
      ),
      runs(2000),
    );
  });
});

// --- 5. traffic policy merge -------------------------------------------------------------------

const OVERRIDABLE = [
  'loadBalancer',
  'connectionPool',
  'outlierDetection',
  'tls',
  'tunnel',
  'proxyProtocol',
  'retryBudget',
] as const;
const PORT_LEVEL = ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls'] as const;
type Field = (typeof OVERRIDABLE)[number];
type Policy = TrafficPolicyShape<string>;

/**
 * The merge as the doc comment of traffic-policy-merge.ts states Istio's MergeTrafficPolicy: four
 * layers, later ones winning; a layer "speaks" for a field when it replaces it. Port-level entries
 * replace all four port-level fields (set or not) and the first entry for the port counts, as in
 * Istio's loop; the subset's policy replaces only the fields it sets.
 */
function referenceMerge(topLevel: Policy | undefined, subset: Policy | undefined, port: number) {
  const entryFor = (policy: Policy | undefined) =>
    policy?.portLevelSettings?.find((entry) => entry.port?.number === port);
  const isPortLevel = (field: Field) => (PORT_LEVEL as readonly string[]).includes(field);
  const layers: ((field: Field) => { speaks: boolean; value?: string })[] = [
    (field) => ({ speaks: topLevel !== undefined, value: topLevel?.[field] }),
    (field) => {
      const entry = entryFor(topLevel);
      return {
        speaks: entry !== undefined && isPortLevel(field),
        value: entry?.[field as keyof typeof entry] as string,
      };
    },
    (field) => ({ speaks: subset?.[field] !== undefined, value: subset?.[field] }),
    (field) => {
      const entry = entryFor(subset);
      return {
        speaks: entry !== undefined && isPortLevel(field),
        value: entry?.[field as keyof typeof entry] as string,
      };
    },
  ];
  const merged: Partial<Record<Field, string>> = {};
  for (const field of OVERRIDABLE) {
    const last = layers.map((layer) => layer(field)).findLast((layer) => layer.speaks);
    if (last?.value !== undefined) merged[field] = last.value;
  }
  return merged;
}

const PORTS = [80, 443, 9080];
/** Parts are tagged strings, so a wrong answer shows where the value came from. */
const part = (origin: string, field: string) =>
  fc.option(fc.constantFrom(`${origin}.${field}`, `${origin}.${field}#2`), { nil: undefined, freq: 2 });
function portEntry(origin: string): fc.Arbitrary<PortLevelPolicyShape<string>> {
  return fc.record(
    {
      port: fc.option(fc.record({ number: fc.option(fc.constantFrom(...PORTS), { nil: undefined }) }), {
        nil: undefined,
        freq: 8,
      }),
      ...Object.fromEntries(PORT_LEVEL.map((field) => [field, part(`${origin}.port`, field)])),
    },
    { requiredKeys: [] },
  );
}
function policy(origin: string): fc.Arbitrary<Policy | undefined> {
  return fc.option(
    fc.record(
      {
        ...Object.fromEntries(OVERRIDABLE.map((field) => [field, part(origin, field)])),
        portLevelSettings: fc.array(portEntry(origin), { maxLength: 4 }),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Policy>,
    { nil: undefined, freq: 6 },
  );
}

describe('mergeTrafficPolicy', () => {
  it('agrees with a reference written from Istio MergeTrafficPolicy semantics', () => {
    fc.assert(
      fc.property(
        policy('top'),
        policy('subset'),
        fc.constantFrom(...PORTS, 8080),
        (topLevel, subset, port) => {
          const before = structuredClone({ topLevel, subset });
          const merged = mergeTrafficPolicy(topLevel, subset, port);
          expect(merged).toStrictEqual(referenceMerge(topLevel, subset, port));
          // The inputs are left as they were.
          expect({ topLevel, subset }).toEqual(before);
        },
      ),
      runs(5000),
    );
  });
});
