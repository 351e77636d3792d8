/**
 * Chaos, workload certificates (issue 10; packages/core/docs/identity.md): the workload's SVID
 * expires while the agent is down. Certificate lifetimes are hours, so time is virtual here: the
 * agent's CA and the workload share a wall clock driven by the workload's FakeClock, while the
 * HTTP between them is real (127.0.0.1). The real-time version, with a `weft agent` process
 * SIGKILLed for longer than a 2-minute SVID lives, is test/chaos-long/certificate-expiry.test.ts.
 */

import { type Agent, createAgent, MemoryStore } from '@weft/control-agent';
import { connectToAgent, createMesh, type IdentityMaterial } from '@weft/core';
import { FakeClock } from '@weft/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, cleanups, recordFigures, runCleanups, sleep } from './support/chaos.ts';

afterEach(runCleanups);

const ADMIN_TOKEN = 'chaos-admin-token-0123456789abcdef';
const HOUR_MS = 60 * 60 * 1000;

async function joinToken(agentUrl: string, ttl: string): Promise<string> {
  const answer = await admin(
    agentUrl,
    'POST',
    '/v1/tokens',
    JSON.stringify({ namespace: 'default', serviceAccount: 'bookinfo-reviews', ttl }),
    { token: ADMIN_TOKEN },
  );
  if (answer.status !== 201) throw new Error(`token create failed: ${JSON.stringify(answer.body)}`);
  return answer.body.token as string;
}

function reviewsMesh() {
  const mesh = createMesh({
    workload: {
      name: 'reviews-v1-0',
      namespace: 'default',
      serviceAccount: 'bookinfo-reviews',
      labels: { app: 'reviews', version: 'v1' },
      service: 'reviews',
    },
  });
  cleanups.push(() => mesh.close());
  return mesh;
}

describe('chaos: the certificate expires while the agent is down', () => {
  it('says so (expiring, then expired), keeps trying, and is issued a fresh SVID with its join token within one back-off cap of the agent coming back', async ({
    annotate,
  }) => {
    const clock = new FakeClock();
    const startWallMs = Date.now();
    const wall = () => startWallMs + clock.now();
    const store = await MemoryStore.open();
    cleanups.push(() => store.close());
    const startAgent = async (port = 0): Promise<Agent> => {
      const agent = await createAgent({
        store,
        port,
        adminToken: ADMIN_TOKEN,
        heartbeatMs: 100,
        coalesceWindowMs: 0,
        wallClock: wall,
        ca: { svidTtlMs: HOUR_MS, refreshIntervalMs: 60_000 },
      });
      cleanups.push(() => agent.close());
      return agent;
    };
    const agent = await startAgent();
    const token = await joinToken(agent.url, '72h');
    const mesh = reviewsMesh();
    const RETRY_MAX_MS = 60_000;
    const client = connectToAgent(mesh, {
      agents: [agent.url],
      clock,
      backoff: { baseMs: 50, maxMs: 1_000 },
      identity: {
        joinToken: token,
        wallClock: wall,
        renewal: { retryBaseMs: 1_000, retryMaxMs: RETRY_MAX_MS },
      },
    });
    cleanups.push(() => client.close());
    const identity = client.identity;
    if (identity === undefined) throw new Error('no identity');
    const seen: string[] = [];
    identity.events.renewalFailed.on(() => seen.push('renewal-failed'));
    identity.events.expiring.on(() => seen.push('expiring'));
    identity.events.expired.on(() => seen.push('expired'));
    const renewals: { credential: string; material: IdentityMaterial; atVirtualMs: number }[] = [];
    identity.events.renewed.on((event) =>
      renewals.push({ credential: event.credential, material: event.material, atVirtualMs: clock.now() }),
    );
    clock.advance(0);
    const first = await identity.ready;
    expect(first.notAfter.getTime() - first.notBefore.getTime()).toBe(HOUR_MS + 60_000);

    // The agent goes away for longer than the SVID has left.
    await agent.close();
    const downAtVirtualMs = clock.now();
    /** Moves virtual time on in steps, letting the real HTTP attempts between them settle. */
    const advance = async (totalMs: number, stepMs: number) => {
      for (let moved = 0; moved < totalMs; moved += stepMs) {
        clock.advance(stepMs);
        await sleep(15);
      }
    };
    await advance(first.notAfter.getTime() - wall() + 5 * 60_000, 30_000);
    expect(seen).toContain('renewal-failed');
    expect(seen.filter((event) => event === 'expiring')).toHaveLength(1);
    expect(seen.filter((event) => event === 'expired')).toHaveLength(1);
    expect(seen.indexOf('expiring')).toBeLessThan(seen.indexOf('expired'));
    expect(identity.current()?.serialNumber).toBe(first.serialNumber); // nothing else to use
    expect(identity.lastError).toBeDefined();
    expect(renewals).toHaveLength(0);

    // The agent comes back on the same store (same CA) and port.
    await startAgent(agent.port);
    const backAtVirtualMs = clock.now();
    const backAtRealMs = performance.now();
    for (let step = 0; step < 40 && renewals.length === 0; step++) {
      clock.advance(5_000);
      await sleep(30);
    }
    const renewed = renewals[0];

    await recordFigures(annotate, 'certificate expired while the agent was down', {
      downForVirtualMin: Math.round((backAtVirtualMs - downAtVirtualMs) / 60_000),
      agentBackToRenewedVirtualMs: renewed === undefined ? -1 : renewed.atVirtualMs - backAtVirtualMs,
      agentBackToRenewedRealMs: Math.round(performance.now() - backAtRealMs),
      failedAttempts: seen.filter((event) => event === 'renewal-failed').length,
    });
    expect(renewed).toBeDefined();
    // An expired SVID is never a credential: the join token got the new one.
    expect(renewed?.credential).toBe('join-token');
    expect(renewed?.material.notBefore.getTime()).toBeLessThanOrEqual(wall());
    expect(renewed?.material.notAfter.getTime()).toBeGreaterThan(wall() + HOUR_MS / 2);
    // Recovery within one back-off cap (full jitter never waits longer), plus a step.
    expect((renewed?.atVirtualMs ?? Infinity) - backAtVirtualMs).toBeLessThanOrEqual(RETRY_MAX_MS + 5_000);
    expect(identity.current()?.serialNumber).toBe(renewed?.material.serialNumber);
    expect(identity.lastError).toBeUndefined();
  }, 60_000);
});

describe('renewal with the shortest SVID lifetime the CA allows', () => {
  /**
   * Was a finding, fixed: the renewal point now counts from when the SVID arrived. Before: the CA accepts `svidTtlMs` (`--svid-ttl`) down to one minute and
   * back-dates notBefore by 60 s (bad-inputs E2), so a 1-minute SVID spans 2 minutes, and the
   * workload schedules its renewal at notBefore + (50% − up to 10% jitter) of that span — at or
   * before the moment it was issued. It renews at once, gets another such SVID, and renews again:
   * ~130 renewals (a P-256 key and a CA signature each) per second per workload against the
   * agent, measured on the development machine. Any TTL up to 1.5 × the back-date (90 s) does it
   * for some jitter draws. Fix: measure the renewal point from the issue time rather than the
   * back-dated notBefore (packages/core/src/security/identity/renewal-settings.ts
   * renewalTimeMs), or refuse a TTL that is not several times the back-date
   * (packages/control-agent/src/ca/ca-options.ts).
   */
  it('a workload given a 1-minute SVID does not renew it again within the next half second', async () => {
    const store = await MemoryStore.open();
    cleanups.push(() => store.close());
    const agent = await createAgent({ store, adminToken: ADMIN_TOKEN, ca: { svidTtlMs: 60_000 } });
    cleanups.push(() => agent.close());
    const token = await joinToken(agent.url, '1h');
    const client = connectToAgent(reviewsMesh(), { agents: [agent.url], identity: { joinToken: token } });
    cleanups.push(() => client.close());
    let renewals = 0;
    client.identity?.events.renewed.on(() => {
      renewals += 1;
    });
    await client.identity?.ready;
    await sleep(500);
    expect(renewals).toBe(0);
  });
});
