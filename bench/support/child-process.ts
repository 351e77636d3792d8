/**
 * The benches' child processes (origins and servers run apart so that their CPU is measured apart
 * from the load generator's), seen from the parent: waiting for one IPC message, and closing.
 */
import type { ChildProcess } from 'node:child_process';

/**
 * The next IPC message of `type` from `child`; rejects, naming `what` the child is, when it exits
 * first. Other messages are left to other listeners.
 */
export function nextMessage<T>(child: ChildProcess, type: string, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { readonly type?: string }) => {
      if (message.type !== type) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what} exited (code ${code}) while waiting for '${type}'`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Closes `child`'s IPC channel, on which the bench children exit; resolves once it has exited. */
export function closeChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => resolve());
    child.disconnect();
  });
}
