// Property-based tests of the traffic-policy merge (Istio's MergeTrafficPolicy).
// Seeds and run counts: ./properties-settings.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  mergeTrafficPolicy,
  type PortLevelPolicyShape,
  type TrafficPolicyShape,
} from '../src/config/compile/traffic-policy-merge.ts';
import { runs } from './properties-settings.ts';

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
