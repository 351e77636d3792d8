/**
 * The servers of bench/inbound.ts, run as a child process so that their CPU is measured apart
 * from the load generator's: one server per variant on 127.0.0.1 port 0, every one answering
 * `GET /api/items` with 200 and the 2-byte body `ok`:
 *   node-bare, node-weft, node-weft-authz       node:http, and behind createMeshServer
 *   express-bare, express-weft, express-weft-authz   express, and with weftExpress first
 *   express-noop                                      express with one middleware that only calls next
 * `-authz` meshes hold the 20 AuthorizationPolicies of inbound-policies.ts.
 *
 * Messages: parent → child `{ type: 'usage' }`; child → parent `{ type: 'ready', ports }` (by
 * variant id) and `{ type: 'usage', cpuMicros, served }` (its own process.cpuUsage, µs, and the
 * requests each server answered). The child exits when the IPC channel closes.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Server } from 'node:net';
import express from 'express';
import { createMesh, type Mesh } from '../../packages/core/src/index.ts';
import { createMeshServer, weftExpress } from '../../packages/http/src/index.ts';
import { BENCH_WORKLOAD, twentyPolicies } from './inbound-policies.ts';
import { listenOnLoopback } from './listen.ts';

const body = Buffer.from('ok');
const served: Record<string, number> = {};

function answer(id: string): RequestListener {
  served[id] = 0;
  return (_request: IncomingMessage, response: ServerResponse) => {
    served[id] = (served[id] ?? 0) + 1;
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    response.end(body);
  };
}

function meshWith(objects: readonly object[]): Mesh {
  return createMesh({ workload: BENCH_WORKLOAD, config: { objects } });
}

/** An express app; with a mesh, weftExpress first; with `'noop'`, a middleware that only calls next. */
function expressApp(id: string, mesh?: Mesh | 'noop'): RequestListener {
  const app = express();
  if (mesh === 'noop') app.use((_request, _response, next) => next());
  else if (mesh !== undefined) app.use(weftExpress(mesh));
  app.get('/api/items', answer(id));
  return app;
}

// Idle keep-alive connections must outlive a round, so no window pays for reconnecting.
const http = { keepAliveTimeout: 120_000 };
const plain = meshWith([]);
const guarded = meshWith(twentyPolicies());
const servers: Record<string, Server> = {
  'node-bare': createServer(http, answer('node-bare')),
  'node-weft': createMeshServer(plain, answer('node-weft'), { http }),
  'node-weft-authz': createMeshServer(guarded, answer('node-weft-authz'), { http }),
  'express-bare': createServer(http, expressApp('express-bare')),
  'express-noop': createServer(http, expressApp('express-noop', 'noop')),
  'express-weft': createServer(http, expressApp('express-weft', plain)),
  'express-weft-authz': createServer(http, expressApp('express-weft-authz', guarded)),
};
const ports: Record<string, number> = {};
for (const [id, server] of Object.entries(servers)) ports[id] = await listenOnLoopback(server);

process.on('message', (message: { type?: string }) => {
  if (message.type !== 'usage') return;
  const usage = process.cpuUsage();
  process.send?.({ type: 'usage', cpuMicros: usage.user + usage.system, served });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', ports });
