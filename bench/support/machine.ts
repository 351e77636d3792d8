/** What a benchmark record must say about where it ran (reference/benchmarks.md §5). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  readonly node: string;
  readonly undici: string;
  readonly v8: string;
  readonly cpuModel: string;
  readonly nproc: number;
  readonly kernel: string;
  readonly platform: string;
  readonly totalMemoryMb: number;
  /** 1/5/15-minute load averages when the run started; other jobs on the box show here. */
  readonly loadAverageAtStart: readonly number[];
  readonly commit: string;
}

function gitDescribe(): string {
  try {
    const run = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = run('rev-parse', '--short', 'HEAD');
    // Untracked files (a new benchmark, results) do not change the code measured.
    return run('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}+dirty`;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  const undiciPackage = JSON.parse(
    readFileSync(new URL('../../node_modules/undici/package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return {
    node: process.version,
    undici: undiciPackage.version,
    v8: process.versions.v8,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    nproc: os.availableParallelism(),
    kernel: os.release(),
    platform: `${os.type()} ${os.arch()}`,
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverageAtStart: os.loadavg().map((load) => Number(load.toFixed(2))),
    commit: gitDescribe(),
  };
}
