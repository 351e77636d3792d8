/**
 * Callers of `GET /v1/clients/{id}/config` waiting for a client to post the config dump the agent
 * asked it for (PROTOCOL.md §4.3). Clients send their dumps only when asked, so an ACK stays a few
 * hundred bytes however large the client's view.
 */
export class ConfigDumpRequests {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Resolves true when `clientId`'s dump arrives within `timeoutMs`, false otherwise. */
  wait(clientId: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(clientId);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(clientId, waiters);
      }
      const settle = (arrived: boolean): void => {
        clearTimeout(timer);
        waiters.delete(onArrival);
        if (waiters.size === 0 && this.#waiters.get(clientId) === waiters) this.#waiters.delete(clientId);
        resolve(arrived);
      };
      const onArrival = (): void => settle(true);
      const timer = setTimeout(() => settle(false), timeoutMs);
      waiters.add(onArrival);
    });
  }

  /** The dump of `clientId` arrived: every caller waiting for it goes on. */
  delivered(clientId: string): void {
    for (const onArrival of [...(this.#waiters.get(clientId) ?? [])]) onArrival();
  }
}
