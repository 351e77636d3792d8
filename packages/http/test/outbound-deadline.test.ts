/**
 * The caller's deadline is enforced on the outbound calls its handler makes: a real Weft server
 * on 127.0.0.1 (workload A) whose handler calls a slow upstream through Weft's fetch. The call's
 * overall timeout is the shorter of the route timeout and what is left of the deadline A's caller
 * sent (`x-envoy-expected-rq-timeout-ms`): it ends near the deadline, is answered at once when
 * the deadline has passed already, and retries stop at it. Without a deadline nothing changes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, type Mesh } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { singleRoute } from '../../core/test/support/istio-yaml.ts';
import {
  createMeshDispatcher,
  createMeshFetch,
  DEADLINE_HEADER,
  ERROR_CODE_HEADER,
  type MeshFetch,
  RESPONSE_FLAGS_HEADER,
} from '../src/index.ts';
import { createInboundHarness, type InboundHarness, registered } from './support/inbound-harness.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { sleep } from './support/waiting.ts';

/** What A's handler got from its outbound call. */
interface OutboundAnswer {
  readonly status: number;
  readonly flags: string | null;
  readonly errorCode: string | null;
  readonly body: string;
  /** From the handler's call to the end of the answer's body. */
  readonly elapsedMs: number;
}

let harness: InboundHarness;
let upstream: Upstream;
let answers: OutboundAnswer[];
/** When (performance.now) each request reached the upstream. */
let arrivals: number[];
/** When A's handler made its outbound call. */
let callStartedAt: number;

beforeEach(async () => {
  harness = createInboundHarness();
  upstream = await startUpstream('slow');
  answers = [];
  arrivals = [];
});
afterEach(async () => {
  await upstream.close();
  await harness.close();
});

/**
 * Workload A with `routeFields` on its route to `slow` (timeout, retries), whose handler waits
 * `delayBeforeCallMs`, then calls `slow` through the mesh and records the answer.
 */
async function startA(routeFields: string, delayBeforeCallMs = 0): Promise<number> {
  const mesh = harness.mesh('a', { yaml: singleRoute('slow', routeFields) });
  const meshFetch = fetchFor(mesh);
  const a = await harness.serve(mesh, async (_request: IncomingMessage, response: ServerResponse) => {
    if (delayBeforeCallMs > 0) await sleep(delayBeforeCallMs);
    callStartedAt = performance.now();
    const answer = await meshFetch('http://slow:9080/work');
    const body = await answer.text();
    answers.push({
      status: answer.status,
      flags: answer.headers.get(RESPONSE_FLAGS_HEADER),
      errorCode: answer.headers.get(ERROR_CODE_HEADER),
      body,
      elapsedMs: performance.now() - callStartedAt,
    });
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('a');
  });
  mesh.setWorkloads([registered('a', a.port), registered('slow', upstream.port)]);
  return a.port;
}

function fetchFor(mesh: Mesh): MeshFetch {
  const dispatcher = createMeshDispatcher(mesh);
  harness.onClose(() => dispatcher.close());
  return createMeshFetch(mesh, { meshDispatcher: dispatcher });
}

/** A's caller sends a deadline of `deadlineMs` (or none) and waits for A's answer. */
async function callA(port: number, deadlineMs?: number): Promise<OutboundAnswer> {
  const headers: Record<string, string> =
    deadlineMs === undefined ? {} : { [DEADLINE_HEADER]: String(deadlineMs) };
  const outcome = await harness.plain().get(port, '/start', headers);
  expect(outcome).toMatchObject({ kind: 'response', status: 200 });
  const [answer] = answers;
  if (answer === undefined) throw new Error('the handler recorded no answer');
  return answer;
}

describe('the caller’s deadline on an outbound call', () => {
  it('ends the call near the deadline, not at the route timeout: 504, UT, WEFT_ERR_DEADLINE_EXCEEDED', async () => {
    upstream.behave(() => ({ kind: 'hang' }));
    const port = await startA('timeout: 20s');
    const answer = await callA(port, 400);
    expect(answer).toMatchObject({ status: 504, flags: 'UT', errorCode: ErrorCodes.deadlineExceeded });
    expect(answer.body).toContain('deadline exceeded');
    // Near 400 ms: well before the upstream would answer (never) or the route timeout (20 s).
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(answer.elapsedMs).toBeLessThan(4_000);
    expect(upstream.heads).toBe(1);
  });

  it('sends what is left of the deadline upstream, never more than the caller gave', async () => {
    upstream.behave(() => ({ kind: 'respond', status: 200, body: 'done' }));
    const port = await startA('timeout: 20s');
    const answer = await callA(port, 3_000);
    expect(answer).toMatchObject({ status: 200, body: 'done' });
    const carried = Number(upstream.seen[0]?.headers[DEADLINE_HEADER]);
    expect(carried).toBeGreaterThan(0);
    expect(carried).toBeLessThanOrEqual(3_000);
  });

  it('answers at once and sends nothing upstream when the deadline passed before the call', async () => {
    const port = await startA('timeout: 20s', 250);
    const answer = await callA(port, 50);
    expect(answer).toMatchObject({ status: 504, flags: 'UT', errorCode: ErrorCodes.deadlineExceeded });
    expect(upstream.heads).toBe(0);
    expect(answer.elapsedMs).toBeLessThan(1_000);
  });

  it('starts no retry past the deadline', async () => {
    upstream.behave((_request, index) => {
      arrivals[index] = performance.now();
      return { kind: 'delay', ms: 200, status: 503 };
    });
    // Six attempts of 200 ms each would take well over a second without the deadline.
    const port = await startA('timeout: 20s\nretries: { attempts: 5, retryOn: 5xx }');
    const deadlineMs = 500;
    const answer = await callA(port, deadlineMs);
    expect(upstream.seen.length).toBeGreaterThanOrEqual(2);
    expect(upstream.seen.length).toBeLessThan(6);
    for (const arrivedAt of arrivals) expect(arrivedAt - callStartedAt).toBeLessThan(deadlineMs + 250);
    // The deadline ended an attempt (504), or the retry it would have cut short was refused (503).
    expect([503, 504]).toContain(answer.status);
    expect(answer.elapsedMs).toBeLessThan(deadlineMs + 1_000);
  });

  it('leaves the route timeout in charge when it is the sooner: 504, UT, WEFT_ERR_TIMEOUT', async () => {
    upstream.behave(() => ({ kind: 'hang' }));
    const port = await startA('timeout: 300ms');
    const answer = await callA(port, 10_000);
    expect(answer).toMatchObject({ status: 504, flags: 'UT', errorCode: ErrorCodes.timeout });
    expect(answer.body).toBe('upstream request timeout');
  });
});

describe('without a deadline from the caller', () => {
  it('the route timeout alone ends the call, as before', async () => {
    upstream.behave(() => ({ kind: 'hang' }));
    const port = await startA('timeout: 300ms');
    const answer = await callA(port);
    expect(answer).toMatchObject({ status: 504, flags: 'UT', errorCode: ErrorCodes.timeout });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(250);
    expect(upstream.seen[0]?.headers[DEADLINE_HEADER]).toBeUndefined();
  });

  it('a slow upstream is waited for when no route timeout applies', async () => {
    upstream.behave(() => ({ kind: 'delay', ms: 600, status: 200, body: 'late' }));
    const port = await startA('');
    const answer = await callA(port);
    expect(answer).toMatchObject({ status: 200, body: 'late' });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(500);
  });
});
