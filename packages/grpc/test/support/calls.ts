import { type CallOptions, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA, RESPONSE_FLAGS_METADATA } from '../../src/index.ts';
import type { EchoClient, EchoReply, EchoRequest } from './echo-service.ts';

/** How a call ended: its replies, or the error, with the mesh's flags read from the trailers. */
export interface CallResult<Reply> {
  readonly reply: Reply | undefined;
  readonly error: ServiceError | undefined;
  /** The status code (0 when the call succeeded). */
  readonly code: number;
  /** `x-weft-response-flags`, split; empty when the status did not come from the mesh. */
  readonly flags: readonly string[];
  readonly errorCode: string | undefined;
}

export interface CallSettings {
  readonly metadata?: Record<string, string>;
  /** Milliseconds from now. */
  readonly deadlineMs?: number;
  /** grpc-js's per-call flag that a retry after reaching the upstream is safe. */
  readonly isIdempotent?: boolean;
}

/** A unary call (`Get` is IDEMPOTENT in the proto, `Post` is not). */
export function callUnary(
  client: EchoClient,
  method: 'Get' | 'Post',
  request: EchoRequest = { text: 'hi' },
  settings: CallSettings = {},
): Promise<CallResult<EchoReply>> {
  return new Promise((resolve) => {
    client[method](request, metadataOf(settings), optionsOf(settings), (error, reply) =>
      resolve(resultOf(error ?? undefined, reply)),
    );
  });
}

/** A server-streaming call; every reply received, even when the call then fails. */
export function callList(
  client: EchoClient,
  request: EchoRequest = { text: 'hi', count: 3 },
  settings: CallSettings = {},
): Promise<CallResult<EchoReply[]>> {
  return new Promise((resolve) => {
    const replies: EchoReply[] = [];
    const stream = client.List(request, metadataOf(settings), optionsOf(settings));
    stream.on('data', (reply: EchoReply) => replies.push(reply));
    stream.on('error', (error: ServiceError) => resolve(resultOf(error, replies)));
    stream.on('end', () => resolve(resultOf(undefined, replies)));
  });
}

/** A client-streaming call sending `requests`, then half-closing. */
export function callCollect(
  client: EchoClient,
  requests: readonly EchoRequest[],
  settings: CallSettings = {},
): Promise<CallResult<EchoReply>> {
  return new Promise((resolve) => {
    const stream = client.Collect(metadataOf(settings), optionsOf(settings), (error, reply) =>
      resolve(resultOf(error ?? undefined, reply)),
    );
    for (const request of requests) stream.write(request);
    stream.end();
  });
}

/** A bidirectional call: writes `requests`, half-closes, and collects the replies. */
export function callChat(
  client: EchoClient,
  requests: readonly EchoRequest[],
  settings: CallSettings = {},
): Promise<CallResult<EchoReply[]>> {
  return new Promise((resolve) => {
    const replies: EchoReply[] = [];
    const stream = client.Chat(metadataOf(settings), optionsOf(settings));
    stream.on('data', (reply: EchoReply) => replies.push(reply));
    stream.on('error', (error: ServiceError) => resolve(resultOf(error, replies)));
    stream.on('end', () => resolve(resultOf(undefined, replies)));
    for (const request of requests) stream.write(request);
    stream.end();
  });
}

function metadataOf(settings: CallSettings): Metadata {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(settings.metadata ?? {})) metadata.set(name, value);
  if (settings.isIdempotent === true) metadata.setOptions({ idempotentRequest: true });
  return metadata;
}

function optionsOf(settings: CallSettings): CallOptions {
  return settings.deadlineMs === undefined ? {} : { deadline: Date.now() + settings.deadlineMs };
}

function resultOf<Reply>(error: ServiceError | undefined, reply: Reply | undefined): CallResult<Reply> {
  const flags = error?.metadata?.get(RESPONSE_FLAGS_METADATA)[0];
  const errorCode = error?.metadata?.get(ERROR_CODE_METADATA)[0];
  return {
    reply: error === undefined ? reply : reply,
    error,
    code: error?.code ?? 0,
    flags: typeof flags === 'string' ? flags.split(',') : [],
    errorCode: typeof errorCode === 'string' ? errorCode : undefined,
  };
}
