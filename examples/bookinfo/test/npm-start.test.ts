/**
 * `npm start`'s script as a reader runs it: it prints the product page, the agent, the `export`
 * line and the next command; the page it prints answers; the README's secure-ingress step, run
 * as written in a shell with that `export` line's variables, gets the product page over https
 * (SIMPLE, then MUTUAL); Ctrl-C (SIGINT) stops every process and exits 0.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { loadProductPage } from './product-page-reader.ts';

const START = fileURLToPath(new URL('../src/start.ts', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const BIN = fileURLToPath(new URL('../../../node_modules/.bin', import.meta.url));

/** The README's secure-ingress commands, each checked to be there word for word. */
const CURL =
  'curl -s --resolve bookinfo.example.com:$HTTPS_PORT:127.0.0.1 --cacert $CERTS/credentials/bookinfo-credential/ca.crt';
const SECURE_INGRESS = {
  applySimple:
    'npx weft apply --agent $AGENT -f examples/bookinfo/istio/tasks/bookinfo-gateway-tls-simple.yaml',
  pageOverTls: `${CURL} https://bookinfo.example.com:$HTTPS_PORT/productpage | grep -o '<h1>.*</h1>'`,
  applyMutual:
    'npx weft apply --agent $AGENT -f examples/bookinfo/istio/tasks/bookinfo-gateway-tls-mutual.yaml',
  withoutClientCertificate: `${CURL} https://bookinfo.example.com:$HTTPS_PORT/productpage || echo refused`,
  withClientCertificate: `${CURL} --cert $CERTS/client.crt --key $CERTS/client.key https://bookinfo.example.com:$HTTPS_PORT/productpage | grep -o '<h1>.*</h1>'`,
};

/** A README command in `sh`, from the repository root, with the `export` line's variables. */
function shell(command: string, variables: Readonly<Record<string, string>>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', command],
      {
        cwd: REPOSITORY,
        timeout: 30_000,
        env: { ...process.env, ...variables, PATH: `${BIN}${delimiter}${process.env.PATH ?? ''}` },
      },
      (error, stdout, stderr) =>
        error === null ? resolve(stdout.trim()) : reject(new Error(`${command}: ${stderr}`)),
    );
  });
}

/**
 * The gateway takes its config from the agent a moment after `weft apply` returns: a reader who
 * runs the next command at once may be early, and runs it again. Bounded: 20 tries, 250 ms apart.
 */
async function eventually(
  command: string,
  variables: Record<string, string>,
  expected: string,
): Promise<string> {
  let last = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    last = await shell(command, variables).catch((error: unknown) => String(error));
    if (last === expected) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return last;
}
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
    'npx weft apply --agent $AGENT -f examples/bookinfo/istio/virtual-service-all-v1.yaml',
  );
  const page = await loadProductPage(productPage ?? '');
  expect(page.status).toBe(200);
  expect(page.html).toContain('The Comedy of Errors');

  const exported = /^ {2}export (.+)$/m.exec(output)?.[1] ?? '';
  const variables = Object.fromEntries(
    exported.split(' ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  expect(Object.keys(variables).sort()).toEqual(
    [
      'AGENT',
      'CERTS',
      'HTTPS_PORT',
      'METRICS',
      'PRODUCTPAGE',
      'REVIEWS_V2_METRICS',
      'TRACES',
      'WEFT_TOKEN',
    ].sort(),
  );
  expect(variables.AGENT).toBe(agent);
  expect(variables.PRODUCTPAGE).toBe(productPage);
  for (const command of Object.values(SECURE_INGRESS)) expect(README).toContain(command);
  const title = '<h1>The Comedy of Errors</h1>';
  await shell(SECURE_INGRESS.applySimple, variables);
  expect(await eventually(SECURE_INGRESS.pageOverTls, variables, title)).toBe(title);
  await shell(SECURE_INGRESS.applyMutual, variables);
  expect(await eventually(SECURE_INGRESS.withoutClientCertificate, variables, 'refused')).toBe('refused');
  expect(await shell(SECURE_INGRESS.withClientCertificate, variables)).toBe(title);
  const certificates = variables.CERTS ?? '';

  started.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('Stopped.');
  // The demo certificates go with it.
  expect(existsSync(certificates)).toBe(false);
}, 90_000);
