import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * How the application is reached from one kind of entry (node:http, express, fastify): the
 * pipeline calls `proceed` inside the request's context when the request may go on, or
 * `answered` when it answers (or closes the connection) itself instead. `Next` is what the entry
 * passes along: express's `next`, fastify's reply and hook callback, nothing for node:http.
 */
export interface InboundEntry<Next> {
  /**
   * What happens when normalization changed the path: node:http and express route on `req.url`
   * after the pipeline, so it is rewritten; fastify has routed already, so the caller is
   * redirected to the normalized path rather than let a route chosen on another spelling run
   * (bad-inputs D1, D2).
   */
  readonly pathChange: 'rewrite' | 'redirect';
  proceed(request: IncomingMessage, response: ServerResponse, next: Next): void;
  answered?(next: Next): void;
}
