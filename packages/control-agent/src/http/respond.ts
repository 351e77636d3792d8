import type { ServerResponse } from 'node:http';
import { ConfigValidationError, ErrorCodes, WeftError } from '@weft/core';
import { HttpError } from './http-error.ts';

/** Writes `body` as JSON with `status`; a no-op when the response was already sent. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (response.headersSent || response.destroyed) return;
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** `{ "error": { status, code, message, ...details } }`, the one shape of every error answer. */
export function sendError(response: ServerResponse, error: HttpError): void {
  sendJson(
    response,
    error.status,
    { error: { status: error.status, code: error.code, message: error.message, ...error.details } },
    error.headers,
  );
}

/**
 * Turns anything a handler threw into an HttpError: a store that cannot serve is a 503, a write
 * the store refused as invalid a 422, anything unforeseen a 500.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ConfigValidationError) {
    return new HttpError(422, 'invalid-config', error.message, {
      details: { issues: error.issues },
      cause: error,
    });
  }
  if (error instanceof WeftError && error.code === ErrorCodes.controlPlaneUnavailable) {
    return new HttpError(503, 'store-unavailable', `the agent's store cannot serve: ${error.message}`, {
      headers: { 'retry-after': '1' },
      cause: error,
    });
  }
  return new HttpError(500, 'internal', 'the agent failed to handle the request', { cause: error });
}
