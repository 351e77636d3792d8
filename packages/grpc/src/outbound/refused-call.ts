import type { InterceptingListener, StatusObject } from '@grpc/grpc-js';
import type { AttemptCall } from './call-attempt.ts';

/**
 * A call the mesh refuses before routing it (its host is not a service of the mesh): it answers
 * `status` on the next tick and ignores everything else, sending nothing anywhere.
 */
export class RefusedCall implements AttemptCall {
  readonly #status: StatusObject;
  readonly #isUnaryResponse: boolean;

  constructor(status: StatusObject, isUnaryResponse: boolean) {
    this.#status = status;
    this.#isUnaryResponse = isUnaryResponse;
  }

  start(_metadata: unknown, listener?: Partial<InterceptingListener>): void {
    process.nextTick(() => {
      if (this.#isUnaryResponse) listener?.onReceiveMessage?.(null);
      listener?.onReceiveStatus?.(this.#status);
    });
  }

  cancelWithStatus(): void {}
  getPeer(): string {
    return 'unknown';
  }
  sendMessageWithContext(): void {}
  sendMessage(): void {}
  startRead(): void {}
  halfClose(): void {}
  getAuthContext(): null {
    return null;
  }
}
