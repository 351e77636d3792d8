/**
 * CPU time read from Linux /proc: a child's user+system time (the origin), and the whole
 * machine's busy time, so a run can report how much CPU went to processes other than the
 * client and origin (another job on the box). The client's own time is `process.cpuUsage()`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/** The resolution of every /proc CPU figure. */
export const MICROS_PER_TICK = 1e6 / clockTicksPerSecond();

/** utime + stime of a process, in µs (resolution: one clock tick, usually 10 ms). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after its closing paren do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the paren, index 0 is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) * MICROS_PER_TICK;
}

/** Busy CPU time of the whole machine (all CPUs, everything but idle and iowait), in µs. */
export function systemBusyMicros(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (total - idle) * MICROS_PER_TICK;
}

/** The client's own CPU time (all threads: JS, GC, libuv), in µs. */
export function selfCpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}
