// Property-based tests of the config parser (parseConfig, parseConfigObjects).
// Seeds and run counts: ./properties-settings.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import {
  type ConfigIssue,
  type ParsedConfig,
  parseConfig,
  parseConfigObjects,
  type Resource,
} from '../src/index.ts';
import { readBookinfo } from './bookinfo-fixtures.ts';
import { runs } from './properties-settings.ts';

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
