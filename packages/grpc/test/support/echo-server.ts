import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { MeshServer } from '../../src/index.ts';
import { type EchoReply, type EchoRequest, echoService } from './echo-service.ts';

/** What a server saw of one call. */
export interface SeenCall {
  readonly method: string;
  readonly metadata: Metadata;
  /** The call's deadline as the server saw it, in ms from when the handler ran; Infinity for none. */
  readonly deadlineRemainingMs: number;
  /** The request messages read so far (one for unary and server streaming). */
  readonly requests: EchoRequest[];
}

/** How a server answers one call. */
export type Behaviour =
  /** Answer normally: unary and client streaming echo, List sends `count` replies, Chat echoes. */
  | { readonly kind: 'reply' }
  /**
   * End with `code`. With no `afterMessages` the status goes out alone (a trailers-only
   * response); otherwise after that many replies (streaming responses only).
   */
  | {
      readonly kind: 'fail';
      readonly code: Status;
      readonly details?: string;
      readonly afterMessages?: number;
    }
  /** Send response metadata, then end with `code`: the call is committed before it fails. */
  | { readonly kind: 'fail-after-metadata'; readonly code: Status }
  /**
   * Never finish (the call ends when the client gives up or the server closes); List first sends
   * `afterMessages` replies.
   */
  | { readonly kind: 'hang'; readonly afterMessages?: number }
  /** Answer a unary call with whatever `respond` resolves to (it may call other services). */
  | { readonly kind: 'custom'; readonly respond: (call: SeenCall) => Promise<EchoReply> };

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  /** Calls in arrival order. */
  readonly seen: SeenCall[];
  /** Calls whose handler has not finished. */
  readonly open: number;
  behave(next: (call: SeenCall, index: number) => Behaviour): void;
  close(): Promise<void>;
}

export interface EchoServerOptions {
  /**
   * The grpc-js Server to add the service to (e.g. one from createMeshServer); a plain one if
   * absent. A MeshServer serves with `listen` (the mesh's mTLS), any other with `bindAsync`.
   */
  readonly server?: Server;
}

/**
 * A real grpc-js server of `weft.test.Echo` on 127.0.0.1 and an ephemeral port, answering with its
 * name unless told otherwise. Every call is recorded. `close()` force-shuts it: hung calls end.
 */
export async function startEchoServer(name: string, options: EchoServerOptions = {}): Promise<EchoServer> {
  const server = options.server ?? new Server();
  const seen: SeenCall[] = [];
  let open = 0;
  let behaviour: (call: SeenCall, index: number) => Behaviour = () => ({ kind: 'reply' });
  const begin = (method: string, call: { metadata: Metadata; getDeadline(): Date | number }) => {
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const record: SeenCall = {
      method,
      metadata: call.metadata,
      deadlineRemainingMs: Number.isFinite(deadlineMs) ? deadlineMs - Date.now() : Number.POSITIVE_INFINITY,
      requests: [],
    };
    seen.push(record);
    open++;
    let isOpen = true;
    const end = () => {
      if (!isOpen) return;
      isOpen = false;
      open--;
    };
    return { record, end, plan: behaviour(record, seen.length - 1) };
  };
  const reply = (request: EchoRequest | undefined): EchoReply => ({
    text: request?.text ?? '',
    servedBy: name,
  });

  const unary =
    (method: string) =>
    (call: ServerUnaryCall<EchoRequest, EchoReply>, callback: sendUnaryData<EchoReply>) => {
      const { record, end, plan } = begin(method, call);
      record.requests.push(call.request);
      const done = (error: Partial<ServiceError> | null, value?: EchoReply) => {
        end();
        callback(error, value);
      };
      switch (plan.kind) {
        case 'reply':
          done(null, reply(call.request));
          return;
        case 'fail':
          done({ code: plan.code, details: plan.details ?? `${name} failed` });
          return;
        case 'fail-after-metadata':
          call.sendMetadata(new Metadata());
          done({ code: plan.code, details: `${name} failed after metadata` });
          return;
        case 'hang':
          call.on('cancelled', end);
          return;
        case 'custom':
          plan.respond(record).then(
            (value) => done(null, value),
            (error: Partial<ServiceError>) => done(error),
          );
      }
    };

  const list = (call: ServerWritableStream<EchoRequest, EchoReply>) => {
    const { record, end, plan } = begin('/weft.test.Echo/List', call);
    record.requests.push(call.request);
    call.on('finish', end);
    call.on('cancelled', end);
    if (plan.kind === 'hang') {
      for (let i = 0; i < (plan.afterMessages ?? 0); i++) call.write({ text: `held-${i}`, servedBy: name });
      return;
    }
    if (plan.kind === 'fail-after-metadata') {
      call.sendMetadata(new Metadata());
      call.emit('error', { code: plan.code, details: `${name} failed after metadata` });
      return;
    }
    const count = plan.kind === 'fail' ? (plan.afterMessages ?? 0) : Math.max(1, call.request.count ?? 3);
    for (let i = 0; i < count; i++) call.write({ text: `${call.request.text ?? ''}-${i}`, servedBy: name });
    if (plan.kind === 'fail')
      call.emit('error', { code: plan.code, details: plan.details ?? `${name} failed` });
    else call.end();
  };

  const collect = (
    call: ServerReadableStream<EchoRequest, EchoReply>,
    callback: sendUnaryData<EchoReply>,
  ) => {
    const { record, end, plan } = begin('/weft.test.Echo/Collect', call);
    call.on('cancelled', end);
    call.on('data', (request: EchoRequest) => record.requests.push(request));
    call.on('end', () => {
      end();
      if (plan.kind === 'fail') {
        callback({ code: plan.code, details: plan.details ?? `${name} failed` });
        return;
      }
      callback(null, {
        text: record.requests.map((request) => request.text ?? '').join('+'),
        servedBy: name,
      });
    });
  };

  const chat = (call: ServerDuplexStream<EchoRequest, EchoReply>) => {
    const { record, end, plan } = begin('/weft.test.Echo/Chat', call);
    call.on('cancelled', end);
    call.on('data', (request: EchoRequest) => {
      record.requests.push(request);
      if (plan.kind === 'fail' && record.requests.length > (plan.afterMessages ?? 0)) {
        call.emit('error', { code: plan.code, details: plan.details ?? `${name} failed` });
        return;
      }
      call.write(reply(request));
    });
    call.on('end', () => {
      end();
      call.end();
    });
  };

  server.addService(echoService, {
    Get: unary('/weft.test.Echo/Get'),
    Post: unary('/weft.test.Echo/Post'),
    List: list,
    Collect: collect,
    Chat: chat,
  });
  const port =
    server instanceof MeshServer
      ? await server.listen(0, '127.0.0.1')
      : await new Promise<number>((resolve, reject) =>
          server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
            error === null ? resolve(bound) : reject(error),
          ),
        );
  return {
    name,
    port,
    seen,
    get open() {
      return open;
    },
    behave(next) {
      behaviour = next;
    },
    async close() {
      server.forceShutdown();
    },
  };
}

/** A loopback port nothing listens on (a server bound it, then let it go). */
export async function closedPort(): Promise<number> {
  const server = new Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  server.forceShutdown();
  return port;
}
