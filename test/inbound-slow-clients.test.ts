/**
 * bad-inputs C3, inbound: slow-loris clients against a real createMeshServer (@weft/http) on
 * 127.0.0.1 (here, beside the fault proxy, rather than in the package). A
 * client that trickles its request head, its body or its TLS handshake is dropped at the server's
 * bound, and other clients are served meanwhile. The limits are shortened per test (the
 * defaults, checked first, are seconds long); the slow client is the fault proxy's `slowLoris()`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createTestCa, TestIdentity } from '@weft/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inboundHttpServerOptions } from '../packages/http/src/inbound/server-limits.ts';
import { createInboundHarness, type InboundHarness } from '../packages/http/test/support/inbound-harness.ts';
import { rawGet } from '../packages/http/test/support/raw-request.ts';
import { slowLoris } from './support/fault-proxy.ts';

let harness: InboundHarness;
beforeEach(() => {
  harness = createInboundHarness();
});
afterEach(() => harness.close());

/** Answers 200 once it has read the whole body; counts the requests it began and answered. */
function bodyReader() {
  let started = 0;
  let answered = 0;
  const handler = async (request: IncomingMessage, response: ServerResponse) => {
    started++;
    let bytes = 0;
    try {
      for await (const chunk of request) bytes += (chunk as Buffer).length;
    } catch {
      return; // the server dropped the request: nothing to answer
    }
    answered++;
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(`read ${bytes}`);
  };
  return { handler, started: () => started, answered: () => answered };
}

/** Sends plain GETs one after another while `isRunning()`; what each got (bounded: 400 at most). */
async function steadyCaller(port: number, isRunning: () => boolean): Promise<number[]> {
  const caller = harness.plain();
  const statuses: number[] = [];
  while (isRunning() && statuses.length < 400) {
    const outcome = await caller.get(port, '/ok');
    statuses.push(outcome.kind === 'response' ? outcome.status : 0);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return statuses;
}

describe('C3: the inbound server against slow-loris clients', () => {
  it("has Weft's slow-client limits by default, and each one can be overridden", async () => {
    const { server } = await harness.serve(harness.mesh('shop'), bodyReader().handler);
    expect(server.httpServer.headersTimeout).toBe(10_000);
    expect(server.httpServer.requestTimeout).toBe(60_000);
    expect(server.httpServer.keepAliveTimeout).toBe(5_000);
    expect(inboundHttpServerOptions()).toMatchObject({ connectionsCheckingInterval: 1_000 });
    const overridden = await harness.serve(harness.mesh('shop'), bodyReader().handler, {
      http: { headersTimeout: 2_000, requestTimeout: 0, keepAliveTimeout: 7_000 },
    });
    expect(overridden.server.httpServer.headersTimeout).toBe(2_000);
    expect(overridden.server.httpServer.requestTimeout).toBe(0);
    expect(overridden.server.httpServer.keepAliveTimeout).toBe(7_000);
    // A request timeout under the default head timeout bounds the head too (node refuses a
    // longer head timeout than request timeout), and the checks run often enough for it.
    expect(inboundHttpServerOptions({ requestTimeout: 400 })).toMatchObject({
      requestTimeout: 400,
      headersTimeout: 400,
      connectionsCheckingInterval: 100,
    });
  });

  it('drops a trickled request head before it is complete, and serves other clients meanwhile', async () => {
    const app = bodyReader();
    const { port } = await harness.serve(harness.mesh('shop'), app.handler, {
      http: { headersTimeout: 400, requestTimeout: 5_000 },
    });
    const head = `GET /slow HTTP/1.1\r\nHost: shop\r\n${'X-Pad: y\r\n'.repeat(200)}\r\n`;
    let isTrickling = true;
    const [loris, statuses] = await Promise.all([
      slowLoris(port, head, { intervalMs: 10, maxMs: 8_000 }).finally(() => {
        isTrickling = false;
      }),
      steadyCaller(port, () => isTrickling),
    ]);
    expect(loris.endedBy).not.toBe('client-finished');
    expect(loris.bytesSent).toBeLessThan(head.length);
    // Node checks the timeout on an interval (here 100 ms), so the drop comes a little late.
    expect(loris.elapsedMs).toBeGreaterThanOrEqual(390);
    expect(loris.elapsedMs).toBeLessThan(5_000);
    expect(loris.response.toString('latin1')).toMatch(/^(HTTP\/1\.1 408 |$)/);
    expect(app.answered()).toBe(statuses.length);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
  });

  it('drops a request whose body trickles past requestTimeout, and serves other clients meanwhile', async () => {
    const app = bodyReader();
    const { port } = await harness.serve(harness.mesh('shop'), app.handler, {
      http: { headersTimeout: 400, requestTimeout: 800 },
    });
    const request = 'POST /upload HTTP/1.1\r\nHost: shop\r\nContent-Length: 4000\r\n\r\n';
    const body = 'x'.repeat(4_000);
    // The head in the first write, then as many body bytes every 200 ms: 14 s if nothing stopped it.
    let isTrickling = true;
    const [loris, statuses] = await Promise.all([
      slowLoris(port, Buffer.from(request + body, 'latin1'), {
        bytesPerWrite: request.length,
        intervalMs: 200,
        maxMs: 10_000,
      }).finally(() => {
        isTrickling = false;
      }),
      steadyCaller(port, () => isTrickling),
    ]);
    expect(loris.endedBy).not.toBe('client-finished');
    expect(loris.bytesSent).toBeLessThan(request.length + body.length);
    expect(loris.elapsedMs).toBeGreaterThanOrEqual(790);
    expect(loris.elapsedMs).toBeLessThan(6_000);
    expect(loris.response.toString('latin1')).toMatch(/^(HTTP\/1\.1 408 |$)/);
    // The upload's head was complete (its handler began reading), its body never was.
    expect(loris.bytesSent).toBeGreaterThan(request.length);
    expect(app.started()).toBe(statuses.length + 1);
    expect(app.answered()).toBe(statuses.length);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
  });

  it('with no request timeout (a streaming service), a slow body is read to its end', async () => {
    const app = bodyReader();
    const { port } = await harness.serve(harness.mesh('shop'), app.handler, {
      http: { headersTimeout: 400, requestTimeout: 0 },
    });
    const body = 'x'.repeat(60);
    const request = `POST /upload HTTP/1.1\r\nHost: shop\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const loris = await slowLoris(port, Buffer.from(request + body, 'latin1'), {
      bytesPerWrite: request.length,
      intervalMs: 700,
      maxMs: 8_000,
    });
    expect(loris.bytesSent).toBe(request.length + body.length);
    expect(loris.response.toString('latin1')).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\nread 60\r\n/);
    expect(app.answered()).toBe(1);
  });

  it('closes a TLS handshake that stalls after its first bytes, and serves plaintext meanwhile', async () => {
    const ca = createTestCa();
    const mesh = harness.mesh('shop');
    const { server, port } = await harness.serve(mesh, bodyReader().handler, {
      identity: new TestIdentity(ca.workload('default', 'shop')),
      tlsHandshakeTimeoutMs: 400,
    });
    expect(server.isTlsReady).toBe(true);
    // A TLS record header (handshake, TLS 1.0) announcing 512 bytes, then one byte of it every 50 ms.
    const record = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), Buffer.alloc(512, 1)]);
    let isTrickling = true;
    const [loris, statuses] = await Promise.all([
      slowLoris(port, record, { intervalMs: 50, maxMs: 8_000 }).finally(() => {
        isTrickling = false;
      }),
      steadyCaller(port, () => isTrickling),
    ]);
    expect(loris.endedBy).not.toBe('client-finished');
    expect(loris.bytesSent).toBeLessThan(record.length);
    expect(loris.elapsedMs).toBeGreaterThanOrEqual(390);
    expect(loris.elapsedMs).toBeLessThan(6_000);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(await rawGet(port, '/after')).toMatchObject({ status: 200 });
  });
});
