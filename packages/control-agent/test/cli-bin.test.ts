/**
 * The real `weft` executable (bin/weft.js) as a child process on this Node: the launcher finds
 * the TypeScript sources, the exit code reaches the shell, and `weft agent` ends cleanly on
 * SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../src/index.ts';
import { MemoryStore } from '../src/store/memory-store.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/weft.js', import.meta.url));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function start(args: readonly string[], env: Readonly<Record<string, string>> = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function finished(child: ChildProcess): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const weft = (args: readonly string[], env?: Readonly<Record<string, string>>): Promise<Outcome> =>
  finished(start(args, env));

describe('the weft bin', () => {
  it('prints its version and exits 0', async () => {
    const { code, stdout, stderr } = await weft(['version']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^weft \d+\.\d+\.\d+ \(node v\d+\.\d+\.\d+, protocol 1\)\n$/);
  });

  it('applies a Bookinfo file to an agent and exits 0', async () => {
    const store = await MemoryStore.open();
    const agent = await createAgent({ store });
    cleanups.push(async () => {
      await agent.close();
      await store.close();
    });
    const file = 'examples/bookinfo/istio/virtual-service-reviews-50-v3.yaml';
    const { code, stdout } = await weft(['apply', '-f', file], { WEFT_AGENT: agent.url });
    expect(code).toBe(0);
    expect(stdout).toBe('VirtualService/default/reviews created\n');
  });

  it('exits 3 when the agent is unreachable', async () => {
    const { code, stderr } = await weft(['get', 'vs', '--agent', 'http://127.0.0.1:1']);
    expect(code).toBe(3);
    expect(stderr).toContain('cannot reach the Weft agent at http://127.0.0.1:1');
  });

  it('runs `weft agent` until SIGTERM, then exits 0', async () => {
    const child = start(['agent', '--port', '0', '--in-memory']);
    const outcome = finished(child);
    const url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        const match = /listening on (\S+)/.exec(seen);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      child.once('close', () => reject(new Error(`the agent exited before listening: ${seen}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    child.kill('SIGTERM');
    const { code, stderr } = await outcome;
    expect(code).toBe(0);
    expect(stderr).toContain('shutting down');
  });
});
