/**
 * A request the agent refuses, with the status and stable `code` it is answered with. Internal:
 * route handlers throw it and the server turns it into the JSON error body PROTOCOL.md describes.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra fields of the error body (e.g. `issues`, `supported`). */
  readonly details: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: {
      readonly details?: Readonly<Record<string, unknown>>;
      readonly headers?: Readonly<Record<string, string>>;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>): HttpError =>
  new HttpError(400, 'bad-request', message, details === undefined ? {} : { details });

export const notFound = (message: string): HttpError => new HttpError(404, 'not-found', message);
