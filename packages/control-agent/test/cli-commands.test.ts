/**
 * The `weft` CLI run in-process (`main(argv, io)` with captured output) against a real agent on
 * 127.0.0.1 with a MemoryStore: apply, get, delete, analyze, proxy-status, proxy-config,
 * describe, version, the agent command itself, and the exit codes of each outcome.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RevisionMark, STREAM_TOKEN_HEADER } from '@weft/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BufferedSink, type CliIo } from '../src/cli/cli-io.ts';
import { main } from '../src/cli/main.ts';
import { type AgentOptions, createAgent } from '../src/index.ts';
import { MemoryStore } from '../src/store/memory-store.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BOOKINFO = 'examples/bookinfo/istio';
const ADMIN_TOKEN = 'test-admin-token-0123456789';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startAgent(options: Partial<AgentOptions> = {}): Promise<string> {
  const store = await MemoryStore.open();
  const agent = await createAgent({ store, ...options });
  cleanups.push(async () => {
    await agent.close();
    await store.close();
  });
  return agent.url;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string;
  readonly cwd?: string;
  readonly shutdown?: AbortSignal;
  readonly stdout?: BufferedSink;
}

async function weft(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const stdout = options.stdout ?? new BufferedSink();
  const stderr = new BufferedSink();
  const io: CliIo = {
    stdout,
    stderr,
    readStdin: async () => options.stdin ?? '',
    env: options.env ?? {},
    cwd: options.cwd ?? REPO_ROOT,
    now: () => Date.now(),
    shutdown: options.shutdown ?? new AbortController().signal,
  };
  const code = await main(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const reviewsV1 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
`;

/** Line 11 holds the bad weight; the error must point there, in this file. */
const badWeight = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bad
spec:
  hosts: [x]
  http:
  - route:
    - destination:
        host: x
      weight: -5
`;

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'weft-cli-'));
  cleanups.push(() => rm(workDir, { recursive: true, force: true }));
});

async function file(name: string, text: string): Promise<string> {
  await writeFile(join(workDir, name), text);
  return join(workDir, name);
}

/** Registers reviews-v3-1 (app=reviews, version=v3) at 127.0.0.1:39011 for service port 9080. */
async function registerReviewsV3(url: string): Promise<void> {
  const response = await fetch(`${url}/v1/workloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'reviews-v3-1',
      namespace: 'default',
      service: 'reviews',
      serviceAccount: 'bookinfo-reviews',
      labels: { app: 'reviews', version: 'v3' },
      address: '127.0.0.1',
      ports: { 9080: 39011 },
      ttlMs: 60_000,
    }),
  });
  expect(response.status).toBe(201);
}

describe('weft apply', () => {
  it('creates, then reports unchanged and configured, one line per resource', async () => {
    const url = await startAgent();
    const first = await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/destination-rule-all.yaml`]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      [
        'DestinationRule/default/productpage created',
        'DestinationRule/default/reviews created',
        'DestinationRule/default/ratings created',
        'DestinationRule/default/details created',
        '',
      ].join('\n'),
    );
    const again = await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/destination-rule-all.yaml`]);
    expect(again.stdout).toContain('DestinationRule/default/reviews unchanged');
    const mtls = await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/destination-rule-all-mtls.yaml`]);
    expect(mtls.code).toBe(0);
    expect(mtls.stdout).toContain('DestinationRule/default/reviews configured');
  });

  it('refuses a bad resource with file:line:col of the file it came from, and stores nothing', async () => {
    const url = await startAgent();
    const good = await file('a-good.yaml', reviewsV1);
    const bad = await file('b-bad.yaml', badWeight);
    const result = await weft(['apply', '--agent', url, '-f', good, '-f', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${bad}:11:7: error: VirtualService/default/bad spec.http[0].route[0].weight: weight must be ≥ 0`,
    );
    expect(result.stderr).toContain('nothing was applied');
    expect(result.stdout).toBe('');
    const list = await weft(['get', 'vs', '--agent', url, '-o', 'json']);
    expect(JSON.parse(list.stdout).items).toEqual([]);
  });

  it('applies every .yaml/.yml/.json file of a directory in name order, in one transaction', async () => {
    const url = await startAgent();
    await file('2-vs.yaml', reviewsV1);
    await file(
      '1-dr.json',
      JSON.stringify({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'reviews' },
        spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
      }),
    );
    await file('notes.txt', 'not config');
    const result = await weft(['apply', '--agent', url, '-f', workDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'DestinationRule/default/reviews created\nVirtualService/default/reviews created\n',
    );
  });

  it('reads standard input for -f -, and puts resources without a namespace in -n', async () => {
    const url = await startAgent();
    const result = await weft(['apply', '--agent', url, '-f', '-', '-n', 'books'], { stdin: reviewsV1 });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('VirtualService/books/reviews created\n');
  });

  it('with --dry-run reports what would happen and stores nothing', async () => {
    const url = await startAgent();
    const result = await weft([
      'apply',
      '--agent',
      url,
      '--dry-run',
      '-f',
      `${BOOKINFO}/virtual-service-reviews-v3.yaml`,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('VirtualService/default/reviews created (dry run)\n');
    const get = await weft(['get', 'virtualservice', 'reviews', '--agent', url]);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('VirtualService default/reviews not found');
  });

  it('sends --token as the admin credential; without it a token-protected agent refuses (exit 1)', async () => {
    const url = await startAgent({ adminToken: ADMIN_TOKEN });
    const refused = await weft([
      'apply',
      '--agent',
      url,
      '-f',
      `${BOOKINFO}/virtual-service-reviews-v3.yaml`,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/401 \(check --token or WEFT_TOKEN\)/);
    const accepted = await weft(['apply', '-f', `${BOOKINFO}/virtual-service-reviews-v3.yaml`], {
      env: { WEFT_AGENT: url, WEFT_TOKEN: ADMIN_TOKEN },
    });
    expect(accepted.code).toBe(0);
  });
});

describe('weft get', () => {
  it('prints a table, one resource as YAML, and a list as JSON that apply accepts back', async () => {
    const url = await startAgent();
    await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/virtual-service-all-v1.yaml`]);
    const table = await weft(['get', 'vs', '--agent', url]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+GATEWAYS\s+HOSTS\s+AGE$/);
    expect(table.stdout).toMatch(/^reviews\s+reviews\s+\d+s$/m);

    const yaml = await weft([
      'get',
      'VirtualService',
      'reviews',
      '-n',
      'default',
      '-o',
      'yaml',
      '--agent',
      url,
    ]);
    const resource = parse(yaml.stdout);
    expect(resource.metadata).toMatchObject({ name: 'reviews', namespace: 'default', generation: 1 });
    expect(resource.spec.http[0].route[0].destination).toEqual({ host: 'reviews', subset: 'v1' });

    const json = await weft(['get', 'virtualservices', '-A', '-o', 'json', '--agent', url]);
    const list = JSON.parse(json.stdout);
    expect(list.kind).toBe('List');
    expect(list.items.map((item: { metadata: { name: string } }) => item.metadata.name).sort()).toEqual([
      'details',
      'productpage',
      'ratings',
      'reviews',
    ]);
    const roundTrip = await weft(['apply', '--agent', url, '-f', '-'], { stdin: json.stdout });
    expect(roundTrip.code).toBe(0);
    expect(roundTrip.stdout).toContain('VirtualService/default/reviews unchanged');
  });

  it('names the missing resource and exits 1; an unknown kind is a usage error (2)', async () => {
    const url = await startAgent();
    const missing = await weft(['get', 'dr', 'nope', '--agent', url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('DestinationRule default/nope not found');
    const unknown = await weft(['get', 'frobnicators', '--agent', url]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown kind "frobnicators"');
  });
});

describe('weft delete', () => {
  it('deletes by name, reports a missing one (exit 1), and deletes what a file names', async () => {
    const url = await startAgent();
    await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/destination-rule-all.yaml`]);
    const one = await weft(['delete', 'dr', 'reviews', '--agent', url]);
    expect(one).toMatchObject({ code: 0, stdout: 'DestinationRule/default/reviews deleted\n' });
    const again = await weft(['delete', 'dr', 'reviews', '--agent', url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('DestinationRule/default/reviews not found');
    const ignored = await weft(['delete', 'dr', 'reviews', '--ignore-not-found', '--agent', url]);
    expect(ignored.code).toBe(0);

    const byFile = await weft([
      'delete',
      '--ignore-not-found',
      '-f',
      `${BOOKINFO}/destination-rule-all.yaml`,
      '--agent',
      url,
    ]);
    expect(byFile.code).toBe(0);
    expect(byFile.stdout).toContain('DestinationRule/default/ratings deleted');
    const left = await weft(['get', 'dr', '-A', '-o', 'json', '--agent', url]);
    expect(JSON.parse(left.stdout).items).toEqual([]);
  });

  it('refuses a delete at a stale --resource-version (exit 1) and keeps the resource', async () => {
    const url = await startAgent();
    await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/virtual-service-reviews-v3.yaml`]);
    const stale = await weft(['delete', 'vs', 'reviews', '--resource-version', '999', '--agent', url]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('409');
    expect((await weft(['get', 'vs', 'reviews', '--agent', url])).code).toBe(0);
  });
});

describe('weft analyze', () => {
  it('exits 1 on local files with errors, naming file and line, without an agent', async () => {
    const result = await weft(['analyze', '-f', `${BOOKINFO}/virtual-service-all-v1.yaml`], {
      env: { WEFT_AGENT: 'http://127.0.0.1:1' },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `${BOOKINFO}/virtual-service-all-v1.yaml:14:1: error: VirtualService/default/reviews spec.http[0].route[0].destination.subset:`,
    );
  });

  it('exits 0 when the files are consistent, and 1 on a file that does not validate', async () => {
    const clean = await weft([
      'analyze',
      '-f',
      `${BOOKINFO}/bookinfo.yaml`,
      '-f',
      `${BOOKINFO}/destination-rule-all.yaml`,
      '-f',
      `${BOOKINFO}/virtual-service-all-v1.yaml`,
    ]);
    expect(clean.stdout).not.toContain('error:');
    expect(clean.code).toBe(0);
    const invalid = await weft(['analyze', '-f', await file('bad.yaml', badWeight)]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain('bad.yaml:11:7: error:');
  });

  it('analyzes what the agent holds when no file is given', async () => {
    const url = await startAgent();
    await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/virtual-service-reviews-v3.yaml`]);
    const result = await weft(['analyze', '--agent', url, '-o', 'json']);
    const { issues } = JSON.parse(result.stdout) as { issues: { severity: string; resource: string }[] };
    const errors = issues.filter((issue) => issue.severity === 'error');
    expect(errors.map((issue) => issue.resource)).toContain('VirtualService/default/reviews');
    expect(result.code).toBe(1);
  });
});

describe('weft proxy-status and proxy-config', () => {
  /** A fake workload client: opens a watch, reads its snapshot, and reports on it. */
  async function fakeClient(
    url: string,
    clientId: string,
    workload: string,
  ): Promise<{ mark: RevisionMark; streamToken: string }> {
    const controller = new AbortController();
    const query = `clientId=${clientId}&namespace=default&workload=${workload}&protocolVersion=1`;
    const response = await fetch(`${url}/v1/watch?${query}`, { signal: controller.signal });
    cleanups.push(async () => controller.abort());
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error('the watch has no body');
    let buffered = '';
    while (!buffered.includes('\n')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the watch ended before its first frame');
      buffered += new TextDecoder().decode(value);
    }
    const { mark } = JSON.parse(buffered.slice(0, buffered.indexOf('\n'))) as { mark: RevisionMark };
    return { mark, streamToken: response.headers.get(STREAM_TOKEN_HEADER) ?? '' };
  }

  async function report(url: string, streamToken: string, body: unknown): Promise<void> {
    const response = await fetch(`${url}/v1/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [STREAM_TOKEN_HEADER]: streamToken },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }

  it('shows each client, its revisions and its NACK reason', async () => {
    const url = await startAgent();
    await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/virtual-service-reviews-v3.yaml`]);
    const { mark, streamToken } = await fakeClient(url, 'productpage-1', 'productpage-v1');
    await report(url, streamToken, {
      clientId: 'productpage-1',
      mark,
      status: 'nack',
      error: 'spec.http[0]: route rejected',
    });
    const table = await weft(['proxy-status', '--agent', url]);
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.split('\n');
    expect(header).toMatch(
      /^CLIENT\s+NAMESPACE\s+WORKLOAD\s+STATUS\s+IN SYNC AT\s+SENT\s+ACKED\s+NACK\s+LAST SEEN$/,
    );
    expect(row).toMatch(
      new RegExp(
        `^productpage-1\\s+default\\s+productpage-v1\\s+NACKED\\s+-\\s+${mark.revision}\\s+-\\s+${mark.revision}: spec.http\\[0\\]: route rejected\\s+\\d+s ago$`,
      ),
    );
    const yaml = parse((await weft(['proxy-status', '-o', 'yaml', '--agent', url])).stdout);
    expect(yaml.clients[0]).toMatchObject({
      clientId: 'productpage-1',
      error: 'spec.http[0]: route rejected',
    });
  });

  it('prints the routes, clusters and endpoints of what a client reported, found by workload name', async () => {
    const url = await startAgent();
    await weft(['apply', '--agent', url, '-f', `${BOOKINFO}/destination-rule-all.yaml`]);
    await registerReviewsV3(url);
    const { mark, streamToken } = await fakeClient(url, 'productpage-2', 'productpage-v1');
    const cluster = 'outbound|9080|v3|reviews.default.svc.cluster.local';
    await report(url, streamToken, {
      clientId: 'productpage-2',
      mark,
      status: 'ack',
      configDump: {
        revision: String(mark.revision),
        outboundTrafficPolicy: 'ALLOW_ANY',
        routeTables: [
          {
            host: 'reviews.default.svc.cluster.local',
            port: 9080,
            routes: [{ name: 'VirtualService/default/reviews#0', destinations: [{ cluster, weight: 100 }] }],
          },
        ],
        clusters: [{ name: cluster, endpoints: 0, destinationRules: ['DestinationRule/default/reviews'] }],
      },
    });
    const routes = await weft(['proxy-config', 'routes', 'productpage-v1', '--agent', url]);
    expect(routes.code).toBe(0);
    expect(routes.stdout).toMatch(
      /reviews\.default\.svc\.cluster\.local\s+9080\s+VirtualService\/default\/reviews#0\s+outbound\|9080\|v3\|reviews\.default\.svc\.cluster\.local 100%/,
    );
    const clusters = await weft(['proxy-config', 'clusters', 'productpage-2', '--agent', url]);
    expect(clusters.stdout).toMatch(
      /reviews\.default\.svc\.cluster\.local\s+9080\s+v3\s+0\s+DestinationRule\/default\/reviews/,
    );
    const endpoints = await weft(['proxy-config', 'endpoints', 'productpage-v1', '--agent', url]);
    expect(endpoints.stdout).toMatch(
      /outbound\|9080\|v3\|reviews\.default\.svc\.cluster\.local\s+127\.0\.0\.1:39011\s+app=reviews,version=v3/,
    );
    const unknown = await weft(['proxy-config', 'routes', 'nobody', '--agent', url]);
    expect(unknown.code).toBe(1);
  });
});

describe('weft describe', () => {
  it('describes a registered service: endpoints, routes and what each subset selects', async () => {
    const url = await startAgent();
    await weft([
      'apply',
      '--agent',
      url,
      '-f',
      `${BOOKINFO}/destination-rule-all.yaml`,
      '-f',
      `${BOOKINFO}/virtual-service-reviews-50-v3.yaml`,
    ]);
    await registerReviewsV3(url);
    const service = await weft(['describe', 'service', 'reviews', '--agent', url]);
    expect(service.code).toBe(0);
    expect(service.stdout).toContain('reviews.default.svc.cluster.local');
    expect(service.stdout).toContain('127.0.0.1  ports 9080→39011');
    expect(service.stdout).toContain('VirtualService/default/reviews');
    expect(service.stdout).toMatch(/subset v3: version=v3 {2}\(1 endpoint\(s\)\)/);
    expect(service.stdout).toMatch(/subset v1: version=v1 {2}\(0 endpoint\(s\)\) {2}← selects no endpoint/);

    const workload = await weft(['describe', 'workload', 'reviews-v3-1', '--agent', url]);
    expect(workload.code).toBe(0);
    expect(workload.stdout).toMatch(/Subsets:\s+DestinationRule\/default\/reviews v3/);
    expect(workload.stdout).toMatch(/mTLS:\s+PERMISSIVE/);
    const missing = await weft(['describe', 'service', 'nothing', '--agent', url]);
    expect(missing.code).toBe(1);
  });
});

describe('weft agent', () => {
  it('serves on the port it prints until shut down, then exits 0', async () => {
    const shutdown = new AbortController();
    const stdout = new BufferedSink();
    const running = weft(['agent', '--port', '0', '--in-memory'], { shutdown: shutdown.signal, stdout });
    let url: string | undefined;
    for (let attempt = 0; attempt < 200 && url === undefined; attempt += 1) {
      url = /listening on (\S+)/.exec(stdout.text)?.[1];
      if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const version = await weft(['version', '--remote', '-o', 'json', '--agent', url ?? '']);
    expect(JSON.parse(version.stdout).agent).toMatchObject({ status: 'ok' });
    shutdown.abort();
    expect((await running).code).toBe(0);
  });

  it('runs its self-check at the --self-check-interval it is given', async () => {
    const shutdown = new AbortController();
    const stdout = new BufferedSink();
    const running = weft(['agent', '--port', '0', '--in-memory', '--self-check-interval', '50ms'], {
      shutdown: shutdown.signal,
      stdout,
    });
    let url: string | undefined;
    for (let attempt = 0; attempt < 200 && url === undefined; attempt += 1) {
      url = /listening on (\S+)/.exec(stdout.text)?.[1];
      if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The default interval is a minute: runs counted within seconds mean the flag took effect.
    let runs = 0;
    for (let attempt = 0; attempt < 100 && runs < 2; attempt += 1) {
      const health = (await (await fetch(`${url}/healthz`)).json()) as { selfCheck: { runs: number } };
      runs = health.selfCheck.runs;
      if (runs < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(runs).toBeGreaterThanOrEqual(2);
    shutdown.abort();
    expect((await running).code).toBe(0);
    const bad = await weft(['agent', '--in-memory', '--self-check-interval', 'often']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--self-check-interval');
  });

  it('refuses a short admin token and a malformed --store as usage errors', async () => {
    expect((await weft(['agent', '--admin-token', 'short', '--in-memory'])).code).toBe(2);
    const store = await weft(['agent', '--store', 'http://localhost:2379']);
    expect(store.code).toBe(2);
    expect(store.stderr).toContain('--store must be etcd://host:port');
  });
});

describe('exit codes', () => {
  it('exits 3 naming the URL when the agent is unreachable', async () => {
    const result = await weft(['get', 'vs'], { env: { WEFT_AGENT: 'http://127.0.0.1:1' } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('cannot reach the Weft agent at http://127.0.0.1:1');
    expect(result.stdout).toBe('');
  });

  it('exits 2 on an unknown command, an unknown flag or a missing argument, pointing at --help', async () => {
    expect((await weft(['frobnicate'])).code).toBe(2);
    const flag = await weft(['get', 'vs', '--colour']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Run 'weft get --help'");
    expect((await weft(['apply'])).code).toBe(2);
    expect((await weft(['get'])).code).toBe(2);
  });

  it('prints help for every command on stdout and exits 0', async () => {
    const top = await weft(['--help']);
    expect(top.code).toBe(0);
    for (const command of [
      'agent',
      'apply',
      'get',
      'delete',
      'analyze',
      'describe',
      'proxy-status',
      'proxy-config',
      'version',
    ]) {
      expect(top.stdout).toContain(`  ${command} `);
      const help = await weft([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: weft ${command}`);
      expect(help.stdout).toContain('--agent URL');
    }
  });
});
