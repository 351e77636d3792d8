import {
  EDGE_LATENCY_BUCKETS,
  type EdgeAggregate,
  type EdgeCaller,
  type EdgeDestination,
  type EdgeReport,
  type EjectionState,
  type FaultCount,
  type InboundEdgeAggregate,
  MAX_CODES_PER_EDGE,
  MAX_EDGES_PER_REPORT,
  MAX_EJECTIONS_PER_REPORT,
  MAX_FAULT_ROUTES_PER_REPORT,
} from '@weft/core';
import { badRequest } from '../http/http-error.ts';

/** Longest strings taken from a report: label values, host names, cluster and route names. */
const MAX_LABEL_CHARS = 63;
const MAX_HOST_CHARS = 253;
const MAX_NAME_CHARS = 512;
const MAX_SPIFFE_ID_CHARS = 2_048;
/** A report covers seconds; anything past an hour is a client bug. */
const MAX_INTERVAL_MS = 60 * 60 * 1000;

type Fields = Readonly<Record<string, unknown>>;

/**
 * Checks a `POST /v1/clients/{id}/edges` body field by field (400 naming the field otherwise):
 * every count a non-negative safe integer, histograms of the protocol's bucket count summing to
 * the requests, strings and lists within their caps (PROTOCOL.md §3.8). Fields this agent does
 * not know are ignored, so that a newer client can add some.
 */
export function parseEdgeReport(body: unknown): EdgeReport {
  const object = fields(body, 'the edge report');
  const source = fields(object.source, 'source');
  const dropped = fields(object.dropped ?? {}, 'dropped');
  const certificate = object.certificate === undefined ? undefined : parseCertificate(object.certificate);
  const service = optionalText(source.service, 'source.service', MAX_HOST_CHARS);
  const parsedSource = {
    app: text(source.app, 'source.app', MAX_LABEL_CHARS),
    version: text(source.version, 'source.version', MAX_LABEL_CHARS),
    ...(service === undefined ? {} : { service }),
  };
  const edges = list(object.edges, 'edges', MAX_EDGES_PER_REPORT);
  // One cap for both lists: a client tracks at most MAX_EDGES_PER_REPORT edges of either kind.
  const inbound = list(object.inbound ?? [], 'inbound', MAX_EDGES_PER_REPORT - edges.length);
  return {
    source: parsedSource,
    intervalMs: count(object.intervalMs, 'intervalMs', MAX_INTERVAL_MS),
    edges: edges.map((edge, index) => parseEdge(edge, `edges[${index}]`)),
    ...(inbound.length === 0
      ? {}
      : { inbound: inbound.map((edge, index) => parseInboundEdge(edge, `inbound[${index}]`)) }),
    dropped: {
      edges: count(dropped.edges ?? 0, 'dropped.edges'),
      requests: count(dropped.requests ?? 0, 'dropped.requests'),
      reports: count(dropped.reports ?? 0, 'dropped.reports'),
    },
    ejections: list(object.ejections ?? [], 'ejections', MAX_EJECTIONS_PER_REPORT).map((entry, index) =>
      parseEjection(entry, `ejections[${index}]`),
    ),
    faults: list(object.faults ?? [], 'faults', MAX_FAULT_ROUTES_PER_REPORT).map((entry, index) =>
      parseFault(entry, `faults[${index}]`),
    ),
    ...(certificate === undefined ? {} : { certificate }),
  };
}

function parseEdge(value: unknown, field: string): EdgeAggregate {
  const edge = fields(value, field);
  const destination = fields(edge.destination, `${field}.destination`);
  const subset = optionalText(destination.subset, `${field}.destination.subset`, MAX_HOST_CHARS);
  const parsedDestination: EdgeDestination = {
    service: text(destination.service, `${field}.destination.service`, MAX_HOST_CHARS),
    ...(subset === undefined ? {} : { subset }),
    version: text(destination.version, `${field}.destination.version`, MAX_LABEL_CHARS),
  };
  return { destination: parsedDestination, ...parseCounts(edge, field) };
}

/** An inbound edge (PROTOCOL.md §3.8.2): its caller, and the same counts as an outbound edge. */
function parseInboundEdge(value: unknown, field: string): InboundEdgeAggregate {
  const edge = fields(value, field);
  return { caller: parseCaller(edge.caller, `${field}.caller`), ...parseCounts(edge, field) };
}

function parseCaller(value: unknown, field: string): EdgeCaller {
  const caller = fields(value, field);
  if (caller.kind === 'unknown') return { kind: 'unknown' };
  if (caller.kind !== 'peer') throw badRequest(`${field}.kind must be "peer" or "unknown"`);
  return {
    kind: 'peer',
    namespace: text(caller.namespace, `${field}.namespace`, MAX_LABEL_CHARS),
    workload: text(caller.workload, `${field}.workload`, MAX_HOST_CHARS),
    app: text(caller.app, `${field}.app`, MAX_LABEL_CHARS),
    version: text(caller.version, `${field}.version`, MAX_LABEL_CHARS),
    principal: text(caller.principal, `${field}.principal`, MAX_SPIFFE_ID_CHARS),
  };
}

function parseCounts(edge: Fields, field: string): Omit<EdgeAggregate, 'destination'> {
  if (edge.protocol !== 'http' && edge.protocol !== 'grpc')
    throw badRequest(`${field}.protocol must be "http" or "grpc"`);
  const requests = count(edge.requests, `${field}.requests`);
  const atMostRequests = (name: string): number => {
    const value = count(edge[name], `${field}.${name}`);
    if (value > requests) throw badRequest(`${field}.${name} cannot exceed ${field}.requests`);
    return value;
  };
  const latency = list(edge.latencyMs, `${field}.latencyMs`, EDGE_LATENCY_BUCKETS).map((bucket, index) =>
    count(bucket, `${field}.latencyMs[${index}]`),
  );
  if (latency.length !== EDGE_LATENCY_BUCKETS)
    throw badRequest(`${field}.latencyMs must have ${EDGE_LATENCY_BUCKETS} buckets`);
  if (latency.reduce((sum, bucket) => sum + bucket, 0) !== requests)
    throw badRequest(`${field}.latencyMs must add up to ${field}.requests`);
  return {
    protocol: edge.protocol,
    requests,
    errors: atMostRequests('errors'),
    codes: parseCodes(edge.codes, `${field}.codes`),
    latencyMs: latency,
    durationMsSum: count(edge.durationMsSum, `${field}.durationMsSum`),
    requestBytes: count(edge.requestBytes, `${field}.requestBytes`),
    responseBytes: count(edge.responseBytes, `${field}.responseBytes`),
    mtlsRequests: atMostRequests('mtlsRequests'),
    faults: atMostRequests('faults'),
  };
}

function parseCodes(value: unknown, field: string): Record<string, number> {
  const codes = fields(value, field);
  const entries = Object.entries(codes);
  if (entries.length > MAX_CODES_PER_EDGE + 1)
    throw badRequest(`${field} may name at most ${MAX_CODES_PER_EDGE} codes and "other"`);
  const parsed: Record<string, number> = {};
  for (const [code, amount] of entries) {
    if (code !== 'other' && !/^[0-9]{1,3}$/.test(code))
      throw badRequest(`${field} keys must be status codes (0–999) or "other"`);
    parsed[code] = count(amount, `${field}.${code}`);
  }
  return parsed;
}

function parseEjection(value: unknown, field: string): EjectionState {
  const entry = fields(value, field);
  return {
    cluster: text(entry.cluster, `${field}.cluster`, MAX_NAME_CHARS),
    endpoint: text(entry.endpoint, `${field}.endpoint`, MAX_NAME_CHARS),
    reason: text(entry.reason, `${field}.reason`, MAX_LABEL_CHARS),
    ejectedForMs: count(entry.ejectedForMs, `${field}.ejectedForMs`),
    times: count(entry.times, `${field}.times`),
  };
}

function parseFault(value: unknown, field: string): FaultCount {
  const entry = fields(value, field);
  return {
    route: text(entry.route, `${field}.route`, MAX_NAME_CHARS),
    delays: count(entry.delays, `${field}.delays`),
    aborts: count(entry.aborts, `${field}.aborts`),
    overflows: count(entry.overflows ?? 0, `${field}.overflows`),
  };
}

function parseCertificate(value: unknown): NonNullable<EdgeReport['certificate']> {
  const entry = fields(value, 'certificate');
  const spiffeId = optionalText(entry.spiffeId, 'certificate.spiffeId', MAX_SPIFFE_ID_CHARS);
  const notAfter = text(entry.notAfter, 'certificate.notAfter', 64);
  if (Number.isNaN(Date.parse(notAfter))) throw badRequest('certificate.notAfter must be an RFC 3339 time');
  return { ...(spiffeId === undefined ? {} : { spiffeId }), notAfter: new Date(notAfter).toISOString() };
}

function fields(value: unknown, field: string): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw badRequest(`${field} must be a JSON object`);
  return value as Fields;
}

function list(value: unknown, field: string, max: number): readonly unknown[] {
  if (!Array.isArray(value)) throw badRequest(`${field} must be an array`);
  if (value.length > max)
    throw badRequest(`${field} has ${value.length} entries; at most ${max} are accepted`);
  return value;
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value === '' || value.length > max)
    throw badRequest(`${field} must be a non-empty string of at most ${max} characters`);
  return value;
}

function optionalText(value: unknown, field: string, max: number): string | undefined {
  return value === undefined ? undefined : text(value, field, max);
}

function count(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max)
    throw badRequest(`${field} must be an integer from 0 to ${max}`);
  return value;
}
