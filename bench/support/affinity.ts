import { execFileSync } from 'node:child_process';

/**
 * Pins every thread of a process to one CPU with taskset(1) (util-linux), so client and origin
 * each keep a core of their own and do not migrate between windows: CPU per request then
 * depends less on where the scheduler happened to put them.
 */
export function pinToCpu(pid: number, cpu: number): void {
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', String(cpu), String(pid)], {
    stdio: 'ignore',
  });
}
