import { fork } from 'node:child_process';
import { closeChild, nextMessage } from './child-process.ts';
import type { Fault } from './failure-origin.ts';

/** The ten endpoints of bench/failure.ts (S8) in their child process, seen from the client. */
export interface FailureOrigin {
  readonly pid: number;
  readonly ports: readonly number[];
  /** Zeroes the counts and makes endpoint `faultyIndex` misbehave as `fault` from now on. */
  reset(fault: Fault, faultyIndex: number, seed: number): Promise<void>;
  /** Requests that arrived at, and were answered by, each endpoint since the last reset. */
  counts(): Promise<{ readonly arrivals: readonly number[]; readonly answered: readonly number[] }>;
  close(): Promise<void>;
}

interface Message {
  readonly type: string;
  readonly ports?: number[];
  readonly arrivals?: number[];
  readonly answered?: number[];
}

export async function startFailureOrigin(servers: number): Promise<FailureOrigin> {
  const child = fork(new URL('./failure-origin.ts', import.meta.url), [String(servers)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage<Message>(child, 'ready', 'failure origin');
  if (child.pid === undefined || ready.ports === undefined) throw new Error('failure origin did not start');
  return {
    pid: child.pid,
    ports: ready.ports,
    async reset(fault, faultyIndex, seed) {
      const done = nextMessage<Message>(child, 'reset-done', 'failure origin');
      child.send({ type: 'reset', fault, faultyIndex, seed });
      await done;
    },
    async counts() {
      const reply = nextMessage<Message>(child, 'counts', 'failure origin');
      child.send({ type: 'counts' });
      const message = await reply;
      return { arrivals: message.arrivals ?? [], answered: message.answered ?? [] };
    },
    close: () => closeChild(child),
  };
}
