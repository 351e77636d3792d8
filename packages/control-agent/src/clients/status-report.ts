import type { ClientStatusReport } from '@weft/core';
import { badRequest } from '../http/http-error.ts';
import { parseMark } from './mark-input.ts';

/** Longest NACK error kept; longer ones are cut (the client's validator can be verbose). */
export const MAX_NACK_ERROR_CHARS = 16 * 1024;

/** Checks a `POST /v1/status` body field by field (400 naming the field otherwise). */
export function parseStatusReport(body: unknown): ClientStatusReport {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('the status report must be a JSON object');
  }
  const object = body as Record<string, unknown>;
  const { clientId, status, error, configDump } = object;
  if (typeof clientId !== 'string' || clientId === '')
    throw badRequest('clientId must be a non-empty string');
  if (status !== 'ack' && status !== 'nack') throw badRequest('status must be "ack" or "nack"');
  if (error !== undefined && typeof error !== 'string') throw badRequest('error must be a string');
  const mark = parseMark(object.mark, 'mark');
  return {
    clientId,
    mark,
    status,
    ...(typeof error === 'string' ? { error: truncate(error) } : {}),
    ...(configDump === undefined ? {} : { configDump }),
  };
}

function truncate(text: string): string {
  return text.length <= MAX_NACK_ERROR_CHARS ? text : `${text.slice(0, MAX_NACK_ERROR_CHARS)}… (truncated)`;
}
