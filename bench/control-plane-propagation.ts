/**
 * Control-plane propagation (issue 4, reference/benchmarks.md S7): the time from an apply to the
 * moment the change is applied in every client, for 10, 100 and 1,000 clients.
 *
 * The agent is a real `weft agent` child process (the package's bin) on its embedded store,
 * persisted to a temporary data directory as by default; a fresh agent per measurement. The
 * clients are `connectToAgent` instances in this process, each with its own Mesh, so each one
 * validates and compiles every revision and ACKs it with its config dump, as a workload would.
 * The config is Bookinfo-like: SERVICES services, each with a DestinationRule (two subsets), a
 * VirtualService (a header route and a default route) and two registered workloads.
 *
 * Each measured apply `POST /v1/apply`s a new version of one VirtualService (its default route
 * flips between v1 and v2) and waits until every client's `applied` event reports the new
 * revision; then every client's mesh is checked to route as the apply said (a broken client
 * cannot look fast), and the next apply waits until the agent has recorded every ACK. Reported
 * per client count:
 *   - propagation p50/p90/p99/max (apply sent → applied in the last client), and the times to
 *     the first and to the median client;
 *   - the same applies to N raw watch readers that only parse frames: the agent's own fan-out,
 *     which is what one-client-per-process deployments see before each client's own compile;
 *   - client CPU per client per update (this process's CPU from the apply until the agent is
 *     idle again, ÷ N) and agent CPU per update (/proc/<pid>/stat), with and without clients'
 *     ACKs;
 *   - bytes per update on the wire, counted by a relay in front of one client: its watch stream
 *     (the delta frame with HTTP chunk framing) and its ACK (request and answer); the snapshot;
 *   - agent RSS growth per client once all are synced and ACKed (client records, config dumps,
 *     sockets; an upper bound, garbage included), and this process's heap per client after a
 *     full GC (a Mesh and an AgentClient).
 * All N clients share this process's one thread: each compiles in turn, so at 1,000 clients the
 * propagation is mostly N × one client's CPU, which separate processes would spend in parallel.
 *
 * Run: node bench/control-plane-propagation.ts [--quick] [--clients=10,100,1000] [--applies=N]
 *      [--json=FILE]   (full: 100 measured applies per row, about 4 minutes; --quick: 20, 1 min)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer, type Server, Socket } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type AgentClient, connectToAgent, createMesh, type Mesh } from '../packages/core/src/index.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    applies: { type: 'string' },
    json: { type: 'string' },
  },
});
const isQuick = flags.quick === true;
const CLIENT_COUNTS = (flags.clients ?? '10,100,1000').split(',').map(Number);
const APPLIES = Number(flags.applies ?? (isQuick ? 20 : 100));
const WARMUP_APPLIES = 3;
const SERVICES = 25;
const NAMESPACE = 'default';
const APPLY_TIMEOUT_MS = 60_000;
/** Pause after each apply's ACKs, so that every apply is measured as a lone change. */
const SETTLE_MS = 20;
const WEFT_BIN = fileURLToPath(new URL('../packages/control-agent/bin/weft.js', import.meta.url));
const CLOCK_TICKS_PER_SECOND = 100;

// A full GC on demand, to weigh what the clients keep (not what they left for the collector).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

// ---- config ---------------------------------------------------------------------------------------

function serviceYaml(index: number, defaultSubset: string): string {
  const host = `svc-${index}`;
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
  trafficPolicy: { loadBalancer: { simple: LEAST_REQUEST } }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
${virtualServiceYaml(index, defaultSubset)}`;
}

function virtualServiceYaml(index: number, defaultSubset: string): string {
  const host = `svc-${index}`;
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  http:
  - name: jason
    match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: ${host}, subset: v2 } }]
  - name: default
    route: [{ destination: { host: ${host}, subset: ${defaultSubset} } }]
    retries: { attempts: 2, perTryTimeout: 500ms }
`;
}

function workload(index: number, version: string): Record<string, unknown> {
  return {
    name: `svc-${index}-${version}-0`,
    namespace: NAMESPACE,
    service: `svc-${index}`,
    serviceAccount: `svc-${index}`,
    labels: { app: `svc-${index}`, version },
    address: '127.0.0.1',
    ports: { 9080: 20_000 + index * 2 + (version === 'v1' ? 0 : 1) },
    ttlMs: 24 * 60 * 60 * 1000,
  };
}

// ---- the agent process ----------------------------------------------------------------------------

interface AgentProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly dataDir: string;
}

/** Agent processes still running: killed if this process exits early (a failed run). */
const agentProcesses = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of agentProcesses) child.kill('SIGKILL');
});

async function startAgent(): Promise<AgentProcess> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'weft-bench-agent-'));
  const child = spawn(process.execPath, [WEFT_BIN, 'agent', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WEFT_ADMIN_TOKEN: '' },
  });
  agentProcesses.add(child);
  child.once('exit', () => agentProcesses.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`weft agent did not start: ${stderr}`)), 15_000);
    lines.on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`weft agent exited (${code}): ${stderr}`)));
  });
  return { url, child, dataDir };
}

async function stopAgent(agent: AgentProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => agent.child.once('exit', () => resolve()));
  agent.child.kill('SIGTERM');
  await exited;
  rmSync(agent.dataDir, { recursive: true, force: true });
}

function rssBytesOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kilobytes * 1024;
}

function cpuMicrosOf(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

async function waitFor(condition: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves once the process's CPU time has not grown for 3 samples 10 ms apart (it is idle). */
async function agentIdle(pid: number): Promise<void> {
  let last = cpuMicrosOf(pid);
  let quiet = 0;
  while (quiet < 3) {
    await sleep(10);
    const now = cpuMicrosOf(pid);
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

async function post(
  url: string,
  body: string,
  contentType: string,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: response.status, body: await response.json() };
}

// ---- a relay that counts one client's bytes ---------------------------------------------------------

/**
 * Relays one client's connections to the agent and counts the bytes of its watch stream (agent
 * → client) and of its other exchanges (the ACKs: request and answer), told apart by the first
 * bytes the client sends on each connection.
 */
class CountingRelay {
  watchBytes = 0;
  reportBytes = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(targetPort: number) {
    this.#server = createServer((client) => {
      const upstream = new Socket();
      this.#sockets.add(client).add(upstream);
      upstream.connect(targetPort, '127.0.0.1');
      let isWatch: boolean | undefined;
      client.on('data', (chunk: Buffer) => {
        isWatch ??= chunk.subarray(0, 13).toString('latin1') === 'GET /v1/watch';
        if (!isWatch) this.reportBytes += chunk.length;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (isWatch === true) this.watchBytes += chunk.length;
        else this.reportBytes += chunk.length;
        client.write(chunk);
      });
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

// ---- one client count ------------------------------------------------------------------------------

interface Bench {
  readonly mesh: Mesh;
  readonly client: AgentClient;
  /** The newest applied revision, and when it was applied. */
  latest: { revision: number; atMs: number };
  nacks: number;
}

interface RoundResult {
  readonly clients: number;
  readonly applies: number;
  readonly propagationMs: readonly number[];
  readonly firstClientMs: readonly number[];
  readonly medianClientMs: readonly number[];
  readonly applyAnswerMs: readonly number[];
  readonly clientCpuMicrosPerClientPerUpdate: number;
  readonly agentCpuMicrosPerUpdate: number;
  readonly watchBytesPerUpdate: number;
  readonly reportBytesPerUpdate: number;
  readonly snapshotBytes: number;
  readonly agentRssBytes: { readonly before: number; readonly synced: number; readonly atEnd: number };
  /**
   * Agent RSS growth ÷ clients once every client synced and its first ACK (with its config dump)
   * was recorded. The agent cannot be made to collect garbage from here, so this includes what it
   * had not collected yet: an upper bound. (At the end of the run RSS has also grown with the
   * garbage of N ACKs per update; `atEnd` is kept in the JSON record.)
   */
  readonly agentRssBytesPerClient: number;
  /** This process's heap after a full GC, growth ÷ clients: a Mesh and an AgentClient. */
  readonly clientHeapBytesPerClient: number;
  readonly connectMs: number;
  /** Clients whose start-up ended before they synced (their first attempt failed), then retried. */
  readonly notSyncedAtFirst: number;
}

function routedSubset(mesh: Mesh): string | undefined {
  const table = mesh.outbound.routeTable(`svc-0.${NAMESPACE}.svc.cluster.local`, 9080);
  return table?.routes.find((route) => route.name === 'default')?.destinations[0]?.subset;
}

/** A fresh agent holding the benchmark's config and registry. */
async function startSeededAgent(): Promise<AgentProcess> {
  const agent = await startAgent();
  const yaml = Array.from({ length: SERVICES }, (_, index) => serviceYaml(index, 'v1')).join('---\n');
  const seeded = await post(`${agent.url}/v1/apply`, yaml, 'application/yaml');
  if (seeded.status !== 200) throw new Error(`seeding failed: ${JSON.stringify(seeded.body)}`);
  for (let index = 0; index < SERVICES; index += 1) {
    for (const version of ['v1', 'v2']) {
      const answer = await post(
        `${agent.url}/v1/workloads`,
        JSON.stringify(workload(index, version)),
        'application/json',
      );
      if (answer.status !== 201) throw new Error(`registration failed: ${JSON.stringify(answer.body)}`);
    }
  }
  return agent;
}

async function runRound(clientCount: number): Promise<RoundResult> {
  const agent = await startSeededAgent();
  const agentPid = agent.child.pid ?? 0;
  const agentPort = Number(new URL(agent.url).port);
  const relay = new CountingRelay(agentPort);
  const relayUrl = await relay.listen();
  await sleep(200);
  const agentRssBefore = rssBytesOf(agentPid);
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;

  const connectStartedAt = performance.now();
  const benches: Bench[] = [];
  /** The watch bytes client 0 had read when it applied its first snapshot. */
  let snapshotBytes = 0;
  for (let index = 0; index < clientCount; index += 1) {
    const mesh = createMesh({
      workload: {
        name: `client-${index}`,
        namespace: NAMESPACE,
        serviceAccount: 'bench-client',
        labels: { app: 'bench-client' },
        service: 'bench-client',
      },
    });
    const client = connectToAgent(mesh, {
      agents: [index === 0 ? relayUrl : agent.url],
      clientId: `bench-${clientCount}-${index}`,
      startupTimeoutMs: 60_000,
    });
    const bench: Bench = { mesh, client, latest: { revision: -1, atMs: 0 }, nacks: 0 };
    client.events.applied.on((event) => {
      if (index === 0 && bench.latest.revision < 0) snapshotBytes = relay.watchBytes;
      bench.latest = { revision: event.mark.revision, atMs: performance.now() };
      onApplied();
    });
    client.events.nack.on(() => {
      bench.nacks += 1;
    });
    benches.push(bench);
  }
  const states = await Promise.all(benches.map((bench) => bench.client.ready));
  const notSyncedAtFirst = states.filter((state) => state !== 'synced').length;
  await waitFor(
    () => benches.every((bench) => bench.client.state === 'synced'),
    60_000,
    'every client synced',
  );
  const connectMs = performance.now() - connectStartedAt;

  // Waiting for every client to reach a revision.
  let target = Number.POSITIVE_INFINITY;
  let wake: (() => void) | undefined;
  function onApplied(): void {
    if (wake !== undefined && benches.every((bench) => bench.latest.revision >= target)) wake();
  }
  async function everyClientAt(revision: number): Promise<void> {
    target = revision;
    if (benches.every((bench) => bench.latest.revision >= target)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`not every client reached ${revision}`)),
        APPLY_TIMEOUT_MS,
      );
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });
  }
  /**
   * Waits until the agent has recorded every client's ACK of `revision`. Polling /v1/clients (a
   * record per client) would load the agent being measured, so it first waits for the agent's CPU
   * time to stop growing, then checks once (and waits again if some ACK is still missing).
   */
  async function acksSettled(revision: number): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      await agentIdle(agentPid);
      const response = await fetch(`${agent.url}/v1/clients`);
      const view = (await response.json()) as { clients: { acked: { revision: number } | null }[] };
      const settled = view.clients.filter(
        (client) => client.acked !== null && client.acked.revision >= revision,
      );
      if (settled.length >= clientCount) return;
      await sleep(20);
    }
    throw new Error(`ACKs of revision ${revision} did not settle`);
  }

  const propagationMs: number[] = [];
  const firstClientMs: number[] = [];
  const medianClientMs: number[] = [];
  const applyAnswerMs: number[] = [];
  let clientCpuMicros = 0;
  let agentCpuMicros = 0;
  let watchBytes = 0;
  let reportBytes = 0;
  const seedRevision = benches[0]?.latest.revision ?? 0;
  await acksSettled(seedRevision);
  await sleep(500);
  const agentRssSynced = rssBytesOf(agentPid);

  for (let round = 0; round < WARMUP_APPLIES + APPLIES; round += 1) {
    const isMeasured = round >= WARMUP_APPLIES;
    const subset = round % 2 === 0 ? 'v2' : 'v1';
    const body = virtualServiceYaml(0, subset);
    const watchBytesBefore = relay.watchBytes;
    const reportBytesBefore = relay.reportBytes;
    const agentCpuBefore = cpuMicrosOf(agentPid);
    const ownCpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const answer = await post(`${agent.url}/v1/apply`, body, 'application/yaml');
    const answeredAt = performance.now();
    if (answer.status !== 200) throw new Error(`apply failed: ${JSON.stringify(answer.body)}`);
    const revision = (answer.body as { mark: { revision: number } }).mark.revision;
    await everyClientAt(revision);
    const times = benches.map((bench) => bench.latest.atMs - startedAt).sort((a, b) => a - b);
    for (const bench of benches) {
      if (routedSubset(bench.mesh) !== subset || bench.nacks > 0) {
        throw new Error(
          `a client routes ${routedSubset(bench.mesh)} instead of ${subset} (nacks ${bench.nacks})`,
        );
      }
    }
    const watchBytesOfApply = relay.watchBytes - watchBytesBefore;
    // CPU of the whole update: the apply, the fan-out, every client's compile and ACK.
    await agentIdle(agentPid);
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const agentCpu = cpuMicrosOf(agentPid) - agentCpuBefore;
    await acksSettled(revision);
    if (isMeasured) {
      propagationMs.push(times.at(-1) ?? 0);
      firstClientMs.push(times[0] ?? 0);
      medianClientMs.push(times[Math.floor(times.length / 2)] ?? 0);
      applyAnswerMs.push(answeredAt - startedAt);
      clientCpuMicros += ownCpu.user + ownCpu.system;
      agentCpuMicros += agentCpu;
      watchBytes += watchBytesOfApply;
      // The ACK may still be under way when the last client applied: counted once it settled.
      reportBytes += relay.reportBytes - reportBytesBefore;
    }
    await sleep(SETTLE_MS);
  }
  collectGarbage();
  const heapAfter = process.memoryUsage().heapUsed;
  const agentRssAtEnd = rssBytesOf(agentPid);

  await Promise.all(benches.map((bench) => bench.client.close()));
  await Promise.all(benches.map((bench) => bench.mesh.close()));
  await relay.close();
  await stopAgent(agent);
  return {
    clients: clientCount,
    applies: APPLIES,
    propagationMs,
    firstClientMs,
    medianClientMs,
    applyAnswerMs,
    clientCpuMicrosPerClientPerUpdate: clientCpuMicros / APPLIES / clientCount,
    agentCpuMicrosPerUpdate: agentCpuMicros / APPLIES,
    watchBytesPerUpdate: watchBytes / APPLIES,
    reportBytesPerUpdate: reportBytes / APPLIES,
    snapshotBytes,
    agentRssBytes: { before: agentRssBefore, synced: agentRssSynced, atEnd: agentRssAtEnd },
    agentRssBytesPerClient: (agentRssSynced - agentRssBefore) / clientCount,
    clientHeapBytesPerClient: (heapAfter - heapBefore) / clientCount,
    connectMs,
    notSyncedAtFirst,
  };
}

// ---- the agent's fan-out alone -------------------------------------------------------------------

interface FanOutResult {
  readonly readers: number;
  readonly propagationMs: readonly number[];
  readonly agentCpuMicrosPerUpdate: number;
}

/**
 * The same applies to N raw watch readers that only split and parse frames (no validation, no
 * compile, no ACK): how long the agent takes to get one change onto N sockets, which is what a
 * deployment with one client per process would see before each client's own apply.
 */
async function runFanOut(readerCount: number): Promise<FanOutResult> {
  const agent = await startSeededAgent();
  const agentPid = agent.child.pid ?? 0;
  const latest = new Array<number>(readerCount).fill(-1);
  const latestAtMs = new Array<number>(readerCount).fill(0);
  const requests: http.ClientRequest[] = [];
  let onFrame = (): void => {};
  const read = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const query = `clientId=raw-${index}&namespace=${NAMESPACE}&workload=raw-${index}&protocolVersion=1`;
      const request = http.get(`${agent.url}/v1/watch?${query}`, { agent: false }, (response) => {
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          const lines = buffer.split('\n');
          buffer = lines.pop() ?? '';
          for (const line of lines) {
            const frame = JSON.parse(line) as { type: string; mark: { revision: number } };
            if (frame.type === 'heartbeat') continue;
            latest[index] = frame.mark.revision;
            latestAtMs[index] = performance.now();
            if (frame.type === 'snapshot') resolve();
          }
          onFrame();
        });
      });
      request.on('error', reject);
      requests.push(request);
    });
  await Promise.all(Array.from({ length: readerCount }, (_, index) => read(index)));

  const propagationMs: number[] = [];
  let agentCpuMicros = 0;
  for (let round = 0; round < WARMUP_APPLIES + APPLIES; round += 1) {
    const agentCpuBefore = cpuMicrosOf(agentPid);
    const startedAt = performance.now();
    const answer = await post(
      `${agent.url}/v1/apply`,
      virtualServiceYaml(0, round % 2 === 0 ? 'v2' : 'v1'),
      'application/yaml',
    );
    if (answer.status !== 200) throw new Error(`apply failed: ${JSON.stringify(answer.body)}`);
    const target = (answer.body as { mark: { revision: number } }).mark.revision;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`not every reader reached ${target}`)),
        APPLY_TIMEOUT_MS,
      );
      onFrame = () => {
        if (!latest.every((revision) => revision >= target)) return;
        clearTimeout(timer);
        onFrame = () => {};
        resolve();
      };
      onFrame();
    });
    const lastAtMs = Math.max(...latestAtMs);
    await agentIdle(agentPid);
    if (round >= WARMUP_APPLIES) {
      propagationMs.push(lastAtMs - startedAt);
      agentCpuMicros += cpuMicrosOf(agentPid) - agentCpuBefore;
    }
    await sleep(SETTLE_MS);
  }
  for (const request of requests) request.destroy();
  await stopAgent(agent);
  return { readers: readerCount, propagationMs, agentCpuMicrosPerUpdate: agentCpuMicros / APPLIES };
}

// ---- report ---------------------------------------------------------------------------------------

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const ms = (value: number): string => (value < 10 ? value.toFixed(1) : value.toFixed(0));
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

const results: RoundResult[] = [];
const fanOuts: FanOutResult[] = [];
for (const clientCount of CLIENT_COUNTS) {
  process.stderr.write(`${clientCount} clients: ${APPLIES} applies…\n`);
  results.push(await runRound(clientCount));
  process.stderr.write(`${clientCount} raw watch readers: ${APPLIES} applies…\n`);
  fanOuts.push(await runFanOut(clientCount));
}

const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} vCPU, ${os.platform()} ${os.release()}`;
const table = (header: readonly string[], rows: readonly (readonly string[])[]): void => {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---:').join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
};
const spread = (values: readonly number[]): string[] => [
  `${ms(percentile(values, 0.5))} ms`,
  `${ms(percentile(values, 0.9))} ms`,
  `${ms(percentile(values, 0.99))} ms`,
  `${ms(Math.max(...values))} ms`,
];
console.log(
  `Control-plane propagation — ${new Date().toISOString().slice(0, 10)}, ${machine}, Node ${process.version}; ` +
    `${SERVICES} services (${SERVICES * 2} resources, ${SERVICES * 2} workloads); ${APPLIES} measured applies ` +
    `per row (after ${WARMUP_APPLIES} warm-up), each changing one VirtualService.\n`,
);
console.log('Apply sent → applied in every client (N in-process clients, each its own Mesh):\n');
table(
  ['clients', 'p50', 'p90', 'p99', 'max', 'first client p50', 'median client p50', 'apply answered p50'],
  results.map((result) => [
    String(result.clients),
    ...spread(result.propagationMs),
    `${ms(percentile(result.firstClientMs, 0.5))} ms`,
    `${ms(percentile(result.medianClientMs, 0.5))} ms`,
    `${ms(percentile(result.applyAnswerMs, 0.5))} ms`,
  ]),
);
console.log('\nThe agent alone: apply sent → the delta read by every one of N raw watch readers:\n');
table(
  ['readers', 'p50', 'p90', 'p99', 'max'],
  fanOuts.map((result) => [String(result.readers), ...spread(result.propagationMs)]),
);
console.log('\nCost per update, bytes and memory:\n');
table(
  [
    'clients',
    'client CPU / client / update',
    'agent CPU / update',
    'agent CPU / update, fan-out alone',
    'watch bytes / update',
    'ACK bytes / update',
    'snapshot bytes',
    'agent RSS / client',
    'client heap / client',
    'all synced after',
  ],
  results.map((result, index) => [
    String(result.clients),
    `${result.clientCpuMicrosPerClientPerUpdate.toFixed(0)} µs`,
    `${(result.agentCpuMicrosPerUpdate / 1000).toFixed(1)} ms`,
    `${((fanOuts[index]?.agentCpuMicrosPerUpdate ?? Number.NaN) / 1000).toFixed(1)} ms`,
    `${result.watchBytesPerUpdate.toFixed(0)} B`,
    `${result.reportBytesPerUpdate.toFixed(0)} B`,
    `${result.snapshotBytes} B`,
    kib(result.agentRssBytesPerClient),
    kib(result.clientHeapBytesPerClient),
    `${ms(result.connectMs)} ms${result.notSyncedAtFirst > 0 ? ` (${result.notSyncedAtFirst} retried)` : ''}`,
  ]),
);
const atThousand = results.find((result) => result.clients === 1000);
if (atThousand !== undefined) {
  const p99 = percentile(atThousand.propagationMs, 0.99);
  console.log(
    `\nAim (issue 4): p99 ≤ 100 ms at 1,000 clients: p99 ${ms(p99)} ms — ${p99 <= 100 ? 'met' : 'MISSED'}.`,
  );
}
if (flags.json !== undefined) {
  writeFileSync(
    flags.json,
    `${JSON.stringify({ machine, node: process.version, results, fanOuts }, null, 2)}\n`,
  );
}
