/**
 * Chaos, configuration, long (issue 10; `npm run chaos`): the burst of 1,000 config changes
 * through a real `weft agent` process under traffic. Scenario and assertions:
 * ../support/config-burst.ts.
 */
import { afterEach, describe, it } from 'vitest';
import { killAgentProcesses } from '../../packages/control-agent/test/support/agent-process.ts';
import { runCleanups } from '../support/chaos.ts';
import { killChildren } from '../support/child.ts';
import { runConfigBurst } from '../support/config-burst.ts';

afterEach(async () => {
  await runCleanups();
  await killAgentProcesses();
  await killChildren();
});

describe('chaos (long): a burst of 1,000 config changes', () => {
  it('1,000 changes: the client ends at the agent’s last revision with its last word on every resource, and no request is lost', async ({
    annotate,
  }) => {
    await runConfigBurst(1_000, annotate);
  }, 120_000);
});
