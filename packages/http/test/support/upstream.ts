import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What an upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** How an upstream answers one request; a function of the request and how many came before. */
export type Behaviour =
  | {
      readonly kind: 'respond';
      readonly status?: number;
      readonly body?: string;
      readonly headers?: Record<string, string>;
    }
  | { readonly kind: 'reset' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'delay'; readonly ms: number; readonly status?: number; readonly body?: string };

export interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  behave(next: (request: SeenRequest, index: number) => Behaviour): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 and an ephemeral port, answering with its name unless told
 * otherwise. Every request is recorded. `close()` destroys open sockets, so hung requests end.
 */
export async function startUpstream(name: string): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let behaviour: (request: SeenRequest, index: number) => Behaviour = () => ({ kind: 'respond' });
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const record: SeenRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(record);
      const plan = behaviour(record, seen.length - 1);
      const answer = (status = 200, body = name, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'text/plain', 'x-upstream': name, ...headers });
        response.end(body);
      };
      switch (plan.kind) {
        case 'respond':
          answer(plan.status, plan.body, plan.headers);
          break;
        case 'reset':
          request.socket.resetAndDestroy();
          break;
        case 'hang':
          break;
        case 'delay': {
          const timer = setTimeout(() => {
            timers.delete(timer);
            answer(plan.status, plan.body);
          }, plan.ms);
          timers.add(timer);
          break;
        }
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    port,
    seen,
    behave(next) {
      behaviour = next;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
