import { record, text } from './json-fields.ts';

/**
 * The extra columns `weft get` shows per kind, as `kubectl get` does for Istio's CRDs
 * (VirtualService: GATEWAYS, HOSTS; DestinationRule: HOST; ...). Read from the stored spec,
 * which is what the user applied, so every field is checked before use.
 */
interface Column {
  readonly header: string;
  readonly cell: (spec: Readonly<Record<string, unknown>>) => string;
}

const COLUMNS: Readonly<Record<string, readonly Column[]>> = {
  VirtualService: [
    { header: 'GATEWAYS', cell: (spec) => list(spec.gateways) },
    { header: 'HOSTS', cell: (spec) => list(spec.hosts) },
  ],
  DestinationRule: [
    { header: 'HOST', cell: (spec) => text(spec.host) },
    { header: 'SUBSETS', cell: (spec) => list(field(spec.subsets, 'name')) },
  ],
  ServiceEntry: [
    { header: 'HOSTS', cell: (spec) => list(spec.hosts) },
    { header: 'LOCATION', cell: (spec) => text(spec.location) },
    { header: 'RESOLUTION', cell: (spec) => text(spec.resolution) },
  ],
  WorkloadEntry: [{ header: 'ADDRESS', cell: (spec) => text(spec.address) }],
  Gateway: [{ header: 'HOSTS', cell: (spec) => list(field(spec.servers, 'hosts').flat()) }],
  PeerAuthentication: [{ header: 'MODE', cell: (spec) => text(record(spec.mtls).mode) }],
  AuthorizationPolicy: [{ header: 'ACTION', cell: (spec) => text(spec.action ?? 'ALLOW') }],
  Service: [{ header: 'PORTS', cell: (spec) => list(field(spec.ports, 'port')) }],
};

export function extraColumns(kind: string): readonly Column[] {
  return COLUMNS[kind] ?? [];
}

function field(value: unknown, name: string): readonly unknown[] {
  return Array.isArray(value) ? value.map((item) => record(item)[name]) : [];
}

function list(value: unknown): string {
  if (!Array.isArray(value)) return '';
  const items = value
    .flat()
    .map(text)
    .filter((item) => item !== '');
  return items.length === 0 ? '' : items.join(',');
}
