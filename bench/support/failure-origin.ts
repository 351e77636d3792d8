/**
 * The origin of bench/failure.ts (S8), run as a child process: `count` node:http servers on
 * 127.0.0.1 port 0, keep-alive, answering 200 `ok`, except one, the faulty endpoint, which for a
 * window either answers 503 to half its requests (seeded, so runs repeat) or answers 200 after
 * 100 ms. Every request is counted on arrival, per server, so the parent can tell how many
 * upstream requests the clients' requests turned into (retry amplification).
 *
 * Messages: parent → child `{ type: 'reset', fault, faultyIndex, seed }` (zero the counts and
 * set the fault; answered with `{ type: 'reset-done' }`) and `{ type: 'counts' }` (answered with
 * `{ type: 'counts', arrivals, answered }`); child → parent `{ type: 'ready', ports }` once
 * listening. The child exits when the IPC channel closes.
 */
import { createServer, type Server } from 'node:http';
import { listenOnLoopback } from './listen.ts';

export type Fault = 'none' | 'fail-50' | 'slow-100';

const count = Number(process.argv[2] ?? '10');
const body = Buffer.from('ok');
const failure = Buffer.from('failure');
const SLOW_MS = 100;

let fault: Fault = 'none';
let faultyIndex = -1;
let arrivals = new Array<number>(count).fill(0);
let answered = new Array<number>(count).fill(0);
/** mulberry32: a small seeded generator, so each window's 503s fall the same way. */
let state = 1;
function random(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const servers: Server[] = [];
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = createServer((_request, response) => {
    arrivals[i] = (arrivals[i] as number) + 1;
    const answer = (status: number) => {
      if (response.destroyed) return;
      answered[i] = (answered[i] as number) + 1;
      const payload = status === 200 ? body : failure;
      response.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(payload.length) });
      response.end(payload);
    };
    if (i !== faultyIndex || fault === 'none') answer(200);
    else if (fault === 'fail-50') answer(random() < 0.5 ? 503 : 200);
    else {
      const timer = setTimeout(() => answer(200), SLOW_MS);
      // A client that gave up (a per-try timeout) closes the connection: nothing left to answer.
      response.once('close', () => clearTimeout(timer));
    }
  });
  server.keepAliveTimeout = 120_000;
  servers.push(server);
  ports.push(await listenOnLoopback(server));
}

interface Message {
  readonly type?: string;
  readonly fault?: Fault;
  readonly faultyIndex?: number;
  readonly seed?: number;
}

process.on('message', (message: Message) => {
  if (message.type === 'reset') {
    fault = message.fault ?? 'none';
    faultyIndex = message.faultyIndex ?? -1;
    state = message.seed ?? 1;
    arrivals = new Array<number>(count).fill(0);
    answered = new Array<number>(count).fill(0);
    process.send?.({ type: 'reset-done' });
  } else if (message.type === 'counts') {
    process.send?.({ type: 'counts', arrivals, answered });
  }
});
process.on('disconnect', () => {
  for (const server of servers) server.closeAllConnections();
  process.exit(0);
});
process.send?.({ type: 'ready', ports });
