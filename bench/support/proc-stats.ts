/**
 * Per-process figures from Linux /proc for processes the benchmark started but does not run in:
 * resident memory, and the descendants of a process (nginx's workers under its master), so that a
 * proxy's CPU and memory are summed over every process it consists of.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processCpuMicros } from './cpu-time.ts';

/** Resident set size of a process in bytes (VmRSS), or NaN once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kilobytes * 1024;
  } catch {
    return Number.NaN;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name's closing paren: state, then the parent's pid.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** `root` and every process below it, read from one scan of /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [pid]);
    else siblings.push(pid);
  }
  const tree: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** CPU time (user + system, µs) summed over `pids`; a process that has exited counts as 0. */
export function cpuMicrosOf(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += processCpuMicros(pid);
    } catch {
      // Gone: nothing more to count.
    }
  }
  return sum;
}

/** RSS summed over `pids`, in bytes; processes that have exited are left out. */
export function rssBytesOf(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const bytes = rssBytes(pid);
    if (Number.isFinite(bytes)) sum += bytes;
  }
  return sum;
}
