/**
 * Every benchmark, one after another (`npm run bench`; `npm run bench -- --quick` for a CI-sized
 * run): each runs as a child process with the whole machine to itself, so no two measure at
 * once. Steps, with the scenarios of reference benchmarks.md §5 they cover:
 *   config (config compile and route lookup), authz (request-level security), http (S0, S1),
 *   proxies (S2, S3), inbound (S4), mtls (S5), failure (S8), control-plane (S7), grpc (S6) and
 *   telemetry; a step whose file is not there is listed as not run, and the overview says which
 *   scenarios are not yet measured.
 * Each child's JSON record (read from its stdout, its `Record:` line or its --json file) and
 * Markdown go into one record, bench/results/bench-<mode>-<time>.json, with the machine and the
 * versions of Node, undici, haproxy, nginx and @grpc/grpc-js; the Markdown (an overview table,
 * then every child's own tables) goes to bench/results/bench-<mode>-<time>.md and to stdout.
 * A failing step does not stop the others; the exit code is 1 when any failed.
 *
 * Run: npm run bench [-- --quick] [-- --only=http,proxies] [-- --skip=control-plane]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from './support/machine.ts';
import { overviewTable, type StepOutcome } from './support/overview.ts';
import { proxyVersions } from './support/proxy-process.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    skip: { type: 'string' },
  },
});
const isQuick = flags.quick === true;
const mode = isQuick ? 'quick' : 'full';
const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });

/** How a step's JSON record is found. */
type RecordSource = 'stdout-json' | 'record-line' | 'json-flag' | 'none';

interface Step {
  readonly id: string;
  readonly scenarios: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly quickArgs: readonly string[];
  readonly source: RecordSource;
}

const STEPS: readonly Step[] = [
  {
    id: 'config',
    scenarios: 'config compile, route lookup',
    file: 'config-compile.ts',
    args: [],
    quickArgs: ['--quick'],
    source: 'stdout-json',
  },
  {
    id: 'authz',
    scenarios: 'authz, JWT',
    file: 'authz.ts',
    args: [],
    quickArgs: ['--quick'],
    source: 'stdout-json',
  },
  {
    id: 'http',
    scenarios: 'S0, S1',
    file: 'http-overhead.ts',
    args: [],
    quickArgs: ['--quick'],
    source: 'record-line',
  },
  {
    id: 'proxies',
    scenarios: 'S0–S3',
    file: 'proxies.ts',
    args: [],
    quickArgs: ['--quick'],
    source: 'json-flag',
  },
  {
    id: 'inbound',
    scenarios: 'S4',
    file: 'inbound.ts',
    args: [],
    quickArgs: ['--quick'],
    source: 'record-line',
  },
  { id: 'mtls', scenarios: 'S5', file: 'mtls.ts', args: [], quickArgs: ['--quick'], source: 'record-line' },
  {
    id: 'failure',
    scenarios: 'S8',
    file: 'failure.ts',
    args: [],
    quickArgs: ['--quick'],
    source: 'json-flag',
  },
  {
    id: 'control-plane',
    scenarios: 'S7',
    file: 'control-plane-propagation.ts',
    args: [],
    quickArgs: ['--quick'],
    source: 'json-flag',
  },
  { id: 'grpc', scenarios: 'S6', file: 'grpc.ts', args: [], quickArgs: ['--quick'], source: 'record-line' },
  {
    id: 'telemetry',
    scenarios: 'telemetry',
    file: 'telemetry.ts',
    args: [],
    quickArgs: ['--rounds=1', '--seconds=0.5'],
    source: 'none',
  },
];

const only = flags.only?.split(',').map((id) => id.trim());
const skip = new Set(flags.skip?.split(',').map((id) => id.trim()) ?? []);
const unknown = [...(only ?? []), ...skip].filter((id) => !STEPS.some((step) => step.id === id));
if (unknown.length > 0) {
  console.error(`unknown step(s): ${unknown.join(', ')}; steps: ${STEPS.map((step) => step.id).join(', ')}`);
  process.exit(2);
}

function runChild(
  step: Step,
  jsonFile: string,
): Promise<{ exitCode: number | null; stdout: string; durationS: number }> {
  const file = fileURLToPath(new URL(`./${step.file}`, import.meta.url));
  const args = [
    '--conditions=@weft/source',
    file,
    ...(isQuick ? step.quickArgs : step.args),
    ...(step.source === 'json-flag' ? [`--json=${jsonFile}`] : []),
  ];
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // JSON-printing steps stay quiet here; their figures come in the summary.
      if (step.source !== 'stdout-json') process.stdout.write(chunk);
    });
    child.once('close', (exitCode) =>
      resolve({ exitCode, stdout, durationS: Number(process.hrtime.bigint() - started) / 1e9 }),
    );
  });
}

function readRecord(step: Step, stdout: string, jsonFile: string): unknown {
  try {
    if (step.source === 'stdout-json') return JSON.parse(stdout);
    if (step.source === 'json-flag')
      return existsSync(jsonFile) ? JSON.parse(readFileSync(jsonFile, 'utf8')) : undefined;
    if (step.source === 'record-line') {
      const path = /^Record: (.+)$/im.exec(stdout)?.[1]?.trim();
      return path === undefined ? undefined : JSON.parse(readFileSync(path, 'utf8'));
    }
  } catch (error) {
    return { unreadable: (error as Error).message };
  }
  return undefined;
}

const machine = describeMachine();
const outcomes: StepOutcome[] = [];
for (const step of STEPS) {
  const path = fileURLToPath(new URL(`./${step.file}`, import.meta.url));
  if ((only !== undefined && !only.includes(step.id)) || skip.has(step.id)) continue;
  if (!existsSync(path)) {
    outcomes.push({
      id: step.id,
      scenarios: step.scenarios,
      file: step.file,
      skippedReason: `bench/${step.file} is not there`,
    });
    continue;
  }
  console.error(
    `\n=== ${step.id} (${step.scenarios}): bench/${step.file} ${isQuick ? step.quickArgs.join(' ') : ''}`,
  );
  const jsonFile = `${resultsDir}${step.id}-${mode}-${stamp}.json`;
  const { exitCode, stdout, durationS } = await runChild(step, jsonFile);
  const record = readRecord(step, stdout, jsonFile);
  if (step.source === 'json-flag') rmSync(jsonFile, { force: true });
  outcomes.push({
    id: step.id,
    scenarios: step.scenarios,
    file: step.file,
    exitCode,
    durationS: Number(durationS.toFixed(1)),
    ...(record === undefined ? {} : { record }),
    ...(step.source === 'stdout-json' ? {} : { markdown: stdout.replace(/^Record: .+$/im, '').trim() }),
  });
}

function grpcJsVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)('@grpc/grpc-js/package.json') as { version: string }).version;
  } catch {
    return undefined;
  }
}

// Read after the steps: proxies.ts may have installed haproxy and nginx.
const versions = { ...proxyVersions(), grpcJs: grpcJsVersion() };
const failed = outcomes.filter((outcome) => outcome.exitCode !== undefined && outcome.exitCode !== 0);
const record = {
  scenario: 'all',
  mode,
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  machine: { ...machine, ...versions, loadAverageAtEnd: os.loadavg().map((load) => Number(load.toFixed(2))) },
  notMeasured: [
    ...(outcomes.some((outcome) => outcome.id === 'inbound' && outcome.record !== undefined)
      ? []
      : [{ scenario: 'S4', reason: 'needs the inbound server wrapper of @weft/http (bench/inbound.ts)' }]),
    ...(outcomes.some((outcome) => outcome.id === 'mtls' && outcome.record !== undefined)
      ? []
      : [{ scenario: 'S5', reason: 'needs the in-process mTLS transport (bench/mtls.ts)' }]),
  ],
  isOk: failed.length === 0,
  steps: outcomes,
};
const jsonPath = `${resultsDir}bench-${mode}-${stamp}.json`;
writeFileSync(jsonPath, `${JSON.stringify(record, null, 2)}\n`);

function jsonStepMarkdown(outcome: StepOutcome): string {
  const rows: string[] = [];
  const add = (key: string, value: unknown) => {
    if (typeof value === 'number' || typeof value === 'string') rows.push(`| ${key} | ${String(value)} |`);
    else if (value !== null && typeof value === 'object' && !Array.isArray(value))
      for (const [inner, innerValue] of Object.entries(value)) add(`${key}.${inner}`, innerValue);
  };
  for (const [key, value] of Object.entries((outcome.record ?? {}) as Record<string, unknown>))
    add(key, value);
  return ['| figure | value |', '| --- | --- |', ...rows].join('\n');
}

const sections = outcomes.map((outcome) => {
  const title = `## ${outcome.id} (${outcome.scenarios}) — bench/${outcome.file}`;
  if (outcome.skippedReason !== undefined) return `${title}\n\nNot run: ${outcome.skippedReason}.`;
  const status = `exit ${outcome.exitCode}, ${outcome.durationS} s`;
  const body = outcome.markdown ?? jsonStepMarkdown(outcome);
  return `${title}\n\n(${status})\n\n${body.replace(/^#{1,3} /gm, '### ')}`;
});
const markdown = [
  `# Weft benchmarks (${mode}), ${startedAt.toISOString()}`,
  '',
  `${machine.cpuModel}, ${machine.nproc} CPUs, Linux ${machine.kernel}, ${machine.totalMemoryMb} MB; Node ` +
    `${machine.node}, undici ${machine.undici}, haproxy ${versions.haproxy ?? '—'}, nginx ${versions.nginx ?? '—'}, ` +
    `@grpc/grpc-js ${versions.grpcJs ?? '—'}; commit ${machine.commit}; load average at start ` +
    `${machine.loadAverageAtStart.join(' ')}, at end ${record.machine.loadAverageAtEnd.join(' ')}.`,
  '',
  overviewTable(outcomes),
  '',
  'CPU: S0/S1 rows (from http-overhead) give client and server CPU per request, as Δ against `s0-request` ' +
    'for Weft; `(path)` rows (from proxies) give the CPU of every process on the path summed (client, proxies, ' +
    'origin), with Δ and overhead against S0. Medians over interleaved rounds; the sections below have the ranges.',
  '',
  ...sections.flatMap((section) => [section, '']),
].join('\n');
const markdownPath = `${resultsDir}bench-${mode}-${stamp}.md`;
writeFileSync(markdownPath, markdown);
console.log(`\n${'='.repeat(80)}\n`);
console.log(overviewTable(outcomes));
console.log(`\nRecord: ${jsonPath}\nMarkdown: ${markdownPath}`);
if (failed.length > 0) {
  console.error(`FAILED: ${failed.map((outcome) => `${outcome.id} (exit ${outcome.exitCode})`).join(', ')}`);
  process.exitCode = 1;
}
