import { EDGE_LATENCY_BUCKETS } from '@weft/core';
import type { ClientEdgeSummary, EdgeSource, EdgeView, MergedEdge } from '../dashboard/edge-registry.ts';

/** Most edges and clients taken from one peer's answer (the dashboard caps what it draws anyway). */
const MAX_PEER_EDGES = 10_000;
const MAX_PEER_CLIENTS = 10_000;

type Fields = Readonly<Record<string, unknown>>;

/** A peer's answer that is not an edge view, naming the field. */
export class PeerAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerAnswerError';
  }
}

/**
 * A peer agent's `GET /v1/edges` answer, checked field by field (its counts are summed into this
 * agent's answer, so a wrong one is refused whole, never half-merged). A peer's percentiles and
 * error rate are not read: the merge computes them from the summed counts. `reporter` is
 * `source` when absent (an agent from before destination-reported edges).
 */
export function readPeerView(body: unknown): Pick<EdgeView, 'windowMs' | 'edges' | 'clients'> {
  const view = fields(body, 'the answer');
  const edges = list(view.edges, 'edges', MAX_PEER_EDGES).map((edge, index) =>
    readEdge(edge, `edges[${index}]`),
  );
  const clients = list(view.clients ?? [], 'clients', MAX_PEER_CLIENTS).map((client, index) =>
    readClient(client, `clients[${index}]`),
  );
  return { windowMs: count(view.windowMs, 'windowMs'), edges, clients };
}

function readEdge(value: unknown, field: string): MergedEdge {
  const edge = fields(value, field);
  const destination = fields(edge.destination, `${field}.destination`);
  const subset = optionalText(destination.subset, `${field}.destination.subset`);
  const reporter = edge.reporter ?? 'source';
  if (reporter !== 'source' && reporter !== 'destination')
    throw new PeerAnswerError(`${field}.reporter must be "source" or "destination"`);
  if (edge.protocol !== 'http' && edge.protocol !== 'grpc')
    throw new PeerAnswerError(`${field}.protocol must be "http" or "grpc"`);
  const latencyMs = list(edge.latencyMs, `${field}.latencyMs`, EDGE_LATENCY_BUCKETS).map((bucket, index) =>
    count(bucket, `${field}.latencyMs[${index}]`),
  );
  if (latencyMs.length !== EDGE_LATENCY_BUCKETS)
    throw new PeerAnswerError(`${field}.latencyMs must have ${EDGE_LATENCY_BUCKETS} buckets`);
  const codes: Record<string, number> = {};
  for (const [code, amount] of Object.entries(fields(edge.codes, `${field}.codes`))) {
    if (code !== 'other' && !/^[0-9]{1,3}$/.test(code))
      throw new PeerAnswerError(`${field}.codes keys must be status codes or "other"`);
    codes[code] = count(amount, `${field}.codes.${code}`);
  }
  const rate = quantity(edge.requestsPerSecond, `${field}.requestsPerSecond`);
  return {
    source: readSource(edge.source, `${field}.source`),
    destination: {
      service: text(destination.service, `${field}.destination.service`),
      ...(subset === undefined ? {} : { subset }),
      version: text(destination.version, `${field}.destination.version`),
    },
    reporter,
    protocol: edge.protocol,
    requests: count(edge.requests, `${field}.requests`),
    errors: count(edge.errors, `${field}.errors`),
    codes,
    latencyMs,
    durationMsSum: count(edge.durationMsSum, `${field}.durationMsSum`),
    requestBytes: count(edge.requestBytes, `${field}.requestBytes`),
    responseBytes: count(edge.responseBytes, `${field}.responseBytes`),
    mtlsRequests: count(edge.mtlsRequests, `${field}.mtlsRequests`),
    faults: count(edge.faults, `${field}.faults`),
    requestsPerSecond: rate,
    errorRate: 0,
    p50Ms: null,
    p99Ms: null,
    reporters: count(edge.reporters ?? 1, `${field}.reporters`),
  };
}

function readSource(value: unknown, field: string): EdgeSource {
  const source = fields(value, field);
  const service = optionalText(source.service, `${field}.service`);
  const principal = optionalText(source.principal, `${field}.principal`);
  return {
    namespace: text(source.namespace, `${field}.namespace`),
    workload: text(source.workload, `${field}.workload`),
    app: text(source.app, `${field}.app`),
    version: text(source.version, `${field}.version`),
    ...(service === undefined ? {} : { service }),
    ...(principal === undefined ? {} : { principal }),
  };
}

function readClient(value: unknown, field: string): ClientEdgeSummary {
  const client = fields(value, field);
  const dropped = fields(client.dropped ?? {}, `${field}.dropped`);
  const certificate = client.certificate ?? null;
  if (certificate !== null) fields(certificate, `${field}.certificate`);
  return {
    clientId: text(client.clientId, `${field}.clientId`),
    source: readSource(client.source, `${field}.source`),
    lastReportAgoMs: quantity(client.lastReportAgoMs, `${field}.lastReportAgoMs`),
    edges: count(client.edges, `${field}.edges`),
    requests: count(client.requests, `${field}.requests`),
    ejections: list(client.ejections ?? [], `${field}.ejections`, 1_000) as ClientEdgeSummary['ejections'],
    faults: list(client.faults ?? [], `${field}.faults`, 1_000) as ClientEdgeSummary['faults'],
    certificate: certificate as ClientEdgeSummary['certificate'],
    dropped: {
      edges: count(dropped.edges ?? 0, `${field}.dropped.edges`),
      requests: count(dropped.requests ?? 0, `${field}.dropped.requests`),
      reports: count(dropped.reports ?? 0, `${field}.dropped.reports`),
    },
  };
}

function fields(value: unknown, field: string): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new PeerAnswerError(`${field} must be a JSON object`);
  return value as Fields;
}

function list(value: unknown, field: string, max: number): readonly unknown[] {
  if (!Array.isArray(value)) throw new PeerAnswerError(`${field} must be an array`);
  if (value.length > max)
    throw new PeerAnswerError(`${field} has ${value.length} entries; at most ${max} are read`);
  return value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > 2_048)
    throw new PeerAnswerError(`${field} must be a non-empty string of at most 2048 characters`);
  return value;
}

function optionalText(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : text(value, field);
}

/** A non-negative finite number (a duration, a rate). */
function quantity(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new PeerAnswerError(`${field} must be a non-negative number`);
  return value;
}

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new PeerAnswerError(`${field} must be a non-negative integer`);
  return value;
}
