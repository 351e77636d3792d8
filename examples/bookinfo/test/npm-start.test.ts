/**
 * `npm start`'s script as a reader runs it: it prints the product page, the agent and the next
 * command; the page it prints answers; Ctrl-C (SIGINT) stops every process and exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { loadProductPage } from './product-page-reader.ts';

const START = fileURLToPath(new URL('../src/start.ts', import.meta.url));
let child: ChildProcess | undefined;

afterEach(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
});

it('prints the URLs and the next command, serves the page, and stops cleanly on SIGINT', async () => {
  const started = spawn(process.execPath, ['--conditions=@weft/source', START], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  let output = '';
  started.stdout?.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed only: ${output}`)), 30_000);
    started.stdout?.on('data', (chunk: string) => {
      output += chunk;
      if (!output.includes('Ctrl-C stops everything.')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  const productPage = /Product page: +(http:\/\/127\.0\.0\.1:\d+\/productpage)/.exec(output)?.[1];
  const agent = /Agent: +(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  expect(productPage).toBeDefined();
  expect(output).toContain(
    `npx weft apply --agent ${agent} -f examples/bookinfo/istio/virtual-service-all-v1.yaml`,
  );
  const page = await loadProductPage(productPage ?? '');
  expect(page.status).toBe(200);
  expect(page.html).toContain('The Comedy of Errors');

  started.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('Stopped.');
}, 45_000);
