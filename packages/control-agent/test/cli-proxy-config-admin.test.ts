/**
 * `weft proxy-config SECTION --admin URL`: the same views read from one workload's admin
 * endpoint (a mesh with `admin` on 127.0.0.1, port 0) instead of the agent.
 */
import { createMesh, type Mesh } from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferedSink, type CliIo } from '../src/cli/cli-io.ts';
import { main } from '../src/cli/main.ts';

const CONFIG = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets: [{ name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http: [{ name: to-v2, route: [{ destination: { host: reviews, subset: v2 } }] }]
`;

let mesh: Mesh | undefined;
afterEach(async () => {
  const closing = mesh?.admin?.close();
  mesh?.close();
  await closing;
});

async function adminUrl(): Promise<string> {
  mesh = createMesh({
    workload: {
      name: 'productpage-v1',
      namespace: 'default',
      serviceAccount: 'productpage',
      labels: { app: 'productpage' },
    },
    workloads: [
      {
        name: 'reviews-v2',
        namespace: 'default',
        service: 'reviews',
        serviceAccount: 'reviews',
        labels: { app: 'reviews', version: 'v2' },
        address: '10.0.0.2',
        ports: { 9080: 9080 },
      },
    ],
    config: { yaml: CONFIG },
    admin: { port: 0 },
  });
  return (await mesh.admin?.url()) ?? '';
}

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

describe('weft proxy-config --admin', () => {
  it('shows routes and clusters from the workload’s /config_dump, without a workload argument', async () => {
    const url = await adminUrl();
    const routes = await weft(['proxy-config', 'routes', '--admin', url]);
    expect(routes.code).toBe(0);
    expect(routes.stdout).toMatch(
      /reviews\.default\.svc\.cluster\.local\s+9080\s+to-v2\s+outbound\|9080\|v2\|/,
    );
    const clusters = await weft(['proxy-config', 'clusters', '--admin', url, '-o', 'json']);
    expect(JSON.parse(clusters.stdout).clusters).toEqual([
      {
        name: 'outbound|9080|v2|reviews.default.svc.cluster.local',
        endpoints: 1,
        destinationRules: ['DestinationRule/default/reviews'],
      },
    ]);
  });

  it('shows endpoints with their live health from /clusters', async () => {
    const url = await adminUrl();
    const endpoints = await weft(['proxy-config', 'endpoints', '--admin', url]);
    expect(endpoints.code).toBe(0);
    expect(endpoints.stdout).toMatch(/10\.0\.0\.2:9080\s+HEALTHY\s+0\s+1\s+app=reviews,version=v2/);
  });

  it('fails clearly when nothing answers at the admin URL', async () => {
    const url = await adminUrl();
    await mesh?.admin?.close();
    const result = await weft(['proxy-config', 'routes', '--admin', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the workload admin endpoint');
  });
});
