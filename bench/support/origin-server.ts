/**
 * The origin of bench/http-overhead.ts, run as a child process so its CPU is measured apart
 * from the client's: `count` node:http servers on 127.0.0.1 port 0, keep-alive, each answering
 * every request with 200 and the 2-byte body `ok`. It reports its ports once listening, and on
 * request how many requests it has served, so the client can prove every request reached it.
 *
 * Messages: parent → child `{ type: 'served' }`; child → parent `{ type: 'ready', ports }` and
 * `{ type: 'served', served }`. The child exits when the IPC channel closes.
 */
import { createServer, type Server } from 'node:http';
import { listenOnLoopback } from './listen.ts';

const count = Number(process.argv[2] ?? '1');
const body = Buffer.from('ok');
let served = 0;

const servers: Server[] = [];
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = createServer((_request, response) => {
    served += 1;
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    response.end(body);
  });
  // Idle keep-alive connections must outlive one interleaved round, so no variant pays for
  // reconnecting in its measured window.
  server.keepAliveTimeout = 120_000;
  servers.push(server);
  ports.push(await listenOnLoopback(server));
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'served') process.send?.({ type: 'served', served });
});
process.on('disconnect', () => {
  for (const server of servers) server.closeAllConnections();
  process.exit(0);
});
process.send?.({ type: 'ready', ports });
