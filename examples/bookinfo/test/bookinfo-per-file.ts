import { afterAll, beforeAll } from 'vitest';
import { type Bookinfo, startBookinfo } from '../src/launcher/bookinfo-launcher.ts';

/**
 * One Bookinfo for a whole test file, every process real (the launcher `npm start` uses): started
 * before the file's first test, closed after its last. `onStarted` receives it, for the file to
 * keep in the variable its tests read, and may prepare it (apply a sample) before any test runs.
 */
export function startBookinfoPerFile(
  onStarted: (bookinfo: Bookinfo) => void | Promise<void>,
  startTimeoutMs = 60_000,
): void {
  let started: Bookinfo | undefined;
  beforeAll(async () => {
    started = await startBookinfo();
    await onStarted(started);
  }, startTimeoutMs);
  afterAll(async () => {
    await started?.close();
  }, 30_000);
}
