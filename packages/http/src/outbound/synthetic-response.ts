import type { ErrorCode } from '@weft/core';
import type { Dispatcher } from 'undici';
import { ERROR_CODE_HEADER, RESPONSE_FLAGS_HEADER } from './response-flags.ts';

/** A response the mesh answers with itself: a fault, a redirect, a direct response, a failure. */
export interface SyntheticResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Envoy-style flags for the flags header; none for a configured answer (redirect, direct). */
  readonly flags?: readonly string[];
  /** The WeftError code of a failure the mesh answered for, in the error-code header. */
  readonly errorCode?: ErrorCode;
}

/** A controller for a response no connection carries: pause and resume do nothing. */
export class SyntheticController implements Dispatcher.DispatchController {
  rawHeaders: string[] | null = null;
  #aborted = false;
  #reason: Error | null = null;
  get aborted() {
    return this.#aborted;
  }
  get paused() {
    return false;
  }
  get reason() {
    return this.#reason;
  }
  abort(reason: Error) {
    this.#aborted = true;
    this.#reason = reason;
  }
  pause() {}
  resume() {}
}

/**
 * Delivers a synthetic response through undici's handler protocol, exactly as a real one
 * arrives: start, headers, body, end. `started` says the handler already got onRequestStart.
 */
export function deliverSyntheticResponse(
  handler: Dispatcher.DispatchHandler,
  response: SyntheticResponse,
  controller: Dispatcher.DispatchController = new SyntheticController(),
  started = false,
): void {
  const body =
    response.body === undefined
      ? undefined
      : Buffer.isBuffer(response.body)
        ? response.body
        : Buffer.from(response.body);
  const headers: Record<string, string> = { ...response.headers };
  if (body !== undefined) {
    headers['content-length'] = String(body.length);
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  } else {
    headers['content-length'] = '0';
  }
  if (response.flags !== undefined && response.flags.length > 0)
    headers[RESPONSE_FLAGS_HEADER] = response.flags.join(',');
  if (response.errorCode !== undefined) headers[ERROR_CODE_HEADER] = response.errorCode;
  // undici's fetch reads the raw header list from the controller, not the parsed record.
  controller.rawHeaders = Object.entries(headers).flat();
  if (!started) handler.onRequestStart?.(controller, {});
  if (controller.aborted) return;
  handler.onResponseStart?.(controller, response.status, headers, statusText(response.status));
  if (controller.aborted) return;
  if (body !== undefined && body.length > 0) handler.onResponseData?.(controller, body);
  if (controller.aborted) return;
  handler.onResponseEnd?.(controller, {});
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    200: 'OK',
    301: 'Moved Permanently',
    302: 'Found',
    303: 'See Other',
    307: 'Temporary Redirect',
    308: 'Permanent Redirect',
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return texts[status] ?? '';
}
