/**
 * `weft dashboard` run in-process against a real agent on 127.0.0.1: it prints the URL and opens
 * nothing; `--check` fetches the state once; an unreachable agent is exit 3.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BufferedSink, type CliIo } from '../src/cli/cli-io.ts';
import { main } from '../src/cli/main.ts';
import { freePort, newStore, runCleanups, seed, startAgent } from './client-harness.ts';

afterEach(runCleanups);

async function weft(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new BufferedSink();
  const stderr = new BufferedSink();
  const io: CliIo = {
    stdout,
    stderr,
    readStdin: async () => '',
    env: {},
    cwd: process.cwd(),
    now: () => Date.now(),
    shutdown: new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('weft dashboard', () => {
  it('prints the dashboard URL of the agent, without contacting it', async () => {
    const port = await freePort();
    const run = await weft(['dashboard', '--agent', `http://127.0.0.1:${port}`]);
    expect(run).toEqual({ code: 0, stdout: `http://127.0.0.1:${port}/dashboard\n`, stderr: '' });
  });

  it('says that a non-loopback address will ask for the admin token', async () => {
    const run = await weft(['dashboard', '--agent', 'http://10.0.0.5:15010']);
    expect(run.stdout).toBe('http://10.0.0.5:15010/dashboard\n');
    expect(run.stderr).toMatch(/admin token/);
  });

  it('with --check, summarizes what the agent serves, and fails with 3 when nothing answers', async () => {
    const store = await newStore();
    await seed(store);
    const agent = await startAgent(store);
    const run = await weft(['dashboard', '--check', '--agent', agent.url]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `${agent.url}/dashboard\nserved: 2 nodes, 0 edges with traffic, 0 clients (0 reporting edges, 0 NACKed), 0 analysis findings\n`,
    );
    const port = await freePort();
    const down = await weft(['dashboard', '--check', '--agent', `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach/);
    expect((await weft(['dashboard', 'extra'])).code).toBe(2);
    const help = await weft(['dashboard', '--help']);
    expect(help.stdout).toContain('Usage: weft dashboard [--check]');
  });
});
