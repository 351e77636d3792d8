/**
 * For the ca-*.test.ts and bad-inputs-identity tests: a real agent on 127.0.0.1 whose wall clock
 * the test moves (certificate validity, token expiry, the rotation schedule), and small clients
 * for its identity API — tokens, certificate requests with a join token or a renewal proof.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { buildCertificationRequest, renewalProofMessage, toPem } from '@weft/core';
import { type Agent, type AgentOptions, createAgent } from '../../src/index.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';

export const ADMIN_TOKEN = 'identity-admin-token-0123456789';
export const REVIEWS_ID = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews';
export const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

export const cleanups: (() => Promise<unknown> | unknown)[] = [];

export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** Wall-clock ms the test moves by hand; starts at the real time (TLS checks dates against it). */
export class TestWall {
  #nowMs: number;

  constructor(startMs = Date.now()) {
    this.#nowMs = startMs;
  }

  readonly now = (): number => this.#nowMs;

  advance(ms: number): void {
    this.#nowMs += ms;
  }
}

export interface IdentityAgent {
  readonly agent: Agent;
  readonly store: MemoryStore;
  readonly url: string;
  readonly wall: TestWall;
}

export async function startIdentityAgent(
  options: Partial<AgentOptions> & { readonly store?: MemoryStore; readonly wall?: TestWall } = {},
): Promise<IdentityAgent> {
  const store = options.store ?? (await MemoryStore.open());
  if (options.store === undefined) cleanups.push(() => store.close());
  const wall = options.wall ?? new TestWall();
  const agent = await createAgent({
    heartbeatMs: 100,
    coalesceWindowMs: 0,
    adminToken: ADMIN_TOKEN,
    wallClock: wall.now,
    ...options,
    store,
    ca: { refreshIntervalMs: 60_000, ...options.ca },
  });
  cleanups.push(() => agent.close());
  return { agent, store, url: agent.url, wall };
}

export interface Answer {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in assertions.
  readonly body: any;
}

export async function call(
  url: string,
  method: string,
  path: string,
  options: { readonly body?: unknown; readonly token?: string; readonly rawBody?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

export async function createToken(
  url: string,
  namespace = 'default',
  serviceAccount = 'bookinfo-reviews',
  ttl = '1h',
): Promise<{ token: string; tokenId: string; spiffeId: string; expiresAt: string }> {
  const answer = await call(url, 'POST', '/v1/tokens', {
    token: ADMIN_TOKEN,
    body: { namespace, serviceAccount, ttl },
  });
  if (answer.status !== 201) throw new Error(`token create failed: ${JSON.stringify(answer)}`);
  return answer.body;
}

export interface WorkloadKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly csrDer: Buffer;
  readonly csrPem: string;
}

/** A P-256 key and a CSR asking for `uris` (the SPIFFE ID, normally). */
export function workloadKey(uris: readonly string[] = [REVIEWS_ID]): WorkloadKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csrDer = buildCertificationRequest({ privateKey, publicKey, uris });
  return { privateKey, publicKey, csrDer, csrPem: toPem(csrDer, 'CERTIFICATE REQUEST') };
}

export function requestWithToken(
  url: string,
  token: string | undefined,
  key: WorkloadKey = workloadKey(),
): Promise<Answer> {
  return call(url, 'POST', '/v1/certificates', {
    body: { csr: key.csrPem },
    ...(token === undefined ? {} : { token }),
  });
}

/** Renews: the current chain and key prove the identity; `next` is the new key's CSR. */
export function requestRenewal(
  url: string,
  current: { readonly chainPem: string; readonly privateKey: KeyObject },
  next: WorkloadKey = workloadKey(),
): Promise<Answer> {
  const signature = sign('sha256', renewalProofMessage(next.csrDer), current.privateKey).toString(
    'base64url',
  );
  return call(url, 'POST', '/v1/certificates', {
    body: { csr: next.csrPem, renewal: { certificateChain: current.chainPem, signature } },
  });
}

/** Waits until `condition` holds, polling every 10 ms, for at most `limitMs`; returns whether it held. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  limitMs = 5_000,
): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}
