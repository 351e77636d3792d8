import type { ClientStatusReport, RevisionMark } from '@weft/core';
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
  if (configDump !== undefined) checkConfigDump(configDump);
  return {
    clientId,
    mark,
    status,
    ...(typeof error === 'string' ? { error: truncate(error) } : {}),
    ...(configDump === undefined ? {} : { configDump }),
  };
}

/** A client's answer to a config dump request: `POST /v1/clients/{id}/config`. */
export interface PostedConfigDump {
  readonly mark: RevisionMark;
  readonly configDump: unknown;
}

export function parsePostedConfigDump(body: unknown): PostedConfigDump {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('the config dump must be a JSON object');
  }
  const object = body as Record<string, unknown>;
  const mark = parseMark(object.mark, 'mark');
  if (object.configDump === undefined) throw badRequest('configDump is required');
  checkConfigDump(object.configDump);
  return { mark, configDump: object.configDump };
}

/** A hostile dump nested deep enough would overflow the stack when served back (bad-inputs B8). */
function checkConfigDump(configDump: unknown): void {
  if (depthOf(configDump) > MAX_CONFIG_DUMP_DEPTH) {
    throw badRequest(`configDump is nested deeper than ${MAX_CONFIG_DUMP_DEPTH} levels`);
  }
}

function truncate(text: string): string {
  return text.length <= MAX_NACK_ERROR_CHARS ? text : `${text.slice(0, MAX_NACK_ERROR_CHARS)}… (truncated)`;
}

/** A client's config dump is a few levels deep (views → tables → routes → fields). */
const MAX_CONFIG_DUMP_DEPTH = 32;

/** The nesting depth of a JSON value, without recursion (the value is untrusted). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const entry = stack.pop();
    if (entry === undefined) break;
    const { node, depth } = entry;
    if (node === null || typeof node !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_CONFIG_DUMP_DEPTH) return deepest;
    for (const child of Object.values(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return deepest;
}
