/**
 * bad-inputs I4 in `npm test`: the inbound server (20 AuthorizationPolicies, the heaviest path
 * normalization, an OpenTelemetry SDK and an access log) under a bounded burst of hostile requests
 * does bounded work per request — counted, never timed. Event-loop delay under the same load is
 * measured by `bench/inbound-hostile.ts` (RELIABILITY.md, row I4), not asserted here.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type HostileKind,
  hostileMesh,
  hostileRequest,
  MAX_HEAD_BYTES,
  okHandler,
  sendRaw,
} from '../bench/support/hostile-inbound.ts';
import { createMeshServer } from '../packages/http/src/index.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const KINDS: readonly HostileKind[] = ['huge-headers', 'long-path', 'oversize-head', 'small'];

describe('I4: the inbound server under a burst of hostile requests', () => {
  it('answers each request once, runs the pipeline only for heads within the limit, and keeps every record bounded', async () => {
    const hostile = hostileMesh();
    cleanups.push(() => hostile.close());
    const app = okHandler();
    const server = createMeshServer(hostile.mesh, app.handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const { port } = server.address() as AddressInfo;

    // 160 requests, 40 of each kind, 16 at a time.
    const plan = Array.from({ length: 160 }, (_, index) => ({
      kind: KINDS[index % KINDS.length] as HostileKind,
      ...hostileRequest(KINDS[index % KINDS.length] as HostileKind, index),
    }));
    const statuses: number[] = new Array(plan.length).fill(-1);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < plan.length) {
          const index = next++;
          const request = plan[index];
          if (request !== undefined) statuses[index] = await sendRaw(port, request.bytes);
        }
      }),
    );

    expect(statuses).toEqual(plan.map((request) => request.expected));
    const admitted = plan.filter((request) => request.kind !== 'oversize-head').length;
    // The pipeline (authorization, normalization, telemetry) ran once per admitted request and
    // never for a head over node's limit: one access-log line each, and the handler for each.
    expect(app.served()).toBe(admitted);
    expect(hostile.logLines()).toBe(admitted);
    // What the pipeline holds per request is bounded by the head limit, whatever was sent.
    expect(
      plan.every((request) => request.kind === 'oversize-head' || request.bytes.length < MAX_HEAD_BYTES),
    ).toBe(true);
    expect(hostile.longestLogLine()).toBeLessThan(MAX_HEAD_BYTES);
  });
});
