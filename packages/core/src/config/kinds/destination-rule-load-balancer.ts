import { z } from 'zod';
import {
  cappedArray,
  durationMs,
  mapOf,
  percentValue,
  positiveDurationMs,
  uint32,
  uint64,
} from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';
import { checkOneOf } from './one-of.ts';

/**
 * DestinationRule `loadBalancer`: the simple policies, consistent hashing (ring hash, Maglev),
 * locality-weighted distribution and failover, zone-aware balancing and slow-start warmup.
 * Deprecated spellings (`LEAST_CONN`, `consistentHash.minimumRingSize`, `warmupDurationSecs`) are
 * mapped onto their replacements.
 */

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
  context: RefinementContext,
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

export const loadBalancerSchema = z
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
