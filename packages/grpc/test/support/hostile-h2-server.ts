/**
 * An HTTP/2 server on 127.0.0.1 that speaks just enough gRPC to answer `weft.test.Echo` calls,
 * and misbehaves as planned per connection (bad-inputs C11): GOAWAY before or in the middle of a
 * call, SETTINGS that allow no stream or one at a time, a one-byte flow-control window it never
 * opens, or no SETTINGS at all (a TCP listener that reads and never answers). grpc-js would not
 * produce these, which is why this is written on node:http2 and node:net.
 */
import {
  constants,
  createServer,
  type Http2Server,
  type Http2Session,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type Settings,
} from 'node:http2';
import { type AddressInfo, Server as NetServer, type Socket } from 'node:net';

export type HostileBehaviour =
  /** Answers every call: `{ text, served_by: name }`, status OK. */
  | 'serve'
  /** Sends GOAWAY (last stream 0: nothing processed) when the first call arrives, and refuses it. */
  | 'goaway-before-processing'
  /** Sends response headers, then GOAWAY naming this call as processed, then drops the connection. */
  | 'goaway-mid-call'
  /** Never reads the first call's request, so a one-byte window it advertised never opens; serves the rest. */
  | 'stall-flow-control';

export interface HostileServerOptions {
  /** What the n-th HTTP/2 connection (0, 1, …) does; 'serve' past the end of the list. */
  readonly plan?: readonly HostileBehaviour[];
  /** The SETTINGS every connection advertises (maxConcurrentStreams, initialWindowSize, …). */
  readonly settings?: Settings;
  /** How long 'serve' waits before answering, in ms. */
  readonly answerDelayMs?: number;
  readonly name?: string;
}

export interface HostileServer {
  readonly port: number;
  /** HTTP/2 connections accepted so far. */
  readonly sessions: () => number;
  /** Calls whose headers arrived (on any connection). */
  readonly calls: () => number;
  /** Calls answered OK. */
  readonly answered: () => number;
  /** The most calls in progress at once (one stream each). */
  readonly maxInFlight: () => number;
  /** Calls in progress now (streams not yet closed). */
  readonly inFlight: () => number;
  /** TCP connections open now. */
  readonly openSockets: () => number;
  close(): Promise<void>;
}

/** A length-prefixed gRPC message holding EchoReply { text = 1, served_by = 2 } (protobuf). */
export function echoReplyFrame(text: string, servedBy: string): Buffer {
  const field = (tag: number, value: string) => {
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length > 127) throw new Error('the test encoder writes one-byte lengths only');
    return Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
  };
  const message = Buffer.concat([field(0x0a, text), field(0x12, servedBy)]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

export async function startHostileServer(options: HostileServerOptions = {}): Promise<HostileServer> {
  const name = options.name ?? 'hostile';
  const plan = options.plan ?? [];
  let sessionCount = 0;
  let callCount = 0;
  let answeredCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const sockets = new Set<Socket>();
  const behaviourOf = new WeakMap<Http2Session, HostileBehaviour>();
  const streamsOn = new WeakMap<Http2Session, number>();
  const server: Http2Server = createServer({
    ...(options.settings === undefined ? {} : { settings: options.settings }),
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: ServerHttp2Session) => {
    behaviourOf.set(session, plan[sessionCount] ?? 'serve');
    sessionCount++;
    session.on('error', () => {});
  });
  server.on('stream', (stream: ServerHttp2Stream) => {
    callCount++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    stream.once('close', () => {
      inFlight--;
    });
    stream.on('error', () => {});
    const session = stream.session;
    const index = session === undefined ? 0 : (streamsOn.get(session) ?? 0);
    if (session !== undefined) streamsOn.set(session, index + 1);
    const behaviour = session === undefined ? 'serve' : behaviourOf.get(session);
    switch (behaviour) {
      case 'goaway-before-processing':
        session?.goaway(constants.NGHTTP2_NO_ERROR, 0);
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        session?.close();
        return;
      case 'goaway-mid-call':
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        setTimeout(() => {
          session?.goaway(constants.NGHTTP2_NO_ERROR, stream.id);
          session?.destroy();
        }, 20);
        return;
      case 'stall-flow-control':
        if (index === 0) {
          stream.pause();
          return;
        }
        serve(stream);
        return;
      default:
        serve(stream);
    }
  });
  /** Reads (and drops) the request, so its window keeps opening, and answers OK. */
  function serve(stream: ServerHttp2Stream): void {
    stream.resume();
    stream.once('end', () => {
      setTimeout(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(echoReplyFrame('ok', name));
        answeredCount++;
      }, options.answerDelayMs ?? 0);
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessions: () => sessionCount,
    calls: () => callCount,
    answered: () => answeredCount,
    maxInFlight: () => maxInFlight,
    inFlight: () => inFlight,
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface SilentServer {
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly accepted: () => number;
  /** TCP connections open now. */
  readonly openSockets: () => number;
  /** Bytes read from all connections (the client's preface and SETTINGS, at least). */
  readonly bytesRead: () => number;
  close(): Promise<void>;
}

/** Accepts TCP connections and reads from them, but never writes a byte: no SETTINGS, ever. */
export async function startSilentServer(): Promise<SilentServer> {
  let accepted = 0;
  let bytesRead = 0;
  const sockets = new Set<Socket>();
  const server = new NetServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      bytesRead += chunk.length;
    });
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    openSockets: () => sockets.size,
    bytesRead: () => bytesRead,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
