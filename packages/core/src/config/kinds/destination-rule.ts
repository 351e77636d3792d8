import { z } from 'zod';
import { type NameContext, toFqdn } from '../host.ts';
import type { DeprecatedField, FieldNote, KindDefinition } from '../kind-definition.ts';
import { cappedArray, exportTo, labels, workloadSelector } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';
import { trafficPolicySchema } from './destination-rule-traffic-policy.ts';
import { isDnsLabel, wildcardHost } from './network-address.ts';

/**
 * DestinationRule (networking.istio.io): what happens to traffic once routing picked a host: load
 * balancing, connection pool limits, outlier detection and upstream TLS, per host, port and subset.
 *
 * Normalized output: every google.protobuf.Duration field holds a number of MILLISECONDS under
 * Istio's own field name (`interval: 10s` → `interval: 10000`); wrapper types (UInt32Value,
 * DoubleValue, BoolValue) are plain values; uint64 fields given as strings (proto JSON) are numbers.
 * Deprecated fields are mapped onto their replacements (see `deprecatedFields`).
 *
 * Defaults: only proto3 enum zero values whose meaning differs from "absent" are filled in:
 * `tls.mode` → DISABLE when `tls` is present (an absent `tls` means Istio's auto mTLS, a present
 * one without mode means plain text) and `proxyProtocol.version` → V1. Envoy's numeric defaults
 * (5 consecutive errors, 10s interval, …) stay with the consumer. Note that Istio cannot tell a
 * proto3 integer 0 from "unset", so e.g. `maxEjectionPercent: 0` means "Envoy's default 10%".
 *
 * The traffic policy lives in destination-rule-traffic-policy.ts, with its load balancer and
 * connection pool in their own files.
 */

const subset = z.strictObject({
  name: z
    .string()
    .min(1, 'subset name must not be empty')
    .refine(isDnsLabel, 'subset name must be a DNS-1123 label (letters, digits and "-"), e.g. "v1"'),
  labels: labels.optional(),
  trafficPolicy: trafficPolicySchema.optional(),
});

export const destinationRuleSpecSchema = z
  .strictObject({
    host: wildcardHost,
    trafficPolicy: trafficPolicySchema.optional(),
    subsets: cappedArray(subset).optional(),
    exportTo,
    workloadSelector: workloadSelector.optional(),
  })
  .superRefine((rule, context) => {
    const seen = new Set<string>();
    for (const [index, { name }] of (rule.subsets ?? []).entries()) {
      if (seen.has(name))
        addProblem(context, `subset "${name}" is defined twice; subset names must be unique`, [
          'subsets',
          index,
          'name',
        ]);
      seen.add(name);
    }
  });

export type DestinationRuleSpec = z.output<typeof destinationRuleSpecSchema>;

/** `host` becomes an FQDN relative to the rule's namespace, as Istio reads a short name. */
export function resolveDestinationRuleNames(
  spec: DestinationRuleSpec,
  context: NameContext,
): DestinationRuleSpec {
  return { ...spec, host: toFqdn(spec.host, context) };
}

/** Every place a TrafficPolicy sits, and the places a full one (with tunnel, proxyProtocol) sits. */
const POLICY_PATHS = [
  'trafficPolicy',
  'trafficPolicy.portLevelSettings[]',
  'subsets[].trafficPolicy',
  'subsets[].trafficPolicy.portLevelSettings[]',
];
const TOP_POLICY_PATHS = ['trafficPolicy', 'subsets[].trafficPolicy'];

const UNSUPPORTED_EVERYWHERE: readonly FieldNote[] = [
  { path: 'tls.credentialName', reason: 'certificates come from files or the agent, not Kubernetes secrets' },
  {
    path: 'connectionPool.http.h2UpgradePolicy',
    reason: 'the HTTP client picks the protocol per destination',
  },
  {
    path: 'connectionPool.http.useClientProtocol',
    reason: 'the HTTP client picks the protocol per destination',
  },
  {
    path: 'connectionPool.tcp.tcpKeepalive',
    reason: 'socket keepalive tuning is not exposed by the HTTP client yet',
  },
  {
    path: 'connectionPool.tcp.maxConnectionDuration',
    reason: 'connection lifetime limits are not implemented yet',
  },
  {
    path: 'connectionPool.tcp.idleTimeout',
    reason: 'TCP idle timeouts are a listener setting; use connectionPool.http.idleTimeout',
  },
];
const UNSUPPORTED_AT_TOP: readonly FieldNote[] = [
  { path: 'tunnel', reason: 'tunnelling TCP over CONNECT/POST is L4' },
  { path: 'proxyProtocol', reason: 'the PROXY protocol header is L4' },
];

const DEPRECATED_EVERYWHERE: readonly DeprecatedField[] = [
  {
    path: 'outlierDetection.consecutiveErrors',
    replacement: 'outlierDetection.consecutiveGatewayErrors',
    reason: 'it counted 502/503/504 only; mapped to consecutiveGatewayErrors with consecutive5xxErrors 0',
  },
  {
    path: 'loadBalancer.warmupDurationSecs',
    replacement: 'loadBalancer.warmup.duration',
    reason: 'replaced by the warmup block; mapped to warmup.duration',
  },
  {
    path: 'loadBalancer.consistentHash.minimumRingSize',
    replacement: 'loadBalancer.consistentHash.ringHash.minimumRingSize',
    reason: 'moved under ringHash; mapped there',
  },
];

function atPaths<T extends FieldNote>(notes: readonly T[], bases: readonly string[]): T[] {
  return bases.flatMap((base) =>
    notes.map((note) => ({
      ...note,
      path: `${base}.${note.path}`,
      ...('replacement' in note ? { replacement: `${base}.${String(note.replacement)}` } : {}),
    })),
  );
}

export const destinationRuleKind: KindDefinition<DestinationRuleSpec> = {
  kind: 'DestinationRule',
  group: 'networking.istio.io',
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  isSecurity: false,
  specSchema: destinationRuleSpecSchema,
  unsupportedFields: [
    ...atPaths(UNSUPPORTED_AT_TOP, TOP_POLICY_PATHS),
    ...atPaths(UNSUPPORTED_EVERYWHERE, POLICY_PATHS),
  ],
  deprecatedFields: atPaths(DEPRECATED_EVERYWHERE, POLICY_PATHS),
  resolveNames: resolveDestinationRuleNames,
};
