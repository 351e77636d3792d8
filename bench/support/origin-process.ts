import { fork } from 'node:child_process';
import { closeChild, nextMessage } from './child-process.ts';
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

/** Starts `servers` origin servers in one child process (see origin-server.ts). */
export async function startOrigin(servers: number): Promise<OriginProcess> {
  const child = fork(new URL('./origin-server.ts', import.meta.url), [String(servers)], {
    // Not the parent's flags: a --cpu-prof of the client must not profile the origin too.
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage<OriginMessage>(child, 'ready', 'origin process');
  const pid = child.pid;
  if (pid === undefined || ready.ports === undefined) throw new Error('origin process did not start');
  return {
    pid,
    ports: ready.ports,
    async served() {
      const reply = nextMessage<OriginMessage>(child, 'served', 'origin process');
      child.send({ type: 'served' });
      return (await reply).served ?? Number.NaN;
    },
    cpuMicros: () => processCpuMicros(pid),
    close: () => closeChild(child),
  };
}
