/**
 * Replays every input saved in ./corpus/ (house style rule 18): inputs that once broke the parser,
 * or were built to stress it, stay regression tests. See corpus/README.md for how to add one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ConfigIssue, type ParsedConfig, parseConfig } from '../src/index.ts';

const CORPUS = new URL('./corpus/', import.meta.url);
/** Not inputs: the folder's README, and the Biome config that keeps formatters off the inputs. */
const NOT_INPUTS = new Set(['README.md', 'biome.json']);
const FILES = readdirSync(CORPUS)
  .filter((name) => !NOT_INPUTS.has(name))
  .sort();

/** How each file is turned into text: UTF-8 as a file loader would, and Latin-1 too for bytes. */
function decodings(name: string): readonly { readonly label: string; readonly text: string }[] {
  const bytes = readFileSync(new URL(name, CORPUS));
  const utf8 = { label: 'utf8', text: bytes.toString('utf8') };
  return name.endsWith('.bin') ? [utf8, { label: 'latin1', text: bytes.toString('latin1') }] : [utf8];
}

function isFrozenJson(value: unknown): boolean {
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') {
    return true;
  }
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return false;
  return Object.isFrozen(value) && Object.values(value).every(isFrozenJson);
}

function expectComplete(issue: ConfigIssue, file: string): void {
  expect(['error', 'warning']).toContain(issue.severity);
  expect(issue.code).toMatch(/\S/);
  expect(issue.resource).toMatch(/\S/);
  expect(typeof issue.path).toBe('string');
  expect(issue.message).toMatch(/\S/);
  expect(issue.location.file).toBe(file);
}

const errorsOf = (parsed: ParsedConfig) => parsed.issues.filter((issue) => issue.severity === 'error');

describe('parser corpus replay', () => {
  it('holds at least the seed inputs', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(9);
    expect(FILES.every((name) => readFileSync(new URL(name, CORPUS)).length < 50 * 1024)).toBe(true);
  });

  for (const name of FILES) {
    for (const { label, text } of decodings(name)) {
      it(`${name} (${label}): returns, with complete issues and frozen JSON resources`, () => {
        const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
        const parsed = parseConfig(text, { file: name });
        for (const issue of parsed.issues) expectComplete(issue, name);
        for (const resource of parsed.resources) expect(isFrozenJson(resource)).toBe(true);
        // No input may reach Object.prototype (bad-inputs A4).
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys);
        if (name.startsWith('reject-')) {
          expect(errorsOf(parsed).length).toBeGreaterThan(0);
          expect(parsed.resources).toEqual([]);
        }
        if (name.startsWith('accept-')) expect(errorsOf(parsed)).toEqual([]);
      });
    }
  }
});
