/**
 * The workload's certificate manager on a fake clock: first SVID with the join token, renewal at
 * half the lifetime (minus jitter) with the current SVID as proof and a new key, retries with
 * back-off, `expiring` and `expired`, trust-bundle updates and early renewal after a root
 * rotation, and the join token again when a renewal is refused. The agent is a test double that
 * checks each request as the real CA does (CSR signature, proof signature) and issues from an
 * in-test CA.
 */
import { verify, X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Random } from '../src/randomness/random.ts';
import type {
  CertificateAnswer,
  CertificateRequestBody,
} from '../src/security/identity/certificate-exchange.ts';
import { renewalProofMessage } from '../src/security/identity/certificate-exchange.ts';
import { parseSpiffeId } from '../src/security/identity/spiffe-id.ts';
import { CertificateRefusedError } from '../src/security/identity/svid-requester.ts';
import {
  certificateSha256,
  type TrustBundle,
  trustBundleVersion,
} from '../src/security/identity/trust-bundle.ts';
import { WorkloadCertificates } from '../src/security/identity/workload-certificates.ts';
import { readCertificationRequest } from '../src/security/x509/certification-request.ts';
import { readPemBlock, readPemBlocks } from '../src/security/x509/pem.ts';
import { FakeClock } from '../src/time/fake-clock.ts';
import { createTestCa, type TestCa } from './identity-fixtures.ts';

const SPIFFE_ID = parseSpiffeId('spiffe://example.org/ns/default/sa/reviews');
const HOUR_MS = 3_600_000;
const LIFETIME_MS = 24 * HOUR_MS;
const TOKEN = 'join-token-for-reviews';

const managers: WorkloadCertificates[] = [];
afterEach(() => {
  for (const manager of managers.splice(0)) manager.close();
});

/** Lets the manager's awaited steps (CSR, answer, acceptance) run; no time passes. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Moves the clock in steps, letting each attempt's answer arrive before the next step. */
async function advanceInSteps(clock: FakeClock, totalMs: number, stepMs: number): Promise<void> {
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    clock.advance(Math.min(stepMs, totalMs - elapsed));
    await settle();
  }
}

const fixed = (value: number): Random => ({ next: () => value });

interface Sent {
  readonly credential: 'join-token' | 'renewal';
  readonly publicKeyDer: Buffer;
}

/** The agent's CA, as a test double: checks what the real CA checks, issues from `ca.current`. */
function fakeAgent(clock: FakeClock, startMs: number) {
  const state = {
    current: createTestCa('example.org', startMs),
    bundle: undefined as TrustBundle | undefined,
    failure: undefined as Error | undefined,
    sent: [] as Sent[],
  };
  state.bundle = state.current.bundle;
  const send = async (
    body: CertificateRequestBody,
    token: string | undefined,
  ): Promise<CertificateAnswer> => {
    const csrDer = readPemBlock(body.csr, 'CERTIFICATE REQUEST');
    const csr = readCertificationRequest(csrDer);
    if (body.renewal !== undefined) {
      const previous = new X509Certificate(
        readPemBlocks(body.renewal.certificateChain, 'CERTIFICATE')[0] as Buffer,
      );
      const isProven = verify(
        'sha256',
        renewalProofMessage(csrDer),
        previous.publicKey,
        Buffer.from(body.renewal.signature, 'base64url'),
      );
      expect(isProven).toBe(true);
      expect(token).toBeUndefined();
    } else {
      expect(token).toBe(TOKEN);
    }
    state.sent.push({
      credential: body.renewal === undefined ? 'join-token' : 'renewal',
      publicKeyDer: csr.publicKey.export({ type: 'spki', format: 'der' }),
    });
    if (state.failure !== undefined) throw state.failure;
    const nowMs = startMs + clock.now();
    const leaf = state.current.issue(SPIFFE_ID.uri, {
      publicKey: csr.publicKey,
      notBefore: new Date(nowMs - 60_000),
      notAfter: new Date(nowMs - 60_000 + LIFETIME_MS),
    });
    return {
      spiffeId: SPIFFE_ID.uri,
      certificateChain: leaf.pem,
      serialNumber: leaf.certificate.serialNumber,
      notBefore: new Date(nowMs - 60_000).toISOString(),
      notAfter: new Date(nowMs - 60_000 + LIFETIME_MS).toISOString(),
      trustBundle: state.bundle as TrustBundle,
    };
  };
  return { state, send };
}

function startManager(random: Random = fixed(0)) {
  const clock = new FakeClock();
  const startMs = Math.floor(Date.now() / 1000) * 1000;
  const agent = fakeAgent(clock, startMs);
  const manager = new WorkloadCertificates({
    spiffeId: SPIFFE_ID,
    joinToken: TOKEN,
    send: agent.send,
    clock,
    wallClock: () => startMs + clock.now(),
    random,
  });
  managers.push(manager);
  const seen: string[] = [];
  manager.events.issued.on((event) => seen.push(`issued ${event.credential}`));
  manager.events.renewed.on((event) => seen.push(`renewed ${event.credential}`));
  manager.events.renewalFailed.on((event) => seen.push(`failed #${event.attempt}`));
  manager.events.expiring.on(() => seen.push('expiring'));
  manager.events.expired.on(() => seen.push('expired'));
  manager.events.trustBundle.on(() => seen.push('trust-bundle'));
  return { clock, manager, agent, seen };
}

function bundleOf(roots: readonly TestCa[], signing: TestCa): TrustBundle {
  const fingerprints = roots.map((ca) => certificateSha256(ca.root.raw));
  const signingRootSha256 = certificateSha256(signing.root.raw);
  return {
    trustDomain: 'example.org',
    roots: roots.map((ca) => ca.rootPem),
    signingRootSha256,
    version: trustBundleVersion(fingerprints, signingRootSha256),
  };
}

describe('WorkloadCertificates', () => {
  it('obtains the first SVID with the join token, for a key it generated, and resolves ready', async () => {
    const { clock, manager, agent, seen } = startManager();
    clock.advance(0);
    const material = await manager.ready;
    expect(material.spiffeId).toBe(SPIFFE_ID.uri);
    expect(material.keyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(
      new X509Certificate(material.certChainPem).publicKey.export({ type: 'spki', format: 'der' }),
    ).toEqual(agent.state.sent[0]?.publicKeyDer);
    expect(manager.current()).toBe(material);
    expect(manager.expiresAtMs).toBe(material.notAfter.getTime());
    expect(seen).toEqual(['issued join-token']);
  });

  it('renews at half its lifetime with the current SVID as proof, and a new key each time', async () => {
    const { clock, manager, agent, seen } = startManager(fixed(0));
    clock.advance(0);
    const first = await manager.ready;
    // Half of what is left when it arrives: notBefore is back-dated 60 s (the time before it
    // arrived does not count, or a short-lived SVID would be renewed at once).
    const halfLifeMs = (first.notAfter.getTime() - (first.notBefore.getTime() + 60_000)) / 2;
    clock.advance(halfLifeMs - 1);
    await settle();
    expect(agent.state.sent).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(agent.state.sent.map((sent) => sent.credential)).toEqual(['join-token', 'renewal']);
    expect(agent.state.sent[1]?.publicKeyDer).not.toEqual(agent.state.sent[0]?.publicKeyDer);
    expect(manager.current()?.serialNumber).not.toBe(first.serialNumber);
    expect(seen).toEqual(['issued join-token', 'renewed renewal']);
  });

  it('renews earlier by up to the jitter fraction of the lifetime (never later than half)', async () => {
    const { clock, manager, agent } = startManager(fixed(0.999));
    clock.advance(0);
    await manager.ready;
    // 0.5 − 0.1 × 0.999 of what is left of 24 h when it arrives (60 s back-dated): about 9.6 h.
    const renewInMs = (LIFETIME_MS - 60_000) * (0.5 - 0.1 * 0.999);
    clock.advance(Math.floor(renewInMs) - 1);
    await settle();
    expect(agent.state.sent).toHaveLength(1);
    clock.advance(2);
    await settle();
    expect(agent.state.sent).toHaveLength(2);
  });

  it('retries a failed renewal with back-off, warns `expiring`, then `expired`, and recovers', async () => {
    const { clock, manager, agent, seen } = startManager(fixed(0.5));
    clock.advance(0);
    const first = await manager.ready;
    agent.state.failure = new Error('agent down');
    await advanceInSteps(
      clock,
      first.notAfter.getTime() - (first.notBefore.getTime() + 60_000) - 2 * HOUR_MS,
      5 * 60_000,
    );
    const failures = seen.filter((event) => event.startsWith('failed'));
    expect(failures.length).toBeGreaterThan(5);
    expect(seen).toContain('expiring');
    expect(seen.filter((event) => event === 'expiring')).toHaveLength(1);
    expect(manager.lastError).toBe(agent.state.failure);
    await advanceInSteps(clock, 2 * HOUR_MS + 1, 5 * 60_000);
    expect(seen).toContain('expired');
    agent.state.failure = undefined;
    clock.advance(60_000);
    await settle();
    // The expired SVID is no proof: the join token gets the workload a new one.
    expect(seen.at(-1)).toBe('renewed join-token');
    expect(manager.lastError).toBeUndefined();
  });

  it('uses the join token again when the agent refuses a renewal proof', async () => {
    const { clock, manager, agent } = startManager(fixed(0));
    clock.advance(0);
    await manager.ready;
    agent.state.failure = new CertificateRefusedError(401, 'the SVID was revoked');
    clock.advance(LIFETIME_MS / 2);
    await settle();
    agent.state.failure = undefined;
    clock.advance(60_000);
    await settle();
    expect(agent.state.sent.map((sent) => sent.credential)).toEqual(['join-token', 'renewal', 'join-token']);
  });

  it('takes a new trust bundle at once, and renews early once the agent signs with another root', async () => {
    const { clock, manager, agent, seen } = startManager(fixed(0.5));
    const changes: number[] = [];
    manager.onChange((material) => changes.push(material.trustBundlePem.length));
    clock.advance(0);
    await manager.ready;
    const oldCa = agent.state.current;
    const newCa = createTestCa('example.org', Date.now());
    // Prepare: both roots trusted, the old one still signs — nothing to renew.
    manager.updateTrustBundle(bundleOf([oldCa, newCa], oldCa));
    expect(manager.current()?.trustBundlePem).toEqual([oldCa.rootPem, newCa.rootPem]);
    clock.advance(HOUR_MS);
    await settle();
    expect(agent.state.sent).toHaveLength(1);
    // Activate: the new root signs; this SVID chains to the old one — renew within 30 s.
    agent.state.current = newCa;
    agent.state.bundle = bundleOf([oldCa, newCa], newCa);
    manager.updateTrustBundle(agent.state.bundle);
    clock.advance(15_000);
    await settle();
    expect(agent.state.sent.map((sent) => sent.credential)).toEqual(['join-token', 'renewal']);
    const renewed = new X509Certificate(manager.current()?.certChainPem ?? '');
    expect(renewed.checkIssued(newCa.root)).toBe(true);
    expect(changes).toEqual([1, 2, 2, 2]);
    expect(seen.filter((event) => event === 'trust-bundle')).toHaveLength(2);
  });

  it('ignores a bundle it already has, and refuses one of another trust domain', async () => {
    const { clock, manager, agent, seen } = startManager();
    clock.advance(0);
    await manager.ready;
    manager.updateTrustBundle(agent.state.bundle as TrustBundle);
    expect(seen).toEqual(['issued join-token']);
    const foreign = createTestCa('other.org');
    expect(() => manager.updateTrustBundle(foreign.bundle)).toThrow(/cannot serve spiffe:\/\/example.org/);
  });

  it('refuses an answer for another key, and keeps asking', async () => {
    const { clock, manager, agent, seen } = startManager();
    const stranger = agent.state.current.issue(SPIFFE_ID.uri);
    const honest = agent.send;
    let isLying = true;
    const lying = async (
      body: CertificateRequestBody,
      token: string | undefined,
    ): Promise<CertificateAnswer> => {
      const answer = await honest(body, token);
      return isLying ? { ...answer, certificateChain: stranger.pem } : answer;
    };
    const manager2 = new WorkloadCertificates({
      spiffeId: SPIFFE_ID,
      joinToken: () => TOKEN,
      send: lying,
      clock,
      wallClock: () => Date.now(),
      random: fixed(0),
    });
    managers.push(manager2);
    const failures: unknown[] = [];
    manager2.events.renewalFailed.on((event) => failures.push(event.error));
    clock.advance(0);
    await settle();
    expect(String(failures[0])).toMatch(/it is for another key/);
    expect(manager2.current()).toBeUndefined();
    isLying = false;
    clock.advance(60_000);
    await settle();
    expect(manager2.current()?.spiffeId).toBe(SPIFFE_ID.uri);
    expect(seen).toEqual(['issued join-token']); // the first manager is unaffected
    expect(manager).toBeDefined();
  });

  it('rejects ready when closed before the first SVID, and leaves no timer behind', async () => {
    const clock = new FakeClock();
    const manager = new WorkloadCertificates({
      spiffeId: SPIFFE_ID,
      joinToken: TOKEN,
      send: () => new Promise(() => {}),
      clock,
      random: fixed(0),
    });
    manager.close();
    await expect(manager.ready).rejects.toThrow(/closed/);
    expect(clock.pendingTimers).toBe(0);
  });
});
