import type { MessageSizes } from '../telemetry/message-sizes.ts';
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
 *
 * With `sizes`, it adds up the wire bytes of the messages it hands over (`sentBytes`), each once:
 * what the caller sent, as Envoy counts a request's body bytes, whatever the retries resent.
 */
export class OutgoingMessages {
  readonly #isRequestStream: boolean;
  readonly #sizes: MessageSizes | undefined;
  #sentBytes = 0;
  /** Allocated on first use: most calls hand their one message straight to an attempt. */
  #pending: Pending[] | undefined;
  #kept: unknown[] | undefined;
  #hasHandedOver = false;
  #isHalfClosed = false;

  constructor(isRequestStream: boolean, sizes: MessageSizes | undefined) {
    this.#isRequestStream = isRequestStream;
    this.#sizes = sizes;
  }

  /** Wire bytes of the messages handed to an attempt so far (0 without sizes). */
  get sentBytes(): number {
    return this.#sentBytes;
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
    const sizes = this.#sizes;
    if (sizes === undefined) {
      attempt.sendMessageWithContext(context, message);
      return;
    }
    // grpc-js serializes inside this call; a message it failed to serialize counts nothing.
    sizes.serialized = 0;
    attempt.sendMessageWithContext(context, message);
    this.#sentBytes += sizes.serialized;
  }
}
