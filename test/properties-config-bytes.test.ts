/**
 * Property-based tests of the YAML/JSON config parser over raw bytes (issue 10): arbitrary bytes
 * and byte-level mutations of Istio's Bookinfo YAML (examples/bookinfo/istio/, in this repository)
 * and of the same resources written as JSON,
 * decoded as a file loader would (UTF-8, and Latin-1 for bytes that are not UTF-8), through
 * `parseConfig` — the path `weft apply -f` and the agent's admission take. Whatever the bytes,
 * the parser returns (never throws), every issue is complete and points into the input, every
 * resource is frozen plain JSON, and nothing reaches Object.prototype. Seeds:
 * support/properties.ts; inputs that once broke something: corpus/config/.
 *
 * Already covered in the core package (not repeated): properties-parser.test.ts (text and JSON
 * values, YAML/object equivalence, determinism, one bad resource leaves the others, A7), and
 * corpus-replay.test.ts with packages/core/test/corpus/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseConfig } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseEveryWay } from './support/config-checks.ts';
import { runs } from './support/properties.ts';

const BOOKINFO = new URL('../examples/bookinfo/istio/', import.meta.url);
const YAML_SEEDS = readdirSync(BOOKINFO)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => ({ name, bytes: readFileSync(new URL(name, BOOKINFO)) }));
/** The same resources as JSON documents (YAML's subset that `weft apply -f x.json` reads). */
const JSON_SEEDS = YAML_SEEDS.map(({ name, bytes }) => ({
  name: name.replace(/\.yaml$/, '.json'),
  bytes: Buffer.from(
    parseAllDocuments(bytes.toString('utf8'))
      .map((document) => JSON.stringify(document.toJS(), null, 2))
      .join('\n---\n'),
  ),
}));
const SEEDS = [...YAML_SEEDS, ...JSON_SEEDS];

/** Bytes biased toward what YAML and JSON give meaning to, and toward broken UTF-8. */
const yamlByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 3, arbitrary: fc.constantFrom(...Buffer.from(':-[]{},&*!|>\'"#%@`? \n\t---...')) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0xc0, 0xc3, 0xe2, 0xef, 0xbb, 0xbf, 0xfe, 0xff, 0x80) },
);

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly byte: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: number[] }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: yamlByte }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(yamlByte, { maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
);

function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let current = bytes;
  for (const step of mutations) {
    const at = step.at % (current.length + 1);
    switch (step.kind) {
      case 'flip':
        current = Buffer.concat([
          current.subarray(0, at),
          Buffer.from([step.byte]),
          current.subarray(at + 1),
        ]);
        break;
      case 'insert':
        current = Buffer.concat([current.subarray(0, at), Buffer.from(step.bytes), current.subarray(at)]);
        break;
      case 'delete':
        current = Buffer.concat([current.subarray(0, at), current.subarray(at + step.length)]);
        break;
      case 'duplicate': {
        const piece = current.subarray(at, at + step.length);
        current = Buffer.concat([current.subarray(0, at), piece, piece, current.subarray(at + step.length)]);
        break;
      }
    }
  }
  return current;
}

describe('parseConfig over raw bytes', () => {
  it('the seeds themselves parse without errors', () => {
    expect(YAML_SEEDS.length).toBeGreaterThanOrEqual(5);
    for (const seed of SEEDS) {
      const [utf8] = parseEveryWay(seed.bytes, seed.name);
      expect(utf8?.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
      expect(utf8?.resources.length).toBeGreaterThan(0);
    }
  });

  it('returns, with complete issues and frozen JSON, for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(yamlByte, { maxLength: 400 }), (values) => {
        parseEveryWay(Buffer.from(values), 'bytes.yaml');
      }),
      runs(400),
    );
  });

  it('returns, with complete issues and frozen JSON, for byte-level mutations of Bookinfo YAML', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 5 }), (pick, mutations) => {
        const seed = SEEDS[pick % SEEDS.length];
        if (seed === undefined) return;
        const [utf8] = parseEveryWay(mutate(seed.bytes, mutations), seed.name);
        // A resource that still parses is one of Istio's kinds, in a namespace, with a name.
        for (const resource of utf8?.resources ?? []) {
          expect(resource.metadata.name).toMatch(/\S/);
          expect(resource.metadata.namespace).toMatch(/\S/);
        }
      }),
      runs(400),
    );
  });

  it('gives the same answer for the same bytes, every time (no state leaks between parses)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { maxLength: 3 }), (pick, mutations) => {
        const seed = SEEDS[pick % SEEDS.length];
        if (seed === undefined) return;
        const bytes = mutate(seed.bytes, mutations);
        const first = parseConfig(bytes.toString('utf8'), { file: seed.name });
        parseConfig(
          mutate(seed.bytes, [{ kind: 'insert', at: 0, bytes: [0x2d, 0x2d, 0x2d, 0x0a] }]).toString('utf8'),
        );
        expect(parseConfig(bytes.toString('utf8'), { file: seed.name })).toEqual(first);
      }),
      runs(150),
    );
  });
});
