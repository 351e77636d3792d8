/**
 * Connection-pool limits (Envoy's cluster circuit breakers as Istio configures them): overflow at
 * each limit with response flag UO, the pending queue, release, and the undici option mapping.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionPoolLimiter } from '../src/resilience/pool/connection-pool-limiter.ts';
import type { PoolAdmission, PoolLease, PoolOverflowEvent } from '../src/resilience/pool/pool-admission.ts';
import {
  type ConnectionPoolPolicy,
  ISTIO_UNLIMITED,
  resolvePoolLimits,
} from '../src/resilience/pool/pool-limits.ts';
import { undiciPoolOptions } from '../src/resilience/pool/undici-pool-options.ts';

function limiter(policy: ConnectionPoolPolicy, protocol: 'http1' | 'http2' = 'http1') {
  const pool = new ConnectionPoolLimiter({ cluster: 'reviews', limits: resolvePoolLimits(policy), protocol });
  const events: PoolOverflowEvent[] = [];
  pool.on((event) => events.push(event));
  return { pool, events };
}

function admitted(admission: PoolAdmission): PoolLease {
  if (admission.kind !== 'admitted') throw new Error(`expected admission, got ${admission.kind}`);
  return admission;
}

describe('resolvePoolLimits', () => {
  it("uses Istio's 2^32−1 for every threshold left unset (not Envoy's 1024/3)", () => {
    expect(resolvePoolLimits(undefined)).toEqual({
      maxConnections: ISTIO_UNLIMITED,
      maxPendingRequests: ISTIO_UNLIMITED,
      maxRequests: ISTIO_UNLIMITED,
      maxRetries: ISTIO_UNLIMITED,
      maxRequestsPerConnection: 0,
      maxConcurrentStreams: 2_147_483_647,
      connectTimeoutMs: 10_000,
    });
  });

  it('reads 0 as unset, as Istio does, and prefers http.idleTimeout over tcp.idleTimeout', () => {
    const limits = resolvePoolLimits({
      tcp: { maxConnections: 0, connectTimeout: 250, idleTimeout: 60_000 },
      http: { http1MaxPendingRequests: 0, http2MaxRequests: 7, maxRetries: 0, idleTimeout: 5_000 },
    });
    expect(limits).toMatchObject({
      maxConnections: ISTIO_UNLIMITED,
      maxPendingRequests: ISTIO_UNLIMITED,
      maxRequests: 7,
      maxRetries: ISTIO_UNLIMITED,
      connectTimeoutMs: 250,
      idleTimeoutMs: 5_000,
    });
  });
});

describe('ConnectionPoolLimiter', () => {
  it('overflows at http2MaxRequests with UO and admits again after a release', () => {
    const { pool, events } = limiter({ http: { http2MaxRequests: 2 } }, 'http2');
    const first = admitted(pool.tryStartRequest());
    admitted(pool.tryStartRequest());
    expect(pool.tryStartRequest()).toEqual({ kind: 'overflow', reason: 'max-requests', responseFlag: 'UO' });
    expect(events).toEqual([{ type: 'overflow', cluster: 'reviews', reason: 'max-requests', limit: 2 }]);
    first.release();
    first.release(); // a second release frees nothing
    expect(pool.activeRequests).toBe(1);
    admitted(pool.tryStartRequest());
    expect(pool.tryStartRequest().kind).toBe('overflow');
  });

  it('queues requests beyond maxConnections (HTTP/1.1) up to http1MaxPendingRequests, then overflows', async () => {
    const { pool, events } = limiter({ tcp: { maxConnections: 2 }, http: { http1MaxPendingRequests: 1 } });
    const first = admitted(pool.tryStartRequest());
    admitted(pool.tryStartRequest());
    const third = pool.tryStartRequest();
    expect(third.kind).toBe('pending');
    expect(pool.pendingRequests).toBe(1);
    expect(pool.tryStartRequest()).toEqual({
      kind: 'overflow',
      reason: 'max-pending-requests',
      responseFlag: 'UO',
    });
    expect(events.map((event) => event.reason)).toEqual(['max-pending-requests']);
    first.release();
    if (third.kind !== 'pending') throw new Error('expected pending');
    const lease = await third.admission;
    expect(lease.kind).toBe('admitted');
    expect(pool.pendingRequests).toBe(0);
    expect(pool.activeRequests).toBe(2);
  });

  it('admits waiting requests first in first out, and a new request does not jump the queue', async () => {
    const { pool } = limiter({ tcp: { maxConnections: 1 } });
    const holder = admitted(pool.tryStartRequest());
    const order: string[] = [];
    const waiting = ['a', 'b', 'c'].map((name) => {
      const admission = pool.tryStartRequest();
      if (admission.kind !== 'pending') throw new Error('expected pending');
      return admission.admission.then((lease) => {
        order.push(name);
        return lease;
      });
    });
    holder.release();
    const a = await waiting[0];
    if (a?.kind !== 'admitted') throw new Error('expected admission');
    expect(pool.tryStartRequest().kind).toBe('pending');
    a.release();
    const b = await waiting[1];
    if (b?.kind !== 'admitted') throw new Error('expected admission');
    b.release();
    await waiting[2];
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('lets an aborted request leave the queue, and the freed slot goes to the next one', async () => {
    const { pool } = limiter({ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 2 } });
    const holder = admitted(pool.tryStartRequest());
    const controller = new AbortController();
    const aborted = pool.tryStartRequest(controller.signal);
    const next = pool.tryStartRequest();
    if (aborted.kind !== 'pending' || next.kind !== 'pending') throw new Error('expected pending');
    controller.abort(new Error('per-try timeout'));
    expect(await aborted.admission).toMatchObject({ kind: 'aborted' });
    expect(pool.pendingRequests).toBe(1);
    holder.release();
    expect((await next.admission).kind).toBe('admitted');
    expect(pool.tryStartRequest(controller.signal).kind).toBe('aborted');
  });

  it('carries maxConcurrentStreams requests per HTTP/2 connection before queueing', () => {
    const { pool } = limiter({ tcp: { maxConnections: 1 }, http: { maxConcurrentStreams: 2 } }, 'http2');
    admitted(pool.tryStartRequest());
    admitted(pool.tryStartRequest());
    expect(pool.tryStartRequest().kind).toBe('pending');
  });

  it('overflows retries at maxRetries and releases them', () => {
    const { pool, events } = limiter({ http: { maxRetries: 1 } });
    const retry = pool.tryStartRetry();
    expect(retry.kind).toBe('admitted');
    expect(pool.tryStartRetry()).toEqual({ kind: 'overflow', reason: 'max-retries', responseFlag: 'UO' });
    expect(events.map((event) => event.reason)).toEqual(['max-retries']);
    if (retry.kind === 'admitted') retry.release();
    expect(pool.activeRetries).toBe(0);
    expect(pool.tryStartRetry().kind).toBe('admitted');
  });

  it('admits waiting requests when a new snapshot raises the limit', async () => {
    const { pool } = limiter({ tcp: { maxConnections: 1 } });
    admitted(pool.tryStartRequest());
    const waiting = pool.tryStartRequest();
    if (waiting.kind !== 'pending') throw new Error('expected pending');
    pool.reconfigure(resolvePoolLimits({ tcp: { maxConnections: 2 } }));
    expect((await waiting.admission).kind).toBe('admitted');
    expect(pool.activeRequests).toBe(2);
  });
});

describe('undiciPoolOptions', () => {
  it('maps the connection settings onto undici Pool options', () => {
    expect(
      undiciPoolOptions(
        resolvePoolLimits({
          tcp: { maxConnections: 100, connectTimeout: 3_000 },
          http: { maxRequestsPerConnection: 10, idleTimeout: 30_000 },
        }),
      ),
    ).toEqual({
      connections: 100,
      pipelining: 1,
      connect: { timeout: 3_000 },
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 30_000,
      maxRequestsPerClient: 10,
    });
  });

  it('turns keep-alive off for maxRequestsPerConnection 1 and leaves unset limits unlimited', () => {
    const options = undiciPoolOptions(resolvePoolLimits({ http: { maxRequestsPerConnection: 1 } }));
    expect(options).toEqual({ connections: null, pipelining: 0, connect: { timeout: 10_000 } });
  });
});
