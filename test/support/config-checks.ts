/**
 * What every result of the config parser must be, whatever it was given (shared by
 * properties-config-bytes.test.ts and corpus-replay.test.ts): issues complete and pointing into
 * the input, resources frozen plain JSON, and Object.prototype untouched (bad-inputs A4).
 */
import { type ConfigIssue, type ParsedConfig, parseConfig } from '@weft/core';
import { expect } from 'vitest';

export function isFrozenJson(value: unknown): boolean {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') {
    return true;
  }
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return false;
  return Object.isFrozen(value) && Object.values(value).every(isFrozenJson);
}

export function expectComplete(issue: ConfigIssue, file: string): void {
  expect(['error', 'warning']).toContain(issue.severity);
  expect(issue.code).toMatch(/\S/);
  expect(issue.resource).toMatch(/\S/);
  expect(typeof issue.path).toBe('string');
  expect(issue.message).toMatch(/\S/);
  expect(issue.location.file).toBe(file);
  for (const position of [issue.location.line, issue.location.column]) {
    if (position !== undefined) expect(Number.isInteger(position) && position >= 1).toBe(true);
  }
}

/** Parses `bytes` as UTF-8 and as Latin-1; checks what every parse result must be. */
export function parseEveryWay(bytes: Buffer, file: string): ParsedConfig[] {
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
  const results: ParsedConfig[] = [];
  for (const encoding of ['utf8', 'latin1'] as const) {
    const parsed = parseConfig(bytes.toString(encoding), { file });
    for (const issue of parsed.issues) expectComplete(issue, file);
    for (const resource of parsed.resources) expect(isFrozenJson(resource)).toBe(true);
    results.push(parsed);
  }
  expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys);
  return results;
}
