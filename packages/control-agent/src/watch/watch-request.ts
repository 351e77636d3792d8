import { PROTOCOL_VERSION, type WatchRequest } from '@weft/core';
import { checkEpoch } from '../clients/mark-input.ts';
import { badRequest, HttpError } from '../http/http-error.ts';

/** Protocol versions this agent speaks. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,252}$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const WORKLOAD = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** The query of `GET /v1/watch`, checked (400 naming the parameter otherwise). */
export function parseWatchRequest(query: URLSearchParams): WatchRequest {
  const version = query.get('protocolVersion');
  if (version === null) {
    throw new HttpError(400, 'unsupported-protocol-version', 'protocolVersion is required', {
      details: { supported: SUPPORTED_PROTOCOL_VERSIONS },
    });
  }
  const protocolVersion = /^[0-9]{1,6}$/.test(version) ? Number(version) : Number.NaN;
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion)) {
    throw new HttpError(
      400,
      'unsupported-protocol-version',
      `protocolVersion ${JSON.stringify(version)} is not one this agent speaks (${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
      { details: { supported: SUPPORTED_PROTOCOL_VERSIONS } },
    );
  }
  const clientId = required(query, 'clientId', CLIENT_ID, 'letters, digits and . _ : @ -, at most 253');
  const namespace = required(query, 'namespace', NAMESPACE, 'a DNS-1123 label');
  const workload = required(query, 'workload', WORKLOAD, 'letters, digits and . _ -, at most 253');
  const trustBundle = query.get('trustBundle');
  if (trustBundle !== null && trustBundle !== 'true' && trustBundle !== 'false') {
    throw badRequest('trustBundle must be true or false');
  }
  const wants = trustBundle === 'true' ? { wantsTrustBundle: true } : {};
  const epoch = query.get('epoch');
  const revision = query.get('revision');
  if ((epoch === null) !== (revision === null)) {
    throw badRequest('epoch and revision go together: give both to resume, or neither');
  }
  if (epoch === null || revision === null)
    return { clientId, namespace, workload, protocolVersion, ...wants };
  if (!/^[0-9]{1,15}$/.test(revision)) throw badRequest('revision must be an integer ≥ 0');
  return {
    clientId,
    namespace,
    workload,
    protocolVersion,
    resume: { epoch: checkEpoch(epoch, 'epoch'), revision: Number(revision) },
    ...wants,
  };
}

function required(query: URLSearchParams, name: string, pattern: RegExp, rule: string): string {
  const value = query.get(name);
  if (value === null || value === '') throw badRequest(`${name} is required`);
  if (!pattern.test(value)) throw badRequest(`${name} must be ${rule}`);
  return value;
}
