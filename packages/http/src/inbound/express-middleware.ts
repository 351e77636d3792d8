import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Mesh } from '@weft/core';
import type { InboundEntry } from './inbound-entry.ts';
import type { InboundOptions } from './inbound-options.ts';
import { InboundPipeline } from './inbound-pipeline.ts';

/** Express's `next`, as far as the middleware calls it. */
type NextFunction = (error?: unknown) => void;

/** An express (or connect) middleware; `close()` releases what it holds. */
export type WeftExpressMiddleware = ((
  request: IncomingMessage,
  response: ServerResponse,
  next: NextFunction,
) => void) & { close(): void };

const EXPRESS_ENTRY: InboundEntry<NextFunction> = {
  pathChange: 'rewrite',
  proceed: (_request, _response, next) => next(),
};

/**
 * The inbound pipeline as express middleware: `app.use(weftExpress(mesh))`, first, before any
 * router or body parser. Requests that pass go on with the normalized path in `req.url` (express
 * routes on it; `req.originalUrl` keeps what was sent) and the request's context active, so calls
 * the handlers make through the mesh carry its trace, headers and deadline. Refused requests are
 * answered here (400, 401, 403) and never reach a route. For a server express does not own,
 * PeerAuthentication reads the connection's TLS state from `req.socket`; a STRICT port closes a
 * connection without a verified mesh certificate.
 */
export function weftExpress(mesh: Mesh, options: InboundOptions = {}): WeftExpressMiddleware {
  const pipeline = new InboundPipeline(mesh, options);
  const middleware = (request: IncomingMessage, response: ServerResponse, next: NextFunction) =>
    pipeline.handle(request, response, EXPRESS_ENTRY, next);
  return Object.assign(middleware, { close: () => pipeline.close() });
}
