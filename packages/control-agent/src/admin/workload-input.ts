import { isIP } from 'node:net';
import type { Locality, RegisteredWorkload } from '@weft/core';
import { badRequest } from '../http/http-error.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PROTOCOL = /^[a-z][a-z0-9-]{0,31}$/;
const MAX_LABELS = 64;
const MAX_PORTS = 64;
const MIN_TTL_MS = 1_000;

const FIELDS = new Set([
  'name',
  'namespace',
  'service',
  'serviceAccount',
  'labels',
  'address',
  'ports',
  'protocols',
  'locality',
  'weight',
  'ttlMs',
]);

export interface Registration {
  readonly workload: RegisteredWorkload;
  readonly ttlMs: number;
}

/**
 * A `POST /v1/workloads` body: a RegisteredWorkload and `ttlMs`, every field checked; unknown
 * fields are refused (a typo in a registration would otherwise go unnoticed).
 */
export function parseRegistration(body: unknown, maxTtlMs: number): Registration {
  const object = asObject(body, 'the registration');
  for (const key of Object.keys(object)) {
    if (!FIELDS.has(key)) throw badRequest(`unknown field "${key}" (known: ${[...FIELDS].join(', ')})`);
  }
  const ttlMs = object.ttlMs;
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < MIN_TTL_MS || ttlMs > maxTtlMs) {
    throw badRequest(`ttlMs must be an integer from ${MIN_TTL_MS} to ${maxTtlMs}`);
  }
  const workload: RegisteredWorkload = {
    name: text(object.name, 'name', NAME, 'letters, digits, ".", "_" and "-", at most 253'),
    namespace: text(object.namespace, 'namespace', DNS_LABEL, 'a DNS-1123 label'),
    service: text(object.service, 'service', DNS_LABEL, 'a DNS-1123 label'),
    serviceAccount: text(object.serviceAccount, 'serviceAccount', NAME, 'letters, digits, ".", "_" and "-"'),
    labels: stringMap(object.labels ?? {}, 'labels'),
    address: address(object.address),
    ports: ports(object.ports),
    ...(object.protocols === undefined ? {} : { protocols: protocols(object.protocols) }),
    ...(object.locality === undefined ? {} : { locality: locality(object.locality) }),
    ...(object.weight === undefined ? {} : { weight: weight(object.weight) }),
  };
  return { workload, ttlMs };
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string, pattern: RegExp, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw badRequest(`${field} must be ${rule}`);
  return value;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  const object = asObject(value, field);
  const entries = Object.entries(object);
  if (entries.length > MAX_LABELS) throw badRequest(`${field} may have at most ${MAX_LABELS} entries`);
  const result: Record<string, string> = {};
  for (const [key, entry] of entries) {
    if (key === '' || key.length > 317 || typeof entry !== 'string' || entry.length > 1024) {
      throw badRequest(`${field}.${key} must be a string (keys up to 317 characters, values up to 1024)`);
    }
    result[key] = entry;
  }
  return result;
}

function address(value: unknown): string {
  if (
    typeof value !== 'string' ||
    (isIP(value) === 0 && !(value.length <= 253 && DNS_SUBDOMAIN.test(value)))
  ) {
    throw badRequest('address must be an IP address or a DNS name');
  }
  return value;
}

function port(value: unknown, field: string): number {
  const number = typeof value === 'string' && /^[0-9]{1,5}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65_535) {
    throw badRequest(`${field} must be a port number from 1 to 65535`);
  }
  return number;
}

function ports(value: unknown): Record<number, number> {
  const object = asObject(value, 'ports (service port → target port)');
  const entries = Object.entries(object);
  if (entries.length === 0 || entries.length > MAX_PORTS) {
    throw badRequest(`ports must map 1 to ${MAX_PORTS} service ports to the ports the process listens on`);
  }
  const result: Record<number, number> = {};
  for (const [servicePort, targetPort] of entries) {
    result[port(servicePort, 'ports key')] = port(targetPort, `ports.${servicePort}`);
  }
  return result;
}

function protocols(value: unknown): Record<number, string> {
  const object = asObject(value, 'protocols');
  const result: Record<number, string> = {};
  for (const [servicePort, protocol] of Object.entries(object)) {
    result[port(servicePort, 'protocols key')] = text(
      protocol,
      `protocols.${servicePort}`,
      PROTOCOL,
      'a protocol name such as http, http2, grpc or tcp',
    );
  }
  return result;
}

function locality(value: unknown): Locality {
  const object = asObject(value, 'locality');
  const result: { region?: string; zone?: string; subzone?: string } = {};
  for (const [key, entry] of Object.entries(object)) {
    if (key !== 'region' && key !== 'zone' && key !== 'subzone') {
      throw badRequest(`locality.${key} is not a locality field (region, zone, subzone)`);
    }
    if (typeof entry !== 'string' || entry.length > 128) {
      throw badRequest(`locality.${key} must be a string of at most 128 characters`);
    }
    result[key] = entry;
  }
  return result;
}

function weight(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw badRequest('weight must be an integer from 1 to 1000000');
  }
  return value;
}
