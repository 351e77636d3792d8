import type { AttemptCall } from './call-attempt.ts';

type MessageContext = Parameters<AttemptCall['sendMessageWithContext']>[0];

interface Pending {
  readonly context: MessageContext;
  readonly message: unknown;
}

/**
 * The caller's request messages and half-close, kept so that each attempt gets all of them.
 *
 * - Before an attempt exists (a fault delay, a back-off, a wait for a pool slot) they queue here.
 * - A method with a single request message (unary, server streaming) keeps it for the call's life,
 *   so a retry sends it again.
 * - A streaming request (client streaming, bidi) is replayable only until its first message has
 *   been handed to an attempt: from then on the call is not retried (reason `body-not-replayable`).
 *   Buffering a whole stream to replay it would hold unbounded memory and replay side effects the
 *   upstream may already have acted on.
 *
 * A message's write callback (its context) fires once, from the attempt it was first given to;
 * replays carry none.
 */
export class OutgoingMessages {
  readonly #isRequestStream: boolean;
  /** Allocated on first use: most calls hand their one message straight to an attempt. */
  #pending: Pending[] | undefined;
  #kept: unknown[] | undefined;
  #hasHandedOver = false;
  #isHalfClosed = false;

  constructor(isRequestStream: boolean) {
    this.#isRequestStream = isRequestStream;
  }

  /** Whether a new attempt can be sent everything the caller sent so far. */
  get isReplayable(): boolean {
    return !this.#isRequestStream || !this.#hasHandedOver;
  }

  /** A message from the caller; sent at once to `attempt` when one is running. */
  send(context: MessageContext, message: unknown, attempt: AttemptCall | undefined): void {
    if (attempt === undefined) {
      this.#pending ??= [];
      this.#pending.push({ context, message });
      return;
    }
    this.#handOver(attempt, context, message);
  }

  halfClose(attempt: AttemptCall | undefined): void {
    this.#isHalfClosed = true;
    attempt?.halfClose();
  }

  /** Gives a new attempt everything so far: kept messages, queued ones, and the half-close. */
  startAttempt(attempt: AttemptCall): void {
    if (this.#kept !== undefined)
      for (const message of this.#kept) attempt.sendMessageWithContext({}, message);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined)
      for (const { context, message } of pending) this.#handOver(attempt, context, message);
    if (this.#isHalfClosed) attempt.halfClose();
  }

  #handOver(attempt: AttemptCall, context: MessageContext, message: unknown): void {
    this.#hasHandedOver = true;
    if (!this.#isRequestStream) {
      this.#kept ??= [];
      this.#kept.push(message);
    }
    attempt.sendMessageWithContext(context, message);
  }
}
