import { Metadata, type ServiceError, status as Status } from '@grpc/grpc-js';
import { createMesh } from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { singleRoute } from '../../core/test/support/istio-yaml.ts';
import { startTestSdk, type TestSdk } from '../../core/test/support/otel-test-sdk.ts';
import { createMeshClient, RESPONSE_FLAGS_METADATA } from '../src/index.ts';
import { callCollect, callList, callUnary } from './support/calls.ts';
import { type EchoClient, EchoClientConstructor, type EchoReply } from './support/echo-service.ts';
import { grpcWorkload } from './support/mesh-scenario.ts';
import { createSecurePair } from './support/secure-pair.ts';

/*
 * Expected sizes come from protobuf's wire format for test/fixtures/echo.proto, worked out here
 * by hand: a string field is its tag (field number << 3 | 2, one byte here), its length as a
 * varint and its UTF-8 bytes; an int32 field its tag (field << 3 | 0) and its value as a varint;
 * proto3 leaves fields at their default ('' or 0) out. gRPC then puts 5 bytes before each
 * message (a compressed flag and a 4-byte length), which Envoy counts as body bytes too.
 */
const PREFIX = 5;

function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}

function stringField(fieldNumber: number, value: string): number {
  if (value === '') return 0;
  const length = Buffer.byteLength(value, 'utf8');
  return varintBytes(fieldNumber << 3) + varintBytes(length) + length;
}

function int32Field(fieldNumber: number, value: number): number {
  return value === 0 ? 0 : varintBytes(fieldNumber << 3) + varintBytes(value);
}

/** `EchoRequest { text = 1; count = 2 }` on the wire, prefix included. */
function requestBytes(text: string, count = 0): number {
  return PREFIX + stringField(1, text) + int32Field(2, count);
}

/** `EchoReply { text = 1; served_by = 2 }` on the wire, prefix included. */
function replyBytes(text: string, servedBy = 'reviews-0'): number {
  return PREFIX + stringField(1, text) + stringField(2, servedBy);
}

let sdk: TestSdk;
const pair = createSecurePair();
let logs: { client: string[]; server: string[] };
beforeEach(() => {
  sdk = startTestSdk();
  logs = { client: [], server: [] };
});
afterEach(async () => {
  await pair.close();
  await sdk.shutdown();
});

/** Telemetry with the test SDK and an access log on for every call, written into `lines`. */
function telemetryLoggingTo(lines: string[]) {
  return {
    tracerProvider: sdk.tracerProvider,
    meterProvider: sdk.meterProvider,
    accessLog: {
      stream: {
        write(line: string) {
          lines.push(line);
          return true;
        },
        once() {},
      },
      isEnabledByDefault: true,
    },
  };
}

/** A meshed reviews server and a meshed productpage calling it (mTLS), both recording. */
async function meshedPair(): Promise<EchoClient> {
  const reviews = await pair.server({ telemetry: telemetryLoggingTo(logs.server) });
  return pair.caller(reviews, { telemetry: telemetryLoggingTo(logs.client) }).client;
}

/** Count and sum of a byte histogram's observations for one reporter (and more labels). */
async function observed(
  metric: 'istio_request_bytes' | 'istio_response_bytes',
  reporter: string,
  labels: Record<string, string> = {},
) {
  const points = await sdk.pointsWhere(metric, { reporter, ...labels });
  return points.map((point) => {
    const { count, sum } = point.value as { count: number; sum: number };
    return { count, sum };
  });
}

/** bytes_received and bytes_sent of each access-log line. */
function loggedBytes(lines: readonly string[]) {
  return lines.map((line) => {
    const record = JSON.parse(line) as { bytes_received: number; bytes_sent: number };
    return { received: record.bytes_received, sent: record.bytes_sent };
  });
}

/** Waits (bounded) until the server has logged `count` calls: it ends its call as the status goes out. */
async function serverLogged(count: number): Promise<void> {
  for (let i = 0; i < 200 && logs.server.length < count; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('gRPC message bytes in telemetry', () => {
  it('reports a unary call’s request and response message bytes on both sides, in metrics and access logs', async () => {
    const client = await meshedPair();

    const result = await callUnary(client, 'Get', { text: 'hello' });

    expect(result.code).toBe(Status.OK);
    // createMeshClient counts through a subclass: still an instance of the generated class.
    expect(client).toBeInstanceOf(EchoClientConstructor);
    // 5 + (0x0a 0x05 "hello") = 12; 5 + (0x0a 0x05 "hello") + (0x12 0x09 "reviews-0") = 23.
    expect([requestBytes('hello'), replyBytes('hello')]).toEqual([12, 23]);
    await serverLogged(1);
    for (const reporter of ['source', 'destination']) {
      expect(await observed('istio_request_bytes', reporter)).toEqual([{ count: 1, sum: 12 }]);
      expect(await observed('istio_response_bytes', reporter)).toEqual([{ count: 1, sum: 23 }]);
    }
    expect(loggedBytes(logs.client)).toEqual([{ received: 12, sent: 23 }]);
    expect(loggedBytes(logs.server)).toEqual([{ received: 12, sent: 23 }]);
  });

  it('sums the replies of a server-streaming call', async () => {
    const client = await meshedPair();

    const result = await callList(client, { text: 'abc', count: 3 });

    expect(result.reply?.map((reply) => reply.text)).toEqual(['abc-0', 'abc-1', 'abc-2']);
    const request = requestBytes('abc', 3);
    const replies = replyBytes('abc-0') + replyBytes('abc-1') + replyBytes('abc-2');
    expect([request, replies]).toEqual([12, 69]);
    await serverLogged(1);
    for (const reporter of ['source', 'destination']) {
      expect(await observed('istio_request_bytes', reporter)).toEqual([{ count: 1, sum: request }]);
      expect(await observed('istio_response_bytes', reporter)).toEqual([{ count: 1, sum: replies }]);
    }
    expect(loggedBytes(logs.client)).toEqual([{ received: request, sent: replies }]);
    expect(loggedBytes(logs.server)).toEqual([{ received: request, sent: replies }]);
  });

  it('sums the requests of a client-streaming call, an empty message counting its 5-byte prefix', async () => {
    const client = await meshedPair();

    const result = await callCollect(client, [{ text: 'a' }, { text: 'bb' }, {}]);

    expect(result.reply?.text).toBe('a+bb+');
    const requests = requestBytes('a') + requestBytes('bb') + requestBytes('');
    expect([requests, requestBytes('')]).toEqual([22, 5]);
    await serverLogged(1);
    for (const reporter of ['source', 'destination']) {
      expect(await observed('istio_request_bytes', reporter)).toEqual([{ count: 1, sum: requests }]);
      expect(await observed('istio_response_bytes', reporter)).toEqual([
        { count: 1, sum: replyBytes('a+bb+') },
      ]);
    }
  });

  it('counts a retried call’s request once on the client, and once per attempt on the server', async () => {
    const reviews = await pair.server({ telemetry: telemetryLoggingTo(logs.server) });
    reviews.echo.behave((_call, index) =>
      index === 0 ? { kind: 'fail', code: Status.UNAVAILABLE } : { kind: 'reply' },
    );
    const client = pair.caller(reviews, { telemetry: telemetryLoggingTo(logs.client) }).client;

    const result = await callUnary(client, 'Get', { text: 'again' });

    expect([result.code, reviews.echo.seen.length]).toEqual([Status.OK, 2]);
    const request = requestBytes('again');
    await serverLogged(2);
    expect(await observed('istio_request_bytes', 'source')).toEqual([{ count: 1, sum: request }]);
    expect(await observed('istio_response_bytes', 'source')).toEqual([
      { count: 1, sum: replyBytes('again') },
    ]);
    // The server saw two calls; the failed one was answered with trailers alone, no message.
    const failed = { grpc_response_status: '14' };
    const answered = { grpc_response_status: '0' };
    expect(await observed('istio_request_bytes', 'destination', failed)).toEqual([
      { count: 1, sum: request },
    ]);
    expect(await observed('istio_response_bytes', 'destination', failed)).toEqual([{ count: 1, sum: 0 }]);
    expect(await observed('istio_request_bytes', 'destination', answered)).toEqual([
      { count: 1, sum: request },
    ]);
    expect(await observed('istio_response_bytes', 'destination', answered)).toEqual([
      { count: 1, sum: replyBytes('again') },
    ]);
  });

  it('keeps the bytes of replies delivered before a caller cancelled a stream', async () => {
    const reviews = await pair.server({ telemetry: telemetryLoggingTo(logs.server) });
    reviews.echo.behave(() => ({ kind: 'hang', afterMessages: 2 }));
    const client = pair.caller(reviews, { telemetry: telemetryLoggingTo(logs.client) }).client;

    const replies = await new Promise<EchoReply[]>((resolve, reject) => {
      const received: EchoReply[] = [];
      const stream = client.List({ text: 'abc' }, new Metadata(), {});
      stream.on('data', (reply: EchoReply) => {
        received.push(reply);
        if (received.length === 2) stream.cancel();
      });
      stream.on('error', (error: ServiceError) =>
        error.code === Status.CANCELLED ? resolve(received) : reject(error),
      );
    });

    expect(replies.map((reply) => reply.text)).toEqual(['held-0', 'held-1']);
    expect(loggedBytes(logs.client)).toEqual([
      { received: requestBytes('abc'), sent: replyBytes('held-0') + replyBytes('held-1') },
    ]);
    expect(JSON.parse(logs.client[0] ?? '{}')).toMatchObject({ response_flags: 'DC' });
  });

  it('keeps the bytes of replies delivered before the route timeout ended a stream (a status the mesh made)', async () => {
    const reviews = await pair.server({ telemetry: telemetryLoggingTo(logs.server) });
    reviews.echo.behave(() => ({ kind: 'hang', afterMessages: 2 }));
    // The caller's timers run on a FakeClock: the route timeout fires when the test says, and
    // grpc-js's own deadline (30 s of wall time) never fires first.
    const clock = new FakeClock();
    const mesh = createMesh({
      workload: { name: 'productpage-0', namespace: 'default', serviceAccount: 'productpage', labels: {} },
      workloads: [grpcWorkload('reviews', 'reviews-0', reviews.echo.port)],
      config: { yaml: singleRoute('reviews', 'timeout: 30s') },
      clock,
      telemetry: telemetryLoggingTo(logs.client),
    });
    const client = createMeshClient(mesh, EchoClientConstructor, 'reviews:9080');
    try {
      const replies: EchoReply[] = [];
      const ended = new Promise<ServiceError>((resolve) => {
        const stream = client.List({ text: 'abc' }, new Metadata(), {});
        stream.on('data', (reply: EchoReply) => {
          replies.push(reply);
          if (replies.length === 2) clock.advance(30_000);
        });
        stream.on('error', resolve);
      });
      const error = await ended;

      expect([error.code, error.metadata.get(RESPONSE_FLAGS_METADATA)]).toEqual([
        Status.DEADLINE_EXCEEDED,
        ['UT'],
      ]);
      expect(replies.map((reply) => reply.text)).toEqual(['held-0', 'held-1']);
      expect(loggedBytes(logs.client)).toEqual([
        { received: requestBytes('abc'), sent: replyBytes('held-0') + replyBytes('held-1') },
      ]);
      expect(JSON.parse(logs.client[0] ?? '{}')).toMatchObject({ response_code_details: 'response_timeout' });
    } finally {
      client.close();
      mesh.close();
    }
  });
});
