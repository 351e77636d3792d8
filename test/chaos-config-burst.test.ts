/**
 * Chaos, configuration (issue 10): a burst of 200 config changes through a real `weft agent`
 * process under traffic (the scenario and what it asserts: support/config-burst.ts). The burst
 * of 1,000 takes ~10 s on a busy 2-core machine and runs in `npm run chaos`
 * (chaos-long/config-burst.test.ts).
 *
 * Related package test (the agent's frames alone, fake clock): agent-watch-flow.test.ts
 * "pushes a lone change at once and merges a burst of 1,000 applies into one delta".
 */
import { afterEach, describe, it } from 'vitest';
import { killAgentProcesses } from '../packages/control-agent/test/support/agent-process.ts';
import { runCleanups } from './support/chaos.ts';
import { killChildren } from './support/child.ts';
import { runConfigBurst } from './support/config-burst.ts';

afterEach(async () => {
  await runCleanups();
  await killAgentProcesses();
  await killChildren();
});

describe('chaos: a burst of config changes', () => {
  it('200 changes: the client ends at the agent’s last revision with its last word on every resource, and no request is lost', async ({
    annotate,
  }) => {
    await runConfigBurst(200, annotate);
  }, 60_000);
});
