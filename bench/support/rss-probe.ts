/**
 * How much memory Weft adds to a client process. Run as a fresh child process (with --expose-gc
 * and without the source condition) that loads either bare undici or Weft with every feature on
 * (the same policies as support/variants.ts `all`), sends `requests` requests at concurrency 16
 * to the origin on 127.0.0.1:`port`, collects garbage and reports its RSS and heap to the parent
 * over IPC, once after loading and once after the traffic.
 *
 * Weft is loaded from its build output (packages/<name>/dist, `npm run build`), as a deployed
 * service would load it: loading the TypeScript sources would add the cost of Node's type
 * stripping for every file. `isDistStale` says when a source file is newer than the build.
 *
 * argv: <bare|weft> <port> <requests>
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Send } from './load.ts';

export interface RssProbeResult {
  readonly loadedRssMb: number;
  readonly loadedHeapUsedMb: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly requests: number;
  readonly errors: number;
  readonly isDistStale: boolean;
}

const YAML = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: origin }
spec:
  hosts: [origin]
  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route: [{ destination: { host: origin } }]
  - route: [{ destination: { host: origin } }]
    timeout: 5s
    retries: { attempts: 2, perTryTimeout: 2s, retryOn: 5xx }
    fault:
      delay: { percentage: { value: 0 }, fixedDelay: 5s }
      abort: { percentage: { value: 0 }, httpStatus: 503 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: origin }
spec:
  host: origin
  trafficPolicy:
    loadBalancer: { simple: LEAST_REQUEST }
    outlierDetection: { consecutive5xxErrors: 5 }
`;

function newestMtimeMs(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isDistStale(): boolean {
  const packages = fileURLToPath(new URL('../../packages/', import.meta.url));
  return ['core', 'http'].some((name) => {
    try {
      return (
        newestMtimeMs(join(packages, name, 'src')) >
        statSync(join(packages, name, 'dist', 'index.js')).mtimeMs
      );
    } catch {
      return true;
    }
  });
}

const OK = 'ok';

async function clientOf(mode: string, port: number): Promise<{ send: Send; close(): Promise<void> }> {
  const { Agent, request } = await import('undici');
  if (mode === 'weft') {
    const { createMesh } = await import('@weft/core');
    const { createMeshDispatcher } = await import('@weft/http');
    const mesh = createMesh({
      workload: { name: 'probe', namespace: 'default', serviceAccount: 'probe', labels: { app: 'probe' } },
      workloads: [
        {
          name: 'origin-0',
          namespace: 'default',
          service: 'origin',
          serviceAccount: 'origin',
          labels: { app: 'origin', version: 'v1' },
          address: '127.0.0.1',
          ports: { 9080: port },
        },
      ],
      config: { yaml: YAML },
    });
    const dispatcher = createMeshDispatcher(mesh);
    return {
      async send() {
        const response = await request('http://origin:9080/', { dispatcher });
        return response.statusCode === 200 && (await response.body.text()) === OK;
      },
      async close() {
        await dispatcher.close();
        mesh.close();
      },
    };
  }
  const agent = new Agent();
  const url = `http://127.0.0.1:${port}/`;
  return {
    async send() {
      const response = await request(url, { dispatcher: agent });
      return response.statusCode === 200 && (await response.body.text()) === OK;
    },
    close: () => agent.close(),
  };
}

function memoryAfterGc(): { rssMb: number; heapUsedMb: number } {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
  const memory = process.memoryUsage();
  return { rssMb: memory.rss / 2 ** 20, heapUsedMb: memory.heapUsed / 2 ** 20 };
}

async function probe(): Promise<void> {
  const [mode = 'bare', portText = '0', requestsText = '2000'] = process.argv.slice(2);
  const total = Number(requestsText);
  const client = await clientOf(mode, Number(portText));
  const loaded = memoryAfterGc();
  let sent = 0;
  let errors = 0;
  const worker = async () => {
    while (sent < total) {
      sent += 1;
      try {
        if (!(await client.send())) errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const used = memoryAfterGc();
  const result: RssProbeResult = {
    loadedRssMb: loaded.rssMb,
    loadedHeapUsedMb: loaded.heapUsedMb,
    ...used,
    requests: sent,
    errors,
    isDistStale: mode === 'weft' && isDistStale(),
  };
  await client.close();
  process.send?.(result, () => process.disconnect?.());
}

if (process.send !== undefined) await probe();
