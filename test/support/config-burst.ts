/**
 * The config-burst chaos scenario (issue 10), shared by test/chaos-config-burst.test.ts (200
 * changes, in `npm test`) and test/chaos-long/config-burst.test.ts (1,000, in `npm run chaos`): a
 * burst of config changes through a real `weft agent` process (20 applies in flight at a time),
 * while a caller in this process sends traffic whose route the burst keeps flipping between two
 * subsets. It asserts that every apply is accepted, that the client ends exactly at the agent's
 * last revision with the agent's last word for every resource (nothing lost, nothing stale),
 * that no request fails (no torn config), and that the client compiles far fewer configs than
 * there were writes (coalescing).
 */
import { expect } from 'vitest';
import { AgentProcess } from '../../packages/control-agent/test/support/agent-process.ts';
import {
  admin,
  applyYaml,
  callerMesh,
  meshDispatcher,
  recordFigures,
  registerWorkload,
  startLoad,
  summarize,
  timeUntil,
  watchAgent,
  workloadOf,
} from './chaos.ts';
import { startUpstreamChild } from './child.ts';

const IN_FLIGHT = 20;
const OTHER_HOSTS = 50;

const reviewsSubsets = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`;

/** Change `index`: every tenth flips reviews between v1 and v2, the others rename a route of svc-N. */
function change(index: number): string {
  if (index % 10 === 0) {
    const subset = (index / 10) % 2 === 0 ? 'v1' : 'v2';
    return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - name: change-${index}
    route: [{ destination: { host: reviews, subset: ${subset} } }]
`;
  }
  const host = `svc-${index % OTHER_HOSTS}`;
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host}, namespace: default }
spec:
  hosts: [${host}]
  http:
  - name: change-${index}
    route: [{ destination: { host: ${host} } }]
`;
}

export async function runConfigBurst(
  changes: number,
  annotate: (message: string) => Promise<unknown>,
): Promise<void> {
  const agent = await AgentProcess.start(['--in-memory']);
  const { ports } = await startUpstreamChild(['reviews-v1-0', 'reviews-v2-0']);
  for (const [name, port] of ports) {
    const version = name.includes('v2') ? 'v2' : 'v1';
    expect((await registerWorkload(agent.url, workloadOf('reviews', name, port, version))).status).toBe(201);
  }
  expect((await applyYaml(agent.url, reviewsSubsets)).status).toBe(200);
  expect((await applyYaml(agent.url, change(0))).status).toBe(200);
  const mesh = callerMesh();
  const watched = watchAgent(mesh, { agents: [agent.url] });
  expect(await watched.client.ready).toBe('synced');
  const appliedBefore = watched.applied.length;
  const load = startLoad(meshDispatcher(mesh), 'http://reviews:9080/reviews/1', {
    concurrency: 4,
    maxMs: 60_000,
  });

  const burstStartedAtMs = performance.now();
  const statuses: number[] = [];
  const accepted: { revision: number; atMs: number }[] = [];
  let next = 1;
  const writer = async () => {
    while (next <= changes) {
      const index = next++;
      const answer = await applyYaml(agent.url, change(index));
      statuses.push(answer.status);
      if (answer.status === 200)
        accepted.push({ revision: answer.body.mark.revision, atMs: performance.now() });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
  const burstEndedAtMs = performance.now();
  const health = await admin(agent.url, 'GET', '/healthz');
  const lastRevision = health.body.mark?.revision as number | undefined;
  const convergedMs = await timeUntil(() => watched.client.appliedMark?.revision === lastRevision, 10_000);
  const outcomes = await load.stop();
  const summary = summarize(outcomes);

  // The agent's last word on every VirtualService, against what the client routes by.
  const listed = await admin(agent.url, 'GET', '/v1/resources?kind=VirtualService');
  const finalRoutes = new Map<string, string>();
  for (const item of listed.body.items as {
    metadata: { name: string };
    spec: { http: { name: string }[] };
  }[]) {
    finalRoutes.set(item.metadata.name, item.spec.http[0]?.name ?? '');
  }
  const clientRoutes = new Map<string, string>();
  for (const name of finalRoutes.keys()) {
    clientRoutes.set(
      name,
      mesh.outbound.routeTable(`${name}.default.svc.cluster.local`, 9080)?.routes[0]?.name ?? '',
    );
  }

  // Staleness: from each accepted apply to the client serving that revision or a later one.
  const lagsMs = accepted
    .map(({ revision, atMs }) => {
      const reached = watched.applied.find((entry) => entry.revision >= revision);
      return reached === undefined ? Number.POSITIVE_INFINITY : Math.max(0, reached.atMs - atMs);
    })
    .sort((a, b) => a - b);
  const touchedHosts = new Set(
    Array.from({ length: changes }, (_, offset) => offset + 1)
      .filter((index) => index % 10 !== 0)
      .map((index) => `svc-${index % OTHER_HOSTS}`),
  );

  await recordFigures(annotate, `burst of ${changes} config changes`, {
    ...summary,
    burstMs: Math.round(burstEndedAtMs - burstStartedAtMs),
    appliesPerSecond: Math.round((changes * 1_000) / (burstEndedAtMs - burstStartedAtMs)),
    lastApplyToClientMs: Math.round(convergedMs ?? -1),
    applyToClientP50Ms: Math.round(lagsMs[Math.floor(lagsMs.length / 2)] ?? -1),
    applyToClientMaxMs: Math.round(lagsMs.at(-1) ?? -1),
    configsCompiledByClient: watched.applied.length - appliedBefore,
  });
  expect(statuses).toHaveLength(changes);
  expect(statuses.every((status) => status === 200)).toBe(true);
  expect(lastRevision).toBeGreaterThanOrEqual(changes);
  expect(convergedMs).toBeLessThan(3_000);
  expect([...finalRoutes.keys()].sort()).toEqual([...touchedHosts, 'reviews'].sort());
  expect(lagsMs.at(-1)).toBeLessThan(3_000);
  expect(clientRoutes).toEqual(finalRoutes);
  // No torn config: every request found its route and subset.
  expect(summary.failureKinds).toEqual({});
  expect(new Set(outcomes.map((outcome) => outcome.answer))).toEqual(
    new Set(['reviews-v1-0', 'reviews-v2-0']),
  );
  // Coalescing: far fewer compiles than writes, and revisions only grew.
  expect(watched.applied.length - appliedBefore).toBeLessThan(changes / 2);
  const revisions = watched.applied.map((entry) => entry.revision);
  expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
}
