import { type ChildProcess, fork } from 'node:child_process';
import { processCpuMicros } from './cpu-time.ts';

/** The origin child process, seen from the client. */
export interface OriginProcess {
  readonly pid: number;
  /** One port per server, all on 127.0.0.1. */
  readonly ports: readonly number[];
  /** Requests served so far, over all servers. */
  served(): Promise<number>;
  /** The child's CPU time so far (user + system), in µs. */
  cpuMicros(): number;
  close(): Promise<void>;
}

interface OriginMessage {
  readonly type: string;
  readonly ports?: number[];
  readonly served?: number;
}

function nextMessage(child: ChildProcess, type: string): Promise<OriginMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: OriginMessage) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`origin process exited (code ${code}) while waiting for '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Starts `servers` origin servers in one child process (see origin-server.ts). */
export async function startOrigin(servers: number): Promise<OriginProcess> {
  const child = fork(new URL('./origin-server.ts', import.meta.url), [String(servers)], {
    // Not the parent's flags: a --cpu-prof of the client must not profile the origin too.
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage(child, 'ready');
  const pid = child.pid;
  if (pid === undefined || ready.ports === undefined) throw new Error('origin process did not start');
  return {
    pid,
    ports: ready.ports,
    async served() {
      const reply = nextMessage(child, 'served');
      child.send({ type: 'served' });
      return (await reply).served ?? Number.NaN;
    },
    cpuMicros: () => processCpuMicros(pid),
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
