import type { Locality } from '../registry/workload.ts';

/** The labels a locality is also visible as, for `failoverPriority` (Istio adds them to endpoints). */
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const SUBZONE_LABEL = 'topology.istio.io/subzone';

/** `region/zone/subzone`, Istio's locality label; what localities are grouped and keyed by. */
export function localityLabel(locality: Locality | undefined): string {
  return `${locality?.region ?? ''}/${locality?.zone ?? ''}/${locality?.subzone ?? ''}`;
}

/**
 * Istio's LocalityMatch: `pattern` is `region[/zone[/subzone]]`, where `*` or a missing part
 * matches anything (the region part must be present: `*` for any).
 */
export function localityMatches(locality: Locality | undefined, pattern: string): boolean {
  const [region = '', zone = '', subzone = ''] = pattern.split('/', 3);
  const partMatches = (rule: string, actual: string | undefined, isRequired: boolean): boolean =>
    rule === '*' || (!isRequired && rule === '') || rule === (actual ?? '');
  return (
    partMatches(region, locality?.region, true) &&
    partMatches(zone, locality?.zone, false) &&
    partMatches(subzone, locality?.subzone, false)
  );
}

/**
 * Istio's LbPriority: 0 when region, zone and subzone all equal the caller's, 1 when region and
 * zone do, 2 when only the region does, 3 otherwise. Missing parts compare as empty strings.
 */
export function localityPriority(source: Locality | undefined, endpoint: Locality | undefined): number {
  if ((source?.region ?? '') !== (endpoint?.region ?? '')) return 3;
  if ((source?.zone ?? '') !== (endpoint?.zone ?? '')) return 2;
  return (source?.subzone ?? '') === (endpoint?.subzone ?? '') ? 0 : 1;
}

/** A label value, falling back to the locality for the topology labels. */
export function topologyLabel(
  labels: Readonly<Record<string, string>> | undefined,
  locality: Locality | undefined,
  name: string,
): string {
  const value = labels?.[name];
  if (value !== undefined) return value;
  if (name === REGION_LABEL) return locality?.region ?? '';
  if (name === ZONE_LABEL) return locality?.zone ?? '';
  if (name === SUBZONE_LABEL) return locality?.subzone ?? '';
  return '';
}
