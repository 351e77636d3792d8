/**
 * The agent client registering as itself (PROTOCOL.md §4.2.1): a client that holds only its join
 * token — no admin token — registers, renews and deregisters against a real agent that has an
 * admin token and a CA; once it holds its SVID it needs the join token no more.
 */
import type { RegisteredWorkload } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { RegistrationEvent } from '../../core/src/agent-client/agent-client-events.ts';
import { connect, eventually, newMesh, runCleanups } from './client-harness.ts';
import {
  ADMIN_TOKEN,
  call,
  createToken,
  runCleanups as runIdentityCleanups,
  startIdentityAgent,
} from './support/identity-harness.ts';

afterEach(async () => {
  await runCleanups();
  await runIdentityCleanups();
});

const TTL_MS = 1_000; // the agent's minimum: renewals every ~333 ms

async function registered(url: string): Promise<RegisteredWorkload[]> {
  const answer = await call(url, 'GET', '/v1/workloads');
  return answer.body.items as RegisteredWorkload[];
}

describe('agent client: registration with its own identity', () => {
  it('registers, renews and deregisters holding only its join token, then its SVID', async () => {
    const { url } = await startIdentityAgent();
    const { token, tokenId } = await createToken(url, 'default', 'bookinfo-productpage');
    const { client } = connect(newMesh(), {
      agents: [url],
      identity: { joinToken: token },
      register: { address: '127.0.0.1', ports: { 9080: 29080 }, ttlMs: TTL_MS },
    });
    const events: RegistrationEvent[] = [];
    client.events.registration.on((event) => events.push(event));

    expect(await eventually(async () => (await registered(url)).length === 1, 10_000)).toBe(true);
    expect((await registered(url))[0]).toMatchObject({
      namespace: 'default',
      name: 'productpage-v1-0',
      serviceAccount: 'bookinfo-productpage',
    });
    await client.identity?.ready;

    // From now on the SVID alone must do: the join token stops working.
    expect(
      (await call(url, 'POST', '/v1/tokens/revocations', { token: ADMIN_TOKEN, body: { tokenId } })).status,
    ).toBe(200);
    const renewalsBefore = events.filter((event) => event.type === 'renewed').length;
    expect(
      await eventually(() => events.filter((event) => event.type === 'renewed').length >= renewalsBefore + 3),
    ).toBe(true);

    // The registration is lost (as after an agent restart): the client registers again, with its SVID.
    expect(
      (await call(url, 'DELETE', '/v1/workloads/default/productpage-v1-0', { token: ADMIN_TOKEN })).status,
    ).toBe(200);
    expect(await eventually(() => events.some((event) => event.type === 'lease-lost'))).toBe(true);
    expect(
      await eventually(
        async () => (await registered(url)).length === 1 && events.at(-1)?.type !== 'lease-lost',
      ),
    ).toBe(true);
    expect(events.filter((event) => event.type === 'registered').length).toBe(2);
    expect(events.filter((event) => event.type === 'failed')).toEqual([]);

    await client.close();
    expect(events.at(-1)?.type).toBe('deregistered');
    expect(await registered(url)).toEqual([]);
  });

  it('is refused (401) when its credential is no longer valid, and says so in its events', async () => {
    const { url } = await startIdentityAgent();
    const { token } = await createToken(url, 'default', 'bookinfo-productpage');
    // Revoked before the client ever used it: no SVID, no registration.
    expect(
      (
        await call(url, 'POST', '/v1/tokens/revocations', {
          token: ADMIN_TOKEN,
          body: { namespace: 'default', serviceAccount: 'bookinfo-productpage' },
        })
      ).status,
    ).toBe(200);
    const { client } = connect(newMesh(), {
      agents: [url],
      identity: { joinToken: token },
      register: { address: '127.0.0.1', ports: { 9080: 29080 }, ttlMs: TTL_MS },
    });
    const failures: unknown[] = [];
    client.events.registration.on((event) => {
      if (event.type === 'failed') failures.push(event.error);
    });
    expect(await eventually(() => failures.length > 0)).toBe(true);
    expect(failures[0]).toMatchObject({
      code: 'WEFT_ERR_UNAUTHENTICATED',
      message: expect.stringMatching(/refused the registration: HTTP 401/),
    });
    expect(await registered(url)).toEqual([]);
  });
});
