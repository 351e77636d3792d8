/**
 * Certificate rotation under load (issue 5): a renewed workload SVID, a server's own renewal and a
 * CA root rotation (old and new roots trusted for an overlap) while requests keep flowing. New
 * connections use the new certificate; requests already on a connection finish there; no request
 * fails. Real TLS servers on 127.0.0.1; the load is a fixed number of requests, 8 in flight.
 */
import { secureContextOptions, serverTlsOptions } from '@weft/core';
import { createTestCa, identityMaterialOf as materialOf, spiffeIdOf, TestIdentity } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { destinationRule } from '../../core/test/support/istio-yaml.ts';
import type { CallResult } from './support/mesh-client.ts';
import { CALLER_ID, createMtlsHarness, type MtlsClient, meshWorkload } from './support/mtls-harness.ts';

const URL = 'http://reviews:9080/reviews/1';
const REVIEWS_ID = spiffeIdOf('cluster.local', 'default', 'reviews');

const harness = createMtlsHarness();
afterEach(() => harness.close());

/**
 * Sends `total` requests, `concurrency` at a time; after the request numbered k completes,
 * `steps[k]` runs (while the other requests are in flight). Returns every result in completion order.
 */
async function load(
  client: MtlsClient,
  total: number,
  steps: Record<number, () => void>,
  concurrency = 8,
): Promise<CallResult[]> {
  const results: CallResult[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent += 1;
      const result = await client.get(URL);
      results.push(result);
      steps[results.length]?.();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

describe('certificate rotation', () => {
  it("renewing the workload's SVID mid-load fails no request; new connections present the new one", async () => {
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const first = harness.ca.workload('default', 'productpage');
    const renewed = harness.ca.workload('default', 'productpage');
    const identity = new TestIdentity(first);
    const client = harness.client(
      destinationRule('reviews', 'tls: { mode: ISTIO_MUTUAL }'),
      [meshWorkload('reviews', upstream.port)],
      { identity },
    );
    const results = await load(client, 400, { 100: () => identity.set(renewed) });
    expect(results.filter((result) => result.status !== 200)).toEqual([]);
    const serials = upstream.requests.map((request) => request.clientSerial);
    expect(new Set(serials)).toEqual(new Set([first.serialNumber, renewed.serialNumber]));
    // Every request sent after the renewal went out on a new connection with the new SVID.
    expect(serials.slice(-200).every((serial) => serial === renewed.serialNumber)).toBe(true);
    expect(upstream.requests.every((request) => request.clientId === CALLER_ID)).toBe(true);
    expect(client.tlsEvents.filter((event) => event.type === 'handshake-failed')).toEqual([]);
  });

  it("a server's renewal mid-load fails no request: new handshakes verify its new SVID", async () => {
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const client = harness.client(destinationRule('reviews', 'tls: { mode: ISTIO_MUTUAL }'), [
      meshWorkload('reviews', upstream.port),
    ]);
    const results = await load(client, 300, {
      100: () => {
        upstream.setSecureContext(secureContextOptions(harness.ca.workload('default', 'reviews')));
        upstream.drain();
      },
    });
    expect(results.filter((result) => result.status !== 200)).toEqual([]);
    expect(client.tlsEvents.filter((event) => event.type === 'handshake-failed')).toEqual([]);
  });

  it('a CA root rotation with an overlap of both roots loses no request', async () => {
    const next = createTestCa('cluster.local');
    const bothRoots = [harness.ca.rootPem, next.rootPem];
    const workloadOf = (ca: typeof next, account: string, roots: readonly string[]) => {
      const id = spiffeIdOf('cluster.local', 'default', account);
      return materialOf(ca.issue(id), id, 'cluster.local', roots);
    };
    const upstream = await harness.tlsUpstream('reviews-0', 'reviews');
    const serve = (material: ReturnType<typeof workloadOf>) => {
      upstream.setSecureContext(secureContextOptions(material));
      upstream.drain();
    };
    const identity = new TestIdentity(harness.ca.workload('default', 'productpage'));
    const client = harness.client('', [meshWorkload('reviews', upstream.port)], { identity });
    // The agent's order (bad-inputs E13): both roots everywhere, then leaves from the new root,
    // then the old root is dropped once no leaf chains to it.
    const results = await load(client, 500, {
      80: () => identity.set(workloadOf(harness.ca, 'productpage', bothRoots)),
      120: () => serve(workloadOf(harness.ca, 'reviews', bothRoots)),
      200: () => serve(workloadOf(next, 'reviews', bothRoots)),
      280: () => identity.set(workloadOf(next, 'productpage', bothRoots)),
      360: () => identity.set(workloadOf(next, 'productpage', [next.rootPem])),
      400: () => serve(workloadOf(next, 'reviews', [next.rootPem])),
    });
    expect(results.filter((result) => result.status !== 200)).toEqual([]);
    expect(client.tlsEvents.filter((event) => event.type === 'handshake-failed')).toEqual([]);
    const peers = new Set(
      client.tlsEvents.map((event) => (event.type === 'handshake' ? event.peer : undefined)),
    );
    expect(peers).toEqual(new Set([REVIEWS_ID]));
  });

  it('after the old root is dropped, a server still presenting a leaf of it is refused', async () => {
    const next = createTestCa('cluster.local');
    const upstream = await harness.tlsUpstream(
      'reviews-0',
      'reviews',
      materialOf(harness.ca.issue(REVIEWS_ID), REVIEWS_ID, 'cluster.local', [
        harness.ca.rootPem,
        next.rootPem,
      ]),
    );
    const id = CALLER_ID;
    const identity = new TestIdentity(materialOf(next.issue(id), id, 'cluster.local', [next.rootPem]));
    const client = harness.client('', [meshWorkload('reviews', upstream.port)], { identity });
    const result = await client.get(URL);
    expect(result).toMatchObject({ status: 503, flags: ['UF'] });
    expect(upstream.requests).toEqual([]);
  });
});

// serverTlsOptions is what a Weft inbound server uses; the helpers above start from it.
void serverTlsOptions;
