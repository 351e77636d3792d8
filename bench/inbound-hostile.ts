/**
 * Event-loop delay of the inbound server under hostile requests (bad-inputs I4). The server — a
 * createMeshServer with 20 AuthorizationPolicies, DECODE_AND_MERGE_SLASHES path normalization, an
 * OpenTelemetry SDK tracer and meter and a JSON access log (support/hostile-inbound.ts) — runs in
 * a child process that samples its own event loop (perf_hooks.monitorEventLoopDelay, 1 ms
 * resolution), so the load generator's work is not counted. Windows, in order:
 *
 * - idle: no traffic (the floor of the machine);
 * - small: GETs on new connections, 32 at a time;
 * - hostile: the same 32 senders, each request in turn 90 headers of 160 bytes (14.5 KiB), a
 *   12 KiB path of `//`, `./`, `%2F`, `%2e` to normalise, a head over 16 KiB (431), a small GET.
 *
 * Every answer must have its expected status or the run fails. Not part of `npm test` (timing);
 * test/inbound-hostile-load.test.ts counts the work per request instead.
 *
 * Run: node --conditions=@weft/source bench/inbound-hostile.ts   (about 35 s; --quick: 2 s windows)
 *      [--seconds=S per window]
 * A JSON record goes to bench/results/; the Markdown table goes to stdout.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createMeshServer } from '../packages/http/src/index.ts';
import { nextMessage } from './support/child-process.ts';
import {
  type HostileKind,
  hostileMesh,
  hostileRequest,
  okHandler,
  sendRaw,
} from './support/hostile-inbound.ts';
import { describeMachine } from './support/machine.ts';

const { values: flags } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
  },
});

interface DelayReport {
  readonly type: 'delay';
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  readonly served: number;
  readonly logLines: number;
}

if (flags.serve === true) await serve();
else await measure();

/** The child: the server, and its event-loop delay per window on request. */
async function serve(): Promise<void> {
  const hostile = hostileMesh();
  const app = okHandler();
  const server = createMeshServer(hostile.mesh, app.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'reset') {
      delay.reset();
      process.send?.({ type: 'reset' });
    } else if (message.type === 'report') {
      const report: DelayReport = {
        type: 'delay',
        p50Ms: delay.percentile(50) / 1e6,
        p99Ms: delay.percentile(99) / 1e6,
        maxMs: delay.max / 1e6,
        meanMs: delay.mean / 1e6,
        served: app.served(),
        logLines: hostile.logLines(),
      };
      process.send?.(report);
    } else if (message.type === 'stop') {
      server.closeAllConnections();
      server.close();
      void hostile.close().then(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
}

async function measure(): Promise<void> {
  const windowMs =
    flags.seconds === undefined ? (flags.quick === true ? 2_000 : 10_000) : Number(flags.seconds) * 1000;
  const concurrency = 32;
  const child = fork(new URL(import.meta.url), ['--serve'], {
    execArgv: ['--conditions=@weft/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await nextMessage<{ port: number }>(child, 'ready', 'the server process');

  /** One window: `kinds` sent in turn by `concurrency` senders until `windowMs` passes (bounded count). */
  async function window(name: string, kinds: readonly HostileKind[]) {
    // The access-log count before the window, then a fresh delay histogram for it.
    child.send({ type: 'report' });
    const before = await nextMessage<DelayReport>(child, 'delay', 'the server process');
    child.send({ type: 'reset' });
    await nextMessage(child, 'reset', 'the server process');
    const endsAtMs = performance.now() + windowMs;
    const counts = new Map<string, number>();
    let sent = 0;
    let wrong = 0;
    const maxRequests = 2_000_000;
    if (kinds.length === 0) await new Promise((resolve) => setTimeout(resolve, windowMs));
    else
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < endsAtMs && sent < maxRequests) {
            const index = sent++;
            const kind = kinds[index % kinds.length] as HostileKind;
            const request = hostileRequest(kind, index);
            const status = await sendRaw(port, request.bytes);
            counts.set(`${kind} ${status}`, (counts.get(`${kind} ${status}`) ?? 0) + 1);
            if (status !== request.expected) wrong++;
          }
        }),
      );
    child.send({ type: 'report' });
    const after = await nextMessage<DelayReport>(child, 'delay', 'the server process');
    return {
      name,
      requests: sent,
      requestsPerSecond: Math.round(sent / (windowMs / 1000)),
      wrong,
      statuses: Object.fromEntries(counts),
      pipelineRuns: after.logLines - before.logLines,
      eventLoopDelayMs: {
        p50: round(after.p50Ms),
        p99: round(after.p99Ms),
        max: round(after.maxMs),
        mean: round(after.meanMs),
      },
    };
  }

  const windows = [
    await window('idle', []),
    await window('small', ['small']),
    await window('hostile', ['huge-headers', 'long-path', 'oversize-head', 'small']),
  ];
  child.send({ type: 'stop' });
  const record = { at: new Date().toISOString(), machine: describeMachine(), windowMs, concurrency, windows };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/inbound-hostile-${record.at.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`| window | requests (/s) | wrong status | event loop p50 / p99 / max (ms) |`);
  console.log('|---|---|---|---|');
  for (const w of windows) {
    const delay = w.eventLoopDelayMs;
    console.log(
      `| ${w.name} | ${w.requests} (${w.requestsPerSecond}) | ${w.wrong} | ${delay.p50} / ${delay.p99} / ${delay.max} |`,
    );
  }
  console.log(
    JSON.stringify(
      windows.map((w) => ({ name: w.name, statuses: w.statuses, pipelineRuns: w.pipelineRuns })),
    ),
  );
  console.log(`written: ${file.pathname}`);
  if (windows.some((w) => w.wrong > 0)) process.exitCode = 1;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
