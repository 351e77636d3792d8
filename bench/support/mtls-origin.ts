import { fork } from 'node:child_process';
import type { IdentityMaterial } from '../../packages/core/src/index.ts';
import { closeChild, nextMessage } from './child-process.ts';
import { processCpuMicros } from './cpu-time.ts';

/** bench/mtls.ts's origin child process (mtls-origin-server.ts), seen from the client. */
export interface MtlsOrigin {
  readonly pid: number;
  readonly plainPort: number;
  readonly mtlsPort: number;
  /** Requests served and connections accepted so far, over both servers. */
  counts(): Promise<{ readonly served: number; readonly connections: number }>;
  cpuMicros(): number;
  close(): Promise<void>;
}

interface OriginMessage {
  readonly type: string;
  readonly plainPort?: number;
  readonly mtlsPort?: number;
  readonly served?: number;
  readonly connections?: number;
}

/** Starts the origin with `material` as the mTLS server's SVID. */
export async function startMtlsOrigin(material: IdentityMaterial): Promise<MtlsOrigin> {
  const child = fork(new URL('./mtls-origin-server.ts', import.meta.url), [], {
    // Not the parent's flags (a --cpu-prof of the client must not profile the origin), but the
    // source condition, so that it loads @weft/core's sources as the client does.
    execArgv: ['--conditions=@weft/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = nextMessage<OriginMessage>(child, 'ready', 'origin process');
  child.send({ type: 'start', material });
  const { plainPort, mtlsPort } = await ready;
  const pid = child.pid;
  if (pid === undefined || plainPort === undefined || mtlsPort === undefined) {
    throw new Error('the mTLS origin did not start');
  }
  return {
    pid,
    plainPort,
    mtlsPort,
    async counts() {
      const reply = nextMessage<OriginMessage>(child, 'served', 'origin process');
      child.send({ type: 'served' });
      const { served = Number.NaN, connections = Number.NaN } = await reply;
      return { served, connections };
    },
    cpuMicros: () => processCpuMicros(pid),
    close: () => closeChild(child),
  };
}
