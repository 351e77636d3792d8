import { ErrorCodes, WeftError } from '@weft/core';

/**
 * The store cannot serve a request: etcd is unreachable or too slow, the data directory cannot
 * be written, or the store was closed. Nothing was changed by the failed call (a write that
 * fails here was not applied, or — for an etcd request whose answer was lost — may have been;
 * read again before retrying a conditional write).
 */
export class StoreUnavailableError extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.controlPlaneUnavailable, message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** What the store holds cannot be read back: a damaged data directory or a foreign etcd value. */
export class StoreCorruptError extends WeftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.controlPlaneUnavailable, message, options);
    this.name = 'StoreCorruptError';
  }
}
