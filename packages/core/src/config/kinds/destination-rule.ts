import { z } from 'zod';
import { type NameContext, toFqdn } from '../host.ts';
import type { DeprecatedField, FieldNote, KindDefinition } from '../kind-definition.ts';
import {
  cappedArray,
  durationMs,
  exportTo,
  int32,
  labels,
  percentValue,
  portNumber,
  positiveDurationMs,
  uint32,
  workloadSelector,
} from '../schema-primitives.ts';
import { fqdnProblem, isDnsLabel, isIpAddress, mapOf, wildcardHost } from './virtual-service.ts';

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
 */

type Context = z.core.$RefinementCtx;

function addProblem(context: Context, problem: string | undefined, path: PropertyKey[] = []): void {
  if (problem !== undefined) context.addIssue({ code: 'custom', path, message: problem });
}

/** Istio's `oneof`: at most one of `keys` may be set; the issue lands on the second one set. */
function checkOneOf<T extends object>(value: T, keys: readonly (keyof T & string)[], context: Context): void {
  const set = keys.filter((key) => value[key] !== undefined);
  if (set.length > 1)
    addProblem(context, `${set.join(' and ')} are mutually exclusive; keep only one`, [set[1] ?? '']);
}

/** uint64 as YAML users write it (a number) or as proto JSON encodes it (a decimal string). */
const uint64 = z
  .union([z.number(), z.string().regex(/^\d+$/, 'must be a non-negative integer').transform(Number)])
  .pipe(z.number().int().min(0, 'must be ≥ 0').max(Number.MAX_SAFE_INTEGER, 'is too large'));

/** A duration where 0 switches the feature off (Istio skips its ≥ 1ms check for exactly 0). */
const durationOrZeroMs = durationMs().refine(
  (ms) => ms === 0 || ms >= 1,
  'duration must be 0 (disabled) or at least 1ms',
);

function nonNegative(field: string) {
  return int32.min(0, `${field} must be ≥ 0`);
}

const portSelector = z.strictObject({ number: portNumber });

// --- load balancing -----------------------------------------------------------------------------

const HASH_KEYS = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'] as const;
/** Envoy's Maglev table must be a prime below this. */
const MAGLEV_TABLE_LIMIT = 5_000_011;

/** Envoy's primality test (source/common/common/utility.cc), so Weft accepts exactly what Envoy does. */
function isPrime(value: number): boolean {
  if (value !== 0 && value < 4) return true;
  if (value % 2 === 0) return false;
  for (let factor = 3; factor * factor <= value; factor += 2) if (value % factor === 0) return false;
  return true;
}

const httpCookie = z
  .strictObject({
    name: z.string().min(1, 'httpCookie needs a name'),
    path: z.string().optional(),
    // 0 is meaningful: the generated cookie is a session cookie.
    ttl: durationMs().optional(),
    attributes: cappedArray(
      z.strictObject({
        name: z.string().min(1, 'cookie attribute name must not be empty'),
        value: z.string().optional(),
      }),
    ).optional(),
  })
  .superRefine((cookie, context) => {
    const seen = new Set<string>();
    for (const [index, attribute] of (cookie.attributes ?? []).entries()) {
      if (seen.has(attribute.name)) {
        addProblem(context, `cookie attribute "${attribute.name}" is listed twice; keep one`, [
          'attributes',
          index,
          'name',
        ]);
      }
      seen.add(attribute.name);
    }
  });

const consistentHash = z
  .strictObject({
    httpHeaderName: z.string().min(1, 'httpHeaderName must not be empty').optional(),
    httpCookie: httpCookie.optional(),
    useSourceIp: z.boolean().optional(),
    httpQueryParameterName: z.string().min(1, 'httpQueryParameterName must not be empty').optional(),
    ringHash: z.strictObject({ minimumRingSize: uint64.optional() }).optional(),
    maglev: z.strictObject({ tableSize: uint64.optional() }).optional(),
    minimumRingSize: uint64.optional(),
  })
  .superRefine((hash, context) => {
    const keys = HASH_KEYS.filter((key) => hash[key] !== undefined);
    if (keys.length !== 1) {
      addProblem(
        context,
        `consistentHash needs exactly one hash key among ${HASH_KEYS.join(', ')} (got ${keys.length === 0 ? 'none' : keys.join(', ')})`,
        keys.length === 0 ? [] : [keys[1] ?? ''],
      );
    }
    checkOneOf(hash, ['ringHash', 'maglev'], context);
    if (hash.minimumRingSize !== undefined && (hash.ringHash !== undefined || hash.maglev !== undefined)) {
      addProblem(
        context,
        'the deprecated minimumRingSize cannot be combined with ringHash or maglev; use ringHash.minimumRingSize',
        ['minimumRingSize'],
      );
    }
    const tableSize = hash.maglev?.tableSize;
    if (hash.maglev !== undefined) {
      const problem =
        tableSize === undefined || tableSize === 0
          ? 'maglev needs a tableSize, e.g. 65537'
          : tableSize >= MAGLEV_TABLE_LIMIT
            ? `maglev tableSize must be below ${MAGLEV_TABLE_LIMIT}`
            : isPrime(tableSize)
              ? undefined
              : `maglev tableSize ${tableSize} must be a prime number, e.g. 65537`;
      addProblem(context, problem, ['maglev', 'tableSize']);
    }
  })
  .transform(({ minimumRingSize, ...hash }) =>
    minimumRingSize === undefined ? hash : { ...hash, ringHash: { minimumRingSize } },
  );

const TOPOLOGY_LABELS = new Set([
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'topology.istio.io/subzone',
]);

/** Failover names regions: no zone part, no wildcard, and somewhere else to go. */
const regionFailover = z
  .strictObject({ from: z.string().optional(), to: z.string().optional() })
  .superRefine(({ from = '', to = '' }, context) => {
    if (from === to) addProblem(context, `failover from "${from}" must go to a different region`, ['to']);
    if (from.includes('/') || to.includes('/')) {
      addProblem(context, 'failover names regions only (no "/zone" part); zones fail over automatically');
    }
    if (from.includes('*') || to.includes('*'))
      addProblem(context, 'failover regions cannot contain "*"; name the region');
  });

/** Istio's validateLocalities (the part that needs no cross-entry bookkeeping). */
function localityProblem(locality: string): string | undefined {
  const wildcards = locality.split('*').length - 1;
  if (wildcards > 1 || (wildcards === 1 && !locality.endsWith('*'))) {
    return `locality "${locality}" may hold one "*", and only at the end (e.g. "us-west/*")`;
  }
  if (locality.split('/', 3).some((part) => part === '')) {
    return `locality "${locality}" has an empty region, zone or sub-zone; use "region/zone/sub-zone"`;
  }
  return undefined;
}

const localityDistribute = z
  .strictObject({
    from: z.string().optional(),
    to: mapOf(uint32, localityProblem).optional(),
  })
  .superRefine((distribute, context) => {
    addProblem(context, localityProblem(distribute.from ?? ''), ['from']);
    const weights = Object.entries(distribute.to ?? {});
    for (const [locality, weight] of weights) {
      if (weight < 1 || weight > 100) addProblem(context, 'locality weight must be 1–100', ['to', locality]);
    }
    const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
    if (total !== 100)
      addProblem(context, `locality weights must add up to 100 (they add up to ${total})`, ['to']);
  });

function checkFailoverPriority(
  priority: readonly string[] | undefined,
  reason: string,
  context: Context,
): void {
  for (const [index, label] of (priority ?? []).entries()) {
    if (TOPOLOGY_LABELS.has(label))
      addProblem(context, `"${label}" cannot be in failoverPriority ${reason}`, ['failoverPriority', index]);
  }
}

const localityLbSetting = z
  .strictObject({
    distribute: cappedArray(localityDistribute).optional(),
    failover: cappedArray(regionFailover).optional(),
    failoverPriority: cappedArray(z.string().min(1, 'failoverPriority entries must not be empty')).optional(),
    enabled: z.boolean().optional(),
  })
  .superRefine((setting, context) => {
    const hasFailover = (setting.failover ?? []).length > 0;
    if ((setting.distribute ?? []).length > 0 && hasFailover) {
      addProblem(context, 'distribute and failover are mutually exclusive; keep only one', ['failover']);
    }
    if (hasFailover)
      checkFailoverPriority(
        setting.failoverPriority,
        'when failover is set (failover orders regions)',
        context,
      );
  });

const zoneAwareLbSetting = z
  .strictObject({
    enabled: z.boolean().optional(),
    failover: cappedArray(regionFailover).optional(),
    failoverPriority: cappedArray(z.string().min(1, 'failoverPriority entries must not be empty')).optional(),
    minClusterSize: uint64.pipe(z.number().min(1, 'minClusterSize must be ≥ 1')).optional(),
  })
  .superRefine((setting, context) => {
    checkFailoverPriority(
      setting.failoverPriority,
      'for zone-aware balancing (regions and zones are handled automatically)',
      context,
    );
  });

const warmup = z.strictObject({
  duration: positiveDurationMs,
  minimumPercent: percentValue.optional(),
  aggression: z.number().gt(0, 'aggression must be > 0 (1 ramps traffic up linearly)').optional(),
});

const simpleLb = z
  .enum(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'])
  // LEAST_CONN is Istio's deprecated name for LEAST_REQUEST.
  .transform((simple) => (simple === 'LEAST_CONN' ? 'LEAST_REQUEST' : simple));

const loadBalancer = z
  .strictObject({
    simple: simpleLb.optional(),
    consistentHash: consistentHash.optional(),
    localityLbSetting: localityLbSetting.optional(),
    zoneAwareLbSetting: zoneAwareLbSetting.optional(),
    warmupDurationSecs: positiveDurationMs.optional(),
    warmup: warmup.optional(),
  })
  .superRefine((balancer, context) => {
    checkOneOf(balancer, ['simple', 'consistentHash'], context);
    checkOneOf(balancer, ['localityLbSetting', 'zoneAwareLbSetting'], context);
    checkOneOf(balancer, ['warmupDurationSecs', 'warmup'], context);
  })
  // Despite its name, `warmupDurationSecs` is a Duration; it becomes `warmup.duration`.
  .transform(({ warmupDurationSecs, ...balancer }) =>
    warmupDurationSecs === undefined ? balancer : { ...balancer, warmup: { duration: warmupDurationSecs } },
  );

// --- connection pool, outlier detection, TLS ----------------------------------------------------

const tcpSettings = z.strictObject({
  maxConnections: nonNegative('maxConnections').optional(),
  connectTimeout: positiveDurationMs.optional(),
  tcpKeepalive: z
    .strictObject({
      probes: uint32.optional(),
      time: positiveDurationMs.optional(),
      interval: positiveDurationMs.optional(),
    })
    .optional(),
  maxConnectionDuration: positiveDurationMs.optional(),
  idleTimeout: durationOrZeroMs.optional(),
});

const httpSettings = z
  .strictObject({
    http1MaxPendingRequests: nonNegative('http1MaxPendingRequests').optional(),
    http2MaxRequests: nonNegative('http2MaxRequests').optional(),
    maxRequestsPerConnection: nonNegative('maxRequestsPerConnection').optional(),
    maxRetries: nonNegative('maxRetries').optional(),
    idleTimeout: positiveDurationMs.optional(),
    h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
    useClientProtocol: z.boolean().optional(),
    maxConcurrentStreams: nonNegative('maxConcurrentStreams').optional(),
    http2KeepAlive: z.strictObject({ interval: positiveDurationMs, timeout: positiveDurationMs }).optional(),
  })
  .superRefine((http, context) => {
    if (http.h2UpgradePolicy === 'UPGRADE' && http.useClientProtocol === true) {
      addProblem(
        context,
        'useClientProtocol keeps the client protocol, which contradicts h2UpgradePolicy UPGRADE; keep one',
        ['useClientProtocol'],
      );
    }
  });

/** Shared with Sidecar (`inboundConnectionPool`, `ingress[].connectionPool`). */
export const connectionPoolSettingsSchema = z
  .strictObject({ tcp: tcpSettings.optional(), http: httpSettings.optional() })
  .superRefine((pool, context) => {
    if (pool.tcp === undefined && pool.http === undefined)
      addProblem(context, 'connectionPool needs tcp or http settings');
  });

const outlierDetection = z
  .strictObject({
    consecutiveErrors: nonNegative('consecutiveErrors').optional(),
    splitExternalLocalOriginErrors: z.boolean().optional(),
    consecutiveLocalOriginFailures: uint32.optional(),
    consecutiveGatewayErrors: uint32.optional(),
    consecutive5xxErrors: uint32.optional(),
    interval: positiveDurationMs.optional(),
    baseEjectionTime: positiveDurationMs.optional(),
    maxEjectionPercent: int32
      .min(0, 'maxEjectionPercent must be 0–100')
      .max(100, 'maxEjectionPercent must be 0–100')
      .optional(),
    minHealthPercent: int32
      .min(0, 'minHealthPercent must be 0–100')
      .max(100, 'minHealthPercent must be 0–100')
      .optional(),
    outlierDetectionHttpErrorCodes: cappedArray(
      z.number().int().min(100, 'status codes must be 100–599').max(599, 'status codes must be 100–599'),
    ).optional(),
  })
  .superRefine((outlier, context) => {
    if (
      (outlier.consecutiveLocalOriginFailures ?? 0) > 0 &&
      outlier.splitExternalLocalOriginErrors !== true
    ) {
      addProblem(
        context,
        'consecutiveLocalOriginFailures counts only with splitExternalLocalOriginErrors: true; set it',
        ['consecutiveLocalOriginFailures'],
      );
    }
  })
  // The proto documents `consecutiveErrors` as counting 502, 503 and 504 (gateway errors), and Istio
  // used to translate it so, with 5xx ejection switched off: keep both halves of that meaning.
  // (Istio ≥ 1.7 ignores the field with a warning; honouring the documented meaning is safer.)
  .transform(({ consecutiveErrors, ...outlier }) => {
    if (consecutiveErrors === undefined || consecutiveErrors === 0) return outlier;
    return {
      ...outlier,
      consecutiveGatewayErrors: outlier.consecutiveGatewayErrors ?? consecutiveErrors,
      consecutive5xxErrors: outlier.consecutive5xxErrors ?? 0,
    };
  });

const clientTls = z
  .strictObject({
    mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional(),
    clientCertificate: z.string().optional(),
    privateKey: z.string().optional(),
    caCertificates: z.string().optional(),
    credentialName: z.string().optional(),
    subjectAltNames: cappedArray(z.string()).optional(),
    sni: z.string().optional(),
    insecureSkipVerify: z.boolean().optional(),
    caCrl: z.string().optional(),
  })
  .superRefine((tls, context) => {
    const { mode, credentialName, caCertificates, subjectAltNames, clientCertificate, privateKey, caCrl } =
      tls;
    if (tls.insecureSkipVerify === true) {
      const conflicts =
        mode === 'SIMPLE'
          ? { caCertificates, credentialName, subjectAltNames }
          : mode === 'MUTUAL'
            ? { caCertificates, subjectAltNames }
            : {};
      const present = Object.entries(conflicts).filter(([, value]) => value !== undefined && value !== '');
      if (present.length > 0) {
        addProblem(
          context,
          `insecureSkipVerify skips the checks that ${present.map(([key]) => key).join(', ')} configure; remove one side`,
          ['insecureSkipVerify'],
        );
      }
    }
    if ((mode === 'SIMPLE' || mode === 'MUTUAL') && credentialName) {
      if (clientCertificate || caCertificates || privateKey || caCrl) {
        addProblem(
          context,
          'credentialName replaces clientCertificate, privateKey, caCertificates and caCrl; keep one source',
          ['credentialName'],
        );
      }
      return;
    }
    if (mode === 'MUTUAL') {
      if (!clientCertificate)
        addProblem(context, 'MUTUAL TLS needs clientCertificate (or credentialName)', ['clientCertificate']);
      if (!privateKey) addProblem(context, 'MUTUAL TLS needs privateKey (or credentialName)', ['privateKey']);
    }
  })
  .transform((tls) => ({ ...tls, mode: tls.mode ?? 'DISABLE' }));

const tunnelSettings = z.strictObject({
  protocol: z.enum(['CONNECT', 'POST'], 'tunnel protocol must be "CONNECT" or "POST"').optional(),
  targetHost: z
    .string()
    .refine(
      (host) => isIpAddress(host) || fqdnProblem(host) === undefined,
      'targetHost must be a fully-qualified name or IP',
    ),
  targetPort: portNumber,
});

const retryBudget = z.strictObject({
  percent: percentValue.optional(),
  minRetryConcurrency: uint32.optional(),
  // 0 (the default) means "only requests active right now count".
  budgetInterval: durationMs().optional(),
});

const portTrafficPolicy = z
  .strictObject({
    port: portSelector,
    loadBalancer: loadBalancer.optional(),
    connectionPool: connectionPoolSettingsSchema.optional(),
    outlierDetection: outlierDetection.optional(),
    tls: clientTls.optional(),
  })
  .superRefine((policy, context) => {
    const { loadBalancer, connectionPool, outlierDetection, tls } = policy;
    if ([loadBalancer, connectionPool, outlierDetection, tls].every((field) => field === undefined)) {
      addProblem(context, 'a port-level policy needs loadBalancer, connectionPool, outlierDetection or tls');
    }
  });

const TRAFFIC_POLICY_FIELDS = [
  'loadBalancer',
  'connectionPool',
  'outlierDetection',
  'tls',
  'portLevelSettings',
  'tunnel',
  'proxyProtocol',
  'retryBudget',
] as const;

const trafficPolicy = z
  .strictObject({
    loadBalancer: loadBalancer.optional(),
    connectionPool: connectionPoolSettingsSchema.optional(),
    outlierDetection: outlierDetection.optional(),
    tls: clientTls.optional(),
    portLevelSettings: cappedArray(portTrafficPolicy, 4096).optional(),
    tunnel: tunnelSettings.optional(),
    proxyProtocol: z
      .strictObject({ version: z.enum(['V1', 'V2']).optional() })
      .transform((proxyProtocol) => ({ version: proxyProtocol.version ?? 'V1' }))
      .optional(),
    retryBudget: retryBudget.optional(),
  })
  .superRefine((policy, context) => {
    if (TRAFFIC_POLICY_FIELDS.every((field) => policy[field] === undefined)) {
      addProblem(context, `trafficPolicy needs at least one of ${TRAFFIC_POLICY_FIELDS.join(', ')}`);
    }
    checkOneOf(policy, ['tunnel', 'proxyProtocol'], context);
  });

const subset = z.strictObject({
  name: z
    .string()
    .min(1, 'subset name must not be empty')
    .refine(isDnsLabel, 'subset name must be a DNS-1123 label (letters, digits and "-"), e.g. "v1"'),
  labels: labels.optional(),
  trafficPolicy: trafficPolicy.optional(),
});

export const destinationRuleSpecSchema = z
  .strictObject({
    host: wildcardHost,
    trafficPolicy: trafficPolicy.optional(),
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
