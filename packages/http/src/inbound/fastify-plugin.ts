import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Mesh } from '@weft/core';
import type { InboundEntry } from './inbound-entry.ts';
import type { InboundOptions } from './inbound-options.ts';
import { InboundPipeline } from './inbound-pipeline.ts';

/**
 * The part of fastify the plugin uses, written out so that @weft/http needs no fastify types:
 * a fastify instance is one of these.
 */
export interface FastifyHookRequest {
  readonly raw: IncomingMessage;
}
export interface FastifyHookReply {
  readonly raw: ServerResponse;
  hijack(): unknown;
}
type HookDone = (error?: Error) => void;
export interface FastifyHooks {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyHookRequest, reply: FastifyHookReply, done: HookDone) => void,
  ): unknown;
  addHook(name: 'onClose', hook: (instance: never, done: HookDone) => void): unknown;
}

/** A fastify plugin (registered without encapsulation, so its hook applies to every route). */
export type WeftFastifyPlugin = (instance: FastifyHooks, options: unknown, done: HookDone) => void;

interface HookStep {
  readonly reply: FastifyHookReply;
  readonly done: HookDone;
}

const FASTIFY_ENTRY: InboundEntry<HookStep> = {
  // fastify routes before its onRequest hooks run: a path normalization changed is redirected.
  pathChange: 'redirect',
  proceed: (_request, _response, step) => step.done(),
  // The pipeline writes the answer itself: fastify must not send one too.
  answered: (step) => step.reply.hijack(),
};

/**
 * The inbound pipeline as a fastify plugin: `await app.register(weftFastify(mesh))`. An onRequest
 * hook runs it for every route; refused requests are answered (400, 401, 403) without reaching a
 * handler, and handlers run in the request's context. fastify picks the route before any hook,
 * so a request whose path normalization changes is redirected (308) to the normalized path; to
 * have the path rewritten instead, give fastify a MeshServer as its server
 * (`serverFactory: (handler) => createMeshServer(mesh, handler)`), which runs before its router.
 */
export function weftFastify(mesh: Mesh, options: InboundOptions = {}): WeftFastifyPlugin {
  const pipeline = new InboundPipeline(mesh, options);
  const plugin: WeftFastifyPlugin = (instance, _options, done) => {
    instance.addHook('onRequest', (request, reply, hookDone) =>
      pipeline.handle(request.raw, reply.raw, FASTIFY_ENTRY, { reply, done: hookDone }),
    );
    instance.addHook('onClose', (_instance, closeDone) => {
      pipeline.close();
      closeDone();
    });
    done();
  };
  // What the fastify-plugin package sets: the hooks apply to the whole application, not a child scope.
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@weft/http',
  });
  return plugin;
}
