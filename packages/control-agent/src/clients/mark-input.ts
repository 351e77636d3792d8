import type { RevisionMark } from '@weft/core';
import { badRequest } from '../http/http-error.ts';

const MAX_EPOCH_CHARS = 256;

/** A RevisionMark from untrusted JSON: `{ epoch: non-empty string, revision: integer ≥ 0 }`. */
export function parseMark(value: unknown, field: string): RevisionMark {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`${field} must be an object { epoch, revision }`);
  }
  const { epoch, revision } = value as Record<string, unknown>;
  return {
    epoch: checkEpoch(epoch, `${field}.epoch`),
    revision: checkRevision(revision, `${field}.revision`),
  };
}

export function checkEpoch(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_EPOCH_CHARS) {
    throw badRequest(`${field} must be a non-empty string of at most ${MAX_EPOCH_CHARS} characters`);
  }
  return value;
}

export function checkRevision(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`${field} must be an integer ≥ 0`);
  }
  return value;
}
