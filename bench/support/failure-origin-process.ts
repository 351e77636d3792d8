import { type ChildProcess, fork } from 'node:child_process';
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

function nextMessage(child: ChildProcess, type: string): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Message) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`failure origin exited (code ${code}) while waiting for '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function startFailureOrigin(servers: number): Promise<FailureOrigin> {
  const child = fork(new URL('./failure-origin.ts', import.meta.url), [String(servers)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage(child, 'ready');
  if (child.pid === undefined || ready.ports === undefined) throw new Error('failure origin did not start');
  return {
    pid: child.pid,
    ports: ready.ports,
    async reset(fault, faultyIndex, seed) {
      const done = nextMessage(child, 'reset-done');
      child.send({ type: 'reset', fault, faultyIndex, seed });
      await done;
    },
    async counts() {
      const reply = nextMessage(child, 'counts');
      child.send({ type: 'counts' });
      const message = await reply;
      return { arrivals: message.arrivals ?? [], answered: message.answered ?? [] };
    },
    close() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.disconnect();
      });
    },
  };
}
