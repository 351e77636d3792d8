import type { ClientStatusReport } from './protocol.ts';

export interface PendingReport {
  /** The agent that sent the revision, which the report is for. */
  readonly agent: string;
  /** The token of the stream the revision came on (PROTOCOL.md §3.5). */
  readonly streamToken: string | undefined;
  readonly report: ClientStatusReport;
}

/**
 * Sends ACK/NACK reports one at a time, in revision order, without ever queueing more than two:
 * while one is in flight, only the newest ACK and the newest NACK wait (the agent keeps, per
 * client, the last revision acked and the last nacked, so nothing it keeps is lost). A failed
 * send goes to `onError` and is not retried: the next revision's report, or the next stream,
 * brings the agent up to date.
 */
export class StatusReporter {
  readonly #send: (pending: PendingReport) => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #ack: PendingReport | undefined;
  #nack: PendingReport | undefined;
  #sending: Promise<void> | undefined;

  constructor(send: (pending: PendingReport) => Promise<void>, onError: (error: unknown) => void) {
    this.#send = send;
    this.#onError = onError;
  }

  report(pending: PendingReport): void {
    if (pending.report.status === 'ack') this.#ack = pending;
    else this.#nack = pending;
    this.#sending ??= this.#drain();
  }

  /** Resolves when nothing is pending or in flight. */
  async idle(): Promise<void> {
    while (this.#sending !== undefined) await this.#sending;
  }

  async #drain(): Promise<void> {
    try {
      for (let next = this.#takeOldest(); next !== undefined; next = this.#takeOldest()) {
        try {
          await this.#send(next);
        } catch (error) {
          this.#onError(error);
        }
      }
    } finally {
      this.#sending = undefined;
    }
  }

  #takeOldest(): PendingReport | undefined {
    const ack = this.#ack;
    const nack = this.#nack;
    const takeNack =
      nack !== undefined && (ack === undefined || nack.report.mark.revision <= ack.report.mark.revision);
    if (takeNack) this.#nack = undefined;
    else this.#ack = undefined;
    return takeNack ? nack : ack;
  }
}
