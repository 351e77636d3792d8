/**
 * RELIABILITY.md answers every row of the bad-input catalogue (issue 10, Checks): this test
 * parses its table and checks that every catalogue id (test/fixtures/bad-input-ids.json, copied
 * from the catalogue so that a fresh clone needs nothing outside the repository) has exactly one
 * row, and that each row names tests that exist — the file exists and contains the test's title —
 * or states a decision or an open todo in words.
 *
 * Cell format (column "Covered by"): test references `` `path/from/root.test.ts` › “title” ``
 * (several separated by `<br>`); any text starting "Decision:" or "todo (in progress: …)".
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../', import.meta.url);
const CATALOGUE_IDS = (
  JSON.parse(readFileSync(new URL('test/fixtures/bad-input-ids.json', ROOT), 'utf8')) as { ids: string[] }
).ids;
const DOCUMENT = readFileSync(new URL('RELIABILITY.md', ROOT), 'utf8');

interface Row {
  readonly id: string;
  readonly coveredBy: string;
  readonly line: number;
}

/** The catalogue table's rows: `| A1 | case | covered by | notes |`. */
function tableRows(markdown: string): Row[] {
  const rows: Row[] = [];
  markdown.split('\n').forEach((text, index) => {
    const match = /^\| ([A-I]\d+) \|(.*)\|\s*$/.exec(text);
    if (match === null) return;
    const cells = (match[2] as string).split(' | ').map((cell) => cell.trim());
    rows.push({ id: match[1] as string, coveredBy: cells[1] ?? '', line: index + 1 });
  });
  return rows;
}

interface TestReference {
  readonly file: string;
  readonly title: string;
}

function references(cell: string): TestReference[] {
  return [...cell.matchAll(/`([^`]+\.test\.ts)` › “([^”]+)”/g)].map((match) => ({
    file: match[1] as string,
    title: match[2] as string,
  }));
}

const hasDecisionOrTodo = (cell: string): boolean => /Decision:|todo \(in progress: [^)]+\)/.test(cell);

const rows = tableRows(DOCUMENT);

describe('RELIABILITY.md', () => {
  it('the id list is the catalogue’s 101 rows, A1…I4', () => {
    expect(CATALOGUE_IDS).toHaveLength(101);
    expect(new Set(CATALOGUE_IDS).size).toBe(101);
    expect(CATALOGUE_IDS[0]).toBe('A1');
    expect(CATALOGUE_IDS.at(-1)).toBe('I4');
  });

  it('has exactly one row per catalogue id, and no row for anything else', () => {
    const ids = rows.map((row) => row.id);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
    expect([...ids].sort()).toEqual([...CATALOGUE_IDS].sort());
  });

  it('every row names at least one test, or states a decision or an open todo', () => {
    const empty = rows.filter(
      (row) => references(row.coveredBy).length === 0 && !hasDecisionOrTodo(row.coveredBy),
    );
    expect(empty.map((row) => `${row.id} (line ${row.line})`)).toEqual([]);
  });

  it('every named test exists: the file is in the repository and contains the title', () => {
    const missing: string[] = [];
    const sources = new Map<string, string | undefined>();
    for (const row of rows) {
      for (const { file, title } of references(row.coveredBy)) {
        if (!sources.has(file)) {
          const url = new URL(file, ROOT);
          sources.set(file, existsSync(url) ? readFileSync(url, 'utf8') : undefined);
        }
        const source = sources.get(file);
        if (source === undefined) missing.push(`${row.id}: no file ${file}`);
        else if (!source.includes(title)) missing.push(`${row.id}: ${file} has no test “${title}”`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('catches a broken reference (the check above can fail)', () => {
    const broken = references('`test/fault-proxy.test.ts` › “no such test title”');
    expect(broken).toHaveLength(1);
    expect(
      readFileSync(new URL('test/fault-proxy.test.ts', ROOT), 'utf8').includes(broken[0]?.title ?? ''),
    ).toBe(false);
    expect(tableRows('| A1 | x | `a.test.ts` › “t” | y |')).toEqual([
      { id: 'A1', coveredBy: '`a.test.ts` › “t”', line: 1 },
    ]);
  });
});
