import type { Clock, TimerHandle } from '@weft/core';
import type { AgentLogger } from '../agent/agent-logger.ts';
import type { AgentDirectory, AgentRecord } from './agent-directory.ts';

/** The longest an agent's close waits to withdraw its record. */
const CLOSE_WAIT_MS = 2_000;

export interface AgentAnnouncementOptions {
  readonly directory: AgentDirectory;
  readonly record: AgentRecord;
  /** The lease's TTL: a crashed agent leaves its peers' lists this long after its last renewal. */
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly logger: AgentLogger;
}

/**
 * Keeps this agent's record in the directory while it runs: announced at start, renewed every
 * third of the TTL (two renewals can fail before the record lapses), announced again under a new
 * lease when the old one lapsed (etcd was down, or wiped), withdrawn at close. Failures are
 * logged and retried at the next tick; they never stop the agent, which serves its own clients
 * whether or not its peers can find it.
 */
export class AgentAnnouncement {
  readonly #options: AgentAnnouncementOptions;
  #leaseId: string | undefined;
  #timer: TimerHandle | undefined;
  #tick: Promise<void> | undefined;
  #isClosed = false;

  constructor(options: AgentAnnouncementOptions) {
    this.#options = options;
  }

  /** Announces now; resolves once the first attempt ended (announced or logged). */
  start(): Promise<void> {
    return this.#run();
  }

  /**
   * Stops renewing and withdraws the record (its lease), after a tick in flight. Waits at most
   * CLOSE_WAIT_MS: with the store unreachable, the record lapses with its lease instead, and the
   * agent's shutdown is not held up by it.
   */
  async close(): Promise<void> {
    this.#isClosed = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const { clock } = this.#options;
    let timer: TimerHandle | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, CLOSE_WAIT_MS);
    });
    try {
      await Promise.race([this.#withdraw(), gaveUp]);
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
    }
  }

  async #withdraw(): Promise<void> {
    await this.#tick;
    const leaseId = this.#leaseId;
    this.#leaseId = undefined;
    if (leaseId === undefined) return;
    try {
      await this.#options.directory.withdraw(leaseId);
    } catch (error) {
      // The record then lapses with its lease.
      this.#options.logger.warn('could not withdraw the agent record', { error });
    }
  }

  #run(): Promise<void> {
    this.#tick ??= this.#renewOrAnnounce().finally(() => {
      this.#tick = undefined;
      this.#schedule();
    });
    return this.#tick;
  }

  async #renewOrAnnounce(): Promise<void> {
    const { directory, record, ttlMs, logger } = this.#options;
    try {
      const leaseId = this.#leaseId;
      if (leaseId !== undefined && (await directory.renew(leaseId))) return;
      this.#leaseId = undefined;
      if (this.#isClosed) return;
      const announced = await directory.announce(record, ttlMs);
      // Closed meanwhile: close() found no lease to withdraw, so this one goes now.
      if (this.#isClosed) await directory.withdraw(announced);
      else this.#leaseId = announced;
    } catch (error) {
      logger.warn('could not announce the agent to its peers; retrying', { error, url: record.url });
    }
  }

  #schedule(): void {
    if (this.#isClosed || this.#timer !== undefined) return;
    this.#timer = this.#options.clock.setTimeout(
      () => {
        this.#timer = undefined;
        void this.#run();
      },
      Math.max(100, Math.floor(this.#options.ttlMs / 3)),
    );
  }
}
