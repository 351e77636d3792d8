import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What an upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** How an upstream answers one request. */
export type Behaviour =
  | {
      readonly kind: 'respond';
      readonly status?: number;
      readonly body?: string;
      readonly headers?: Record<string, string>;
    }
  /** Reads the whole request, then resets the connection (RST) without answering. */
  | { readonly kind: 'reset' }
  /** Resets the connection (RST) as soon as the request head arrives, before reading its body. */
  | { readonly kind: 'reset-on-head' }
  /** Reads the request and never answers. */
  | { readonly kind: 'hang' }
  /** Answers after `ms`. */
  | { readonly kind: 'delay'; readonly ms: number; readonly status?: number; readonly body?: string }
  /** Sends 200 and its headers at once, then one byte of body every `intervalMs`, `bytes` in all. */
  | { readonly kind: 'trickle'; readonly intervalMs: number; readonly bytes: number };

export interface Upstream {
  readonly name: string;
  readonly port: number;
  /** Requests read in full, in arrival order. */
  readonly seen: SeenRequest[];
  /** Requests whose head arrived (counts those reset before their body was read). */
  readonly heads: number;
  /** Requests still waiting for an answer whose connection closed under them. */
  readonly abandoned: number;
  /** Requests this upstream has not finished answering and whose connection is still open. */
  readonly open: number;
  /** How to answer each request read in full: a function of it and of how many came before. */
  behave(next: (request: SeenRequest, index: number) => Behaviour): void;
  /** Per request head (before the body): `reset-on-head` here resets without reading the body. */
  behaveOnHead(next: (index: number) => Behaviour | undefined): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 and an ephemeral port, answering 200 with its name unless told
 * otherwise. Every request is recorded. `close()` destroys open sockets, so hung requests end.
 */
export async function startUpstream(name: string): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let heads = 0;
  let abandoned = 0;
  let open = 0;
  let behaviour: (request: SeenRequest, index: number) => Behaviour = () => ({ kind: 'respond' });
  let onHead: (index: number) => Behaviour | undefined = () => undefined;
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const headIndex = heads++;
    open++;
    let isAnswered = false;
    response.on('close', () => {
      open--;
      if (!isAnswered || !response.writableFinished) abandoned++;
    });
    if (onHead(headIndex)?.kind === 'reset-on-head') {
      request.socket.resetAndDestroy();
      return;
    }
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
        isAnswered = true;
        response.writeHead(status, { 'content-type': 'text/plain', 'x-upstream': name, ...headers });
        response.end(body);
      };
      const later = (ms: number, run: () => void) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          run();
        }, ms);
        timers.add(timer);
      };
      switch (plan.kind) {
        case 'respond':
          answer(plan.status, plan.body, plan.headers);
          break;
        case 'reset':
        case 'reset-on-head':
          request.socket.resetAndDestroy();
          break;
        case 'hang':
          break;
        case 'delay':
          later(plan.ms, () => answer(plan.status, plan.body));
          break;
        case 'trickle': {
          isAnswered = true;
          response.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
          response.flushHeaders();
          let sent = 0;
          const drip = () => {
            if (response.destroyed) return;
            response.write('.');
            sent++;
            if (sent >= plan.bytes) response.end();
            else later(plan.intervalMs, drip);
          };
          later(plan.intervalMs, drip);
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
    get heads() {
      return heads;
    },
    get abandoned() {
      return abandoned;
    },
    get open() {
      return open;
    },
    behave(next) {
      behaviour = next;
    },
    behaveOnHead(next) {
      onHead = next;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts `count` upstreams named `<service>-<i>`. */
export async function startUpstreams(service: string, count: number): Promise<Upstream[]> {
  const upstreams: Upstream[] = [];
  for (let i = 0; i < count; i++) upstreams.push(await startUpstream(`${service}-${i}`));
  return upstreams;
}

/** One upstream per version of a service, named `<service>-<version>`. */
export interface ServiceUpstreams {
  readonly service: string;
  readonly byVersion: ReadonlyMap<string, Upstream>;
}

export async function startService(service: string, versions: readonly string[]): Promise<ServiceUpstreams> {
  const byVersion = new Map<string, Upstream>();
  for (const version of versions) byVersion.set(version, await startUpstream(`${service}-${version}`));
  return { service, byVersion };
}

export async function closeAll(upstreams: Iterable<Upstream>): Promise<void> {
  for (const upstream of upstreams) await upstream.close();
}

/** A loopback port that nothing listens on (it was bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
