/**
 * Chaos, workload certificates, long (issue 10; `npm run chaos`, ~2.5 minutes): a real
 * `weft agent` process issuing 2-minute SVIDs (`--svid-ttl 2m`; the 1-minute minimum renews in a
 * loop, see the finding in ../chaos-certificates.test.ts) is SIGKILLed right after a workload got
 * its SVID, and stays down until that SVID has expired, on the real clock. What must hold: the
 * workload says so (`expiring`, then `expired`), keeps trying, and gets a fresh SVID with its join
 * token within one back-off cap of the agent's return. What is lost, by design: mTLS with the
 * expired SVID — a peer refuses it (CERT_HAS_EXPIRED-class) until the renewal, and accepts the
 * renewed one at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  acceptTlsPeer,
  clientTlsOptions,
  connectToAgent,
  createMesh,
  followIdentity,
  type IdentityMaterial,
  serverTlsOptions,
  type WorkloadCertificates,
} from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentProcess, killAgentProcesses } from '../../packages/control-agent/test/support/agent-process.ts';
import { admin, cleanups, recordFigures, runCleanups, timeUntil } from '../support/chaos.ts';

afterEach(async () => {
  await runCleanups();
  await killAgentProcesses();
});

const ADMIN_TOKEN = 'chaos-long-admin-token-0123456789';
const RETRY_MAX_MS = 5_000;

async function joinToken(agentUrl: string, serviceAccount: string): Promise<string> {
  const answer = await admin(
    agentUrl,
    'POST',
    '/v1/tokens',
    JSON.stringify({ namespace: 'default', serviceAccount, ttl: '1h' }),
    { token: ADMIN_TOKEN },
  );
  if (answer.status !== 201) throw new Error(`token create failed: ${JSON.stringify(answer.body)}`);
  return answer.body.token as string;
}

function workloadIdentity(
  agentUrl: string,
  name: string,
  serviceAccount: string,
  token: string,
): WorkloadCertificates {
  const mesh = createMesh({
    workload: { name, namespace: 'default', serviceAccount, labels: { app: name }, service: name },
  });
  cleanups.push(() => mesh.close());
  const client = connectToAgent(mesh, {
    agents: [agentUrl],
    backoff: { baseMs: 100, maxMs: 1_000 },
    identity: { joinToken: token, renewal: { retryBaseMs: 500, retryMaxMs: RETRY_MAX_MS } },
  });
  cleanups.push(() => client.close());
  if (client.identity === undefined) throw new Error('no identity');
  return client.identity;
}

/** One mTLS handshake (plus a byte each way) from `material` to 127.0.0.1:`port`. */
function handshake(port: number, material: IdentityMaterial): Promise<string> {
  return new Promise((resolve) => {
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, ...clientTlsOptions(material) });
    const done = (outcome: string) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(3_000, () => done('timeout'));
    socket.once('secureConnect', () => socket.write('?'));
    socket.once('data', () => done('ok'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.once('end', () => done('closed by server'));
  });
}

describe('chaos (long): the certificate expires while the agent process is down (real clock)', () => {
  it('expiring, expired, refused by peers; renewed with the join token within one back-off cap of the agent returning; accepted again', async ({
    annotate,
  }) => {
    const directory = await mkdtemp(join(tmpdir(), 'weft-chaos-cert-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const agentArgs = ['--data-dir', directory, '--svid-ttl', '2m', '--admin-token', ADMIN_TOKEN];
    const first = await AgentProcess.start(agentArgs);
    const reviews = workloadIdentity(
      first.url,
      'reviews',
      'bookinfo-reviews',
      await joinToken(first.url, 'bookinfo-reviews'),
    );
    const server = workloadIdentity(
      first.url,
      'ratings',
      'bookinfo-ratings',
      await joinToken(first.url, 'bookinfo-ratings'),
    );
    const seen: { event: string; atMs: number }[] = [];
    for (const name of ['renewalFailed', 'expiring', 'expired'] as const) {
      reviews.events[name].on(() => seen.push({ event: name, atMs: performance.now() }));
    }
    const credentials: string[] = [];
    reviews.events.renewed.on((event) => {
      seen.push({ event: 'renewed', atMs: performance.now() });
      credentials.push(event.credential);
    });
    const issued = await reviews.ready;
    const serverMaterial = await server.ready;

    // A peer that requires mTLS and follows its own renewals.
    const tlsServer = createTlsServer(serverTlsOptions(serverMaterial), (socket) => {
      try {
        acceptTlsPeer(socket, server.current() ?? serverMaterial);
        socket.once('data', () => socket.end('!'));
      } catch {
        socket.destroy();
      }
    });
    followIdentity(tlsServer, server);
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => tlsServer.close(resolve)));
    const tlsPort = (tlsServer.address() as { port: number }).port;
    expect(await handshake(tlsPort, issued)).toBe('ok');

    await first.kill();
    const killedAtMs = performance.now();
    const untilExpiryMs = issued.notAfter.getTime() - Date.now();
    expect(untilExpiryMs).toBeGreaterThan(60_000);
    const expiredMs = await timeUntil(
      () => seen.some((entry) => entry.event === 'expired'),
      untilExpiryMs + 10_000,
    );
    expect(expiredMs).toBeDefined();
    // The server's SVID lapsed too; bring the agent back and let the server renew first, so that
    // what the client's expired SVID meets is a healthy peer.
    const second = await AgentProcess.start([...agentArgs, '--port', String(first.port)]);
    const backAtMs = performance.now();
    const serverFresh = () => (server.current()?.notAfter.getTime() ?? 0) > Date.now() + 60_000;
    expect(await timeUntil(serverFresh, RETRY_MAX_MS + 5_000)).toBeDefined();
    // The peer is healthy again; the client's expired SVID is what it now refuses.
    const expiredHandshake = await handshake(tlsPort, issued);
    await timeUntil(() => seen.some((entry) => entry.event === 'renewed'), RETRY_MAX_MS + 5_000);
    const renewedAtMs = seen.find((entry) => entry.event === 'renewed')?.atMs;
    const renewedMs = renewedAtMs === undefined ? undefined : renewedAtMs - backAtMs;
    const renewed = reviews.current();
    const renewedHandshake = renewed === undefined ? 'none' : await handshake(tlsPort, renewed);
    await recordFigures(annotate, 'certificate expired while the agent process was down (real clock)', {
      downMs: Math.round(backAtMs - killedAtMs),
      killToExpiringMs: Math.round(
        (seen.find((entry) => entry.event === 'expiring')?.atMs ?? 0) - killedAtMs,
      ),
      killToExpiredMs: Math.round((seen.find((entry) => entry.event === 'expired')?.atMs ?? 0) - killedAtMs),
      agentBackToRenewedMs: Math.round(renewedMs ?? -1),
      failedAttempts: seen.filter((entry) => entry.event === 'renewalFailed').length,
      expiredHandshake,
      renewedHandshake,
    });
    const order = seen.map((entry) => entry.event).filter((event) => event !== 'renewalFailed');
    expect(order).toEqual(['expiring', 'expired', 'renewed']);
    expect(expiredHandshake).not.toBe('ok');
    expect(credentials).toEqual(['join-token']); // an expired SVID is never a credential
    // From the agent's return: within one back-off cap (full jitter never waits longer).
    expect(renewedMs).toBeDefined();
    expect(renewedMs).toBeLessThanOrEqual(RETRY_MAX_MS + 1_000);
    expect(renewed?.serialNumber).not.toBe(issued.serialNumber);
    expect(renewedHandshake).toBe('ok');
    expect(second.isRunning).toBe(true);
  }, 240_000);
});
