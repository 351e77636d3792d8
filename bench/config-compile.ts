/**
 * Config compile and route lookup at scale (issue: foundation). Builds 1,000 services with 10
 * workloads each (10,000 endpoints), one DestinationRule with two subsets per service and one
 * VirtualService per service with four routes (header, prefix, regex, weighted catch-all), then
 * measures:
 *   - parse: parseConfig() of the YAML text of all 2,000 resources;
 *   - compile: compile() plus building one workload's view (every route table and cluster);
 *   - lookup: resolveHost + routeTable + match + weighted pick for one request, median ns.
 *
 * Run: npm run bench:config   (add --quick for a short run)
 */
import { stringify } from 'yaml';
import {
  compile,
  parseConfig,
  pickWeighted,
  type RegisteredWorkload,
  type RouteRequest,
} from '../packages/core/src/index.ts';

const quick = process.argv.includes('--quick');
const SERVICES = 1000;
const WORKLOADS_PER_SERVICE = 10;
const RUNS = quick ? 3 : 9;

function buildConfigText(): string {
  const documents: unknown[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const host = `svc-${i}`;
    documents.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: host, namespace: 'default' },
      spec: {
        host,
        trafficPolicy: {
          loadBalancer: { simple: 'LEAST_REQUEST' },
          outlierDetection: { consecutive5xxErrors: 5, interval: '10s' },
        },
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
        ],
      },
    });
    documents.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: host, namespace: 'default' },
      spec: {
        hosts: [host],
        http: [
          {
            match: [{ headers: { 'end-user': { exact: 'jason' } } }],
            route: [{ destination: { host, subset: 'v2' } }],
          },
          {
            match: [{ uri: { prefix: '/api/v2/' } }],
            route: [{ destination: { host, subset: 'v2' } }],
            timeout: '2s',
          },
          { match: [{ uri: { regex: '/items/[0-9]+' } }], route: [{ destination: { host, subset: 'v1' } }] },
          {
            route: [
              { destination: { host, subset: 'v1' }, weight: 90 },
              { destination: { host, subset: 'v2' }, weight: 10 },
            ],
            retries: { attempts: 3, perTryTimeout: '500ms', retryOn: '5xx,reset' },
          },
        ],
      },
    });
  }
  return documents.map((document) => stringify(document)).join('---\n');
}

function buildWorkloads(): RegisteredWorkload[] {
  const workloads: RegisteredWorkload[] = [];
  for (let i = 0; i < SERVICES; i++) {
    for (let j = 0; j < WORKLOADS_PER_SERVICE; j++) {
      workloads.push({
        name: `svc-${i}-${j}`,
        namespace: 'default',
        service: `svc-${i}`,
        serviceAccount: `svc-${i}`,
        labels: { app: `svc-${i}`, version: j % 2 === 0 ? 'v1' : 'v2' },
        address: `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        ports: { 9080: 20000 + j },
      });
    }
  }
  return workloads;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function millisecondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const text = buildConfigText();
const registry = { workloads: buildWorkloads() };
const parseMs: number[] = [];
const compileMs: number[] = [];
let lastView: ReturnType<ReturnType<typeof compile>['forWorkload']> | undefined;
for (let run = 0; run < RUNS; run++) {
  let start = process.hrtime.bigint();
  const { resources, issues } = parseConfig(text, { file: 'bench.yaml' });
  parseMs.push(millisecondsSince(start));
  if (issues.length > 0 || resources.length !== SERVICES * 2)
    throw new Error(`unexpected parse result: ${issues.length} issues`);
  start = process.hrtime.bigint();
  const snapshot = compile(resources, registry);
  const view = snapshot.forWorkload({ namespace: 'default', labels: { app: 'client' } });
  for (const table of view.routeTables()) {
    for (const route of table.routes) for (const destination of route.destinations) view.cluster(destination);
  }
  compileMs.push(millisecondsSince(start));
  lastView = view;
}

const view =
  lastView ??
  (() => {
    throw new Error('no runs');
  })();
const requests: RouteRequest[] = Array.from({ length: 64 }, (_, i) => {
  const headers: Record<string, string> = i % 4 === 0 ? { 'end-user': 'jason' } : {};
  const paths = ['/api/v2/list', '/items/42', '/reviews/1?x=1', '/'];
  return {
    path: paths[i % paths.length] ?? '/',
    method: 'GET',
    authority: `svc-${(i * 37) % SERVICES}:9080`,
    scheme: 'http',
    port: 9080,
    header: (name: string) => headers[name],
  };
});
const hosts = requests.map((request) => request.authority.split(':')[0] ?? '');

const BATCH = 10_000;
const batchNs: number[] = [];
let sink = 0;
for (let batch = 0; batch < (quick ? 20 : 200); batch++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) {
    const index = i & 63;
    const request = requests[index] as RouteRequest;
    const host = view.resolveHost(hosts[index] as string);
    if (host === undefined) throw new Error('unresolved host');
    const route = view.routeTable(host, 9080)?.match(request);
    if (route === undefined) throw new Error('no route');
    sink += pickWeighted(route, (i % 100) / 100)?.port ?? 0;
  }
  batchNs.push(Number(process.hrtime.bigint() - start) / BATCH);
}
if (sink === 0) throw new Error('lookups produced nothing');

const result = {
  scenario: 'config-compile',
  node: process.version,
  services: SERVICES,
  endpoints: SERVICES * WORKLOADS_PER_SERVICE,
  virtualServices: SERVICES,
  runs: RUNS,
  parseMsMedian: Number(median(parseMs).toFixed(1)),
  compileMsMedian: Number(median(compileMs).toFixed(1)),
  routeLookupNsMedian: Number(median(batchNs).toFixed(0)),
};
console.log(JSON.stringify(result, null, 2));
