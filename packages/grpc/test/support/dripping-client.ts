import { Socket } from 'node:net';

/** How a dripping connection ended: the server closed it, or the client gave up at `maxMs`. */
export interface DripResult {
  readonly bytesSent: number;
  readonly endedBy: 'server' | 'client-finished';
  readonly elapsedMs: number;
}

/**
 * A slow client for the gRPC server (the root fault proxy's `slowLoris()` lives outside this
 * package's project): writes `payload` to 127.0.0.1:`port` one byte every `intervalMs`, then
 * waits; resolves when the server closes the connection or `maxMs` passes.
 */
export function drip(
  port: number,
  payload: string,
  options: { intervalMs: number; maxMs: number },
): Promise<DripResult> {
  const bytes = Buffer.from(payload, 'latin1');
  const startedAtMs = performance.now();
  return new Promise((resolve) => {
    const socket = new Socket();
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (endedBy: DripResult['endedBy']) => {
      clearTimeout(timer);
      clearTimeout(deadline);
      socket.destroy();
      resolve({ bytesSent: sent, endedBy, elapsedMs: performance.now() - startedAtMs });
    };
    const deadline = setTimeout(() => finish('client-finished'), options.maxMs);
    const next = () => {
      if (socket.destroyed || sent >= bytes.length) return;
      socket.write(bytes.subarray(sent, sent + 1));
      sent++;
      timer = setTimeout(next, options.intervalMs);
    };
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.once('close', () => finish('server'));
    socket.connect(port, '127.0.0.1', next);
  });
}
