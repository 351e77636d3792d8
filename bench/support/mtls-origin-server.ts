/**
 * The origin of bench/mtls.ts, a child process so its CPU is measured apart from the client's: a
 * node:http server and a node:https server requiring a client certificate (the identity module's
 * serverTlsOptions with the SVID the parent sends, as a Weft workload's inbound would), both on
 * 127.0.0.1, keep-alive, answering every request 200 `ok`. It counts requests and connections, so
 * the client can prove every request reached it and fresh-connection variants really were fresh.
 *
 * Messages: parent → child `{ type: 'start', material }`, `{ type: 'served' }`; child → parent
 * `{ type: 'ready', plainPort, mtlsPort }`, `{ type: 'served', served, connections }`.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type IdentityMaterial, serverTlsOptions } from '../../packages/core/src/index.ts';
import { listenOnLoopback } from './listen.ts';

const body = Buffer.from('ok');
let served = 0;
let connections = 0;

function answer(_request: unknown, response: import('node:http').ServerResponse): void {
  served += 1;
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  response.end(body);
}

const servers: Server[] = [];

async function start(material: IdentityMaterial): Promise<void> {
  const plain = createHttpServer(answer);
  const mtls = createHttpsServer(serverTlsOptions(reviveDates(material)), answer);
  for (const server of [plain, mtls]) {
    // Idle keep-alive connections must outlive one interleaved round.
    server.keepAliveTimeout = 120_000;
    server.on('connection', () => {
      connections += 1;
    });
    servers.push(server);
  }
  const plainPort = await listenOnLoopback(plain);
  const mtlsPort = await listenOnLoopback(mtls);
  process.send?.({ type: 'ready', plainPort, mtlsPort });
}

/** Dates cross IPC as strings. */
function reviveDates(material: IdentityMaterial): IdentityMaterial {
  return { ...material, notBefore: new Date(material.notBefore), notAfter: new Date(material.notAfter) };
}

process.on('message', (message: { type?: string; material?: IdentityMaterial }) => {
  if (message.type === 'start' && message.material !== undefined) void start(message.material);
  if (message.type === 'served') process.send?.({ type: 'served', served, connections });
});
process.on('disconnect', () => {
  for (const server of servers) server.closeAllConnections();
  process.exit(0);
});
