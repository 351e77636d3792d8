/**
 * Chaos, upstream endpoints (issue 10): ten real reviews endpoints on 127.0.0.1 behind a caller's
 * meshed undici dispatcher, under closed-loop load, while one of them crashes (a child process
 * SIGKILLed), hangs (the fault proxy black-holes it) or answers 503 half the time; while all of
 * them fail at once (panic threshold); and while all of them fail under a retry-happy route (the
 * retry budget). Each scenario asserts what was lost and bounds the recovery; the figures go
 * into the annotation (and $WEFT_CHAOS_FIGURES).
 *
 * The caller's config is static (no agent): the control plane is not the subject here, and the
 * agent chaos is in chaos-agent.test.ts. Related package tests, small-scale and not repeated:
 * packages/http/test/bad-inputs-backend.test.ts C1 (reset), C2 (hang), C5 (ejection, panic),
 * C7 (a burst held by the budget).
 */
import {
  DEFAULT_RETRY_BUDGET,
  type OutlierEvent,
  type RegisteredWorkload,
  type RetryEvent,
} from '@weft/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startUpstream, type Upstream } from '../packages/http/test/support/upstream.ts';
import {
  between,
  cleanups,
  destinationRuleYaml,
  isSuccess,
  joinYaml,
  meshDispatcher,
  recordFigures,
  runCleanups,
  sleep,
  startLoad,
  staticCallerMesh,
  summarize,
  timeUntil,
  virtualServiceYaml,
  workloadOf,
} from './support/chaos.ts';
import { killChildren, startUpstreamChild } from './support/child.ts';
import { FaultProxy, seededUnit } from './support/fault-proxy.ts';

afterEach(async () => {
  await runCleanups();
  await killChildren();
});

const URL = 'http://reviews:9080/reviews/1';

async function upstreams(count: number): Promise<Upstream[]> {
  const started: Upstream[] = [];
  for (let index = 0; index < count; index++) {
    const upstream = await startUpstream(`reviews-${index}`);
    cleanups.push(() => upstream.close());
    started.push(upstream);
  }
  return started;
}

function workloadsAt(ports: readonly (readonly [string, number])[]): RegisteredWorkload[] {
  return ports.map(([name, port]) => workloadOf('reviews', name, port));
}

/**
 * Retries on what a sick endpoint gives, and outlier detection that may eject one in ten. The
 * budget has room for every loop's retry at once (minRetryConcurrency = the load's concurrency),
 * so that a loaded machine cannot turn a crash into budget refusals; what the default budget
 * costs is measured in the hang scenario.
 */
function resilient(perTryTimeout = ''): string {
  return joinYaml(
    virtualServiceYaml(
      'reviews',
      `timeout: 3s
retries: { attempts: 2, ${perTryTimeout === '' ? '' : `perTryTimeout: ${perTryTimeout}, `}retryOn: "5xx,reset,connect-failure,gateway-error" }`,
    ),
    destinationRuleYaml(
      'reviews',
      `loadBalancer: { simple: ROUND_ROBIN }
outlierDetection: { consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 10 }
retryBudget: { minRetryConcurrency: 8 }`,
    ),
  );
}

/** The same, with the default retry budget. */
const withDefaultBudget = (yaml: string) => yaml.replace('\n    retryBudget: { minRetryConcurrency: 8 }', '');

function recordOutliers(
  mesh: ReturnType<typeof staticCallerMesh>,
): (OutlierEvent & { readonly seenAtMs: number })[] {
  const events: (OutlierEvent & { readonly seenAtMs: number })[] = [];
  const dispose = mesh.events.outlier.on((event) => events.push({ ...event, seenAtMs: performance.now() }));
  cleanups.push(dispose);
  return events;
}

function recordRetries(mesh: ReturnType<typeof staticCallerMesh>): RetryEvent[] {
  const events: RetryEvent[] = [];
  cleanups.push(mesh.events.retry.on((event) => events.push(event)));
  return events;
}

describe('chaos: one of ten endpoints goes bad under load (retries + outlier detection)', () => {
  it('crashes (SIGKILL): no request is lost, and the dead endpoint is ejected within a few requests', async ({
    annotate,
  }) => {
    const healthy = await upstreams(9);
    const doomed = await startUpstreamChild(['reviews-9']);
    const mesh = staticCallerMesh(
      resilient(),
      workloadsAt([...healthy.map((upstream) => [upstream.name, upstream.port] as const), ...doomed.ports]),
    );
    const outliers = recordOutliers(mesh);
    const retries = recordRetries(mesh);
    const load = startLoad(meshDispatcher(mesh), URL, { concurrency: 8, maxMs: 20_000 });
    await sleep(500);
    expect(load.outcomes.some((outcome) => outcome.answer === 'reviews-9')).toBe(true);

    const crashedAtMs = performance.now();
    await doomed.child.kill();
    const ejectedMs = await timeUntil(() => outliers.some((event) => event.type === 'ejected'), 5_000);
    await sleep(700);
    const outcomes = await load.stop();
    const summary = summarize(outcomes);
    const afterCrash = between(outcomes, crashedAtMs + 50);

    await recordFigures(annotate, 'one of ten endpoints crashes', {
      ...summary,
      crashToEjectedMs: Math.round(ejectedMs ?? -1),
      afterCrashP99Ms: summarize(afterCrash).p99Ms,
      refusedRetries: retries
        .filter((event) => event.type === 'retry-refused')
        .map((event) => `${event.condition}:${event.reason}`),
    });
    expect(summary.failureKinds).toEqual({});
    expect(summary.requests).toBeGreaterThan(200);
    expect(outliers.filter((event) => event.type === 'ejected').map((event) => event.endpoint)).toEqual([
      `127.0.0.1:${doomed.ports.get('reviews-9')}`,
    ]);
    expect(ejectedMs).toBeLessThan(1_000);
    expect(afterCrash.some((outcome) => outcome.answer === 'reviews-9')).toBe(false);
    expect(summarize(afterCrash).p99Ms).toBeLessThan(1_000);
  }, 30_000);

  /**
   * What the default budget costs here: every loop soon waits on the hung endpoint (one request
   * in ten goes there), so their per-try timeouts fire together and want retries together. The
   * concurrency budget allows max(3, 20% of active) at once, Envoy's rule, so a few of those
   * requests may end 504 UT after one per-try timeout. With `retryBudget.minRetryConcurrency`
   * at the caller's concurrency, none is lost (second half of the test).
   */
  it('hangs (accepts, never answers): retries go elsewhere after the per-try timeout, it is ejected, and only budget refusals are lost', async ({
    annotate,
  }) => {
    const all = await upstreams(10);
    const sick = all[9] as Upstream;
    const proxy = await FaultProxy.start({ targetPort: sick.port });
    cleanups.push(() => proxy.close());
    const workloads = workloadsAt([
      ...all.slice(0, 9).map((upstream) => [upstream.name, upstream.port] as const),
      ['reviews-9', proxy.port],
    ]);
    const CONCURRENCY = 8;
    const PER_TRY_MS = 300;

    const hangOnce = async (yaml: string) => {
      proxy.heal({ dropOpen: true });
      const mesh = staticCallerMesh(yaml, workloads);
      const outliers = recordOutliers(mesh);
      const retries = recordRetries(mesh);
      const load = startLoad(meshDispatcher(mesh), URL, { concurrency: CONCURRENCY, maxMs: 20_000 });
      await sleep(500);
      const servedBefore = sick.heads;
      const hungAtMs = performance.now();
      proxy.blackholeAll(); // its keep-alive connections stall, new ones are accepted and never answered
      const ejectedMs = await timeUntil(() => outliers.some((event) => event.type === 'ejected'), 5_000);
      await sleep(700);
      const bytesAtEnd = proxy.connections.reduce((sum, connection) => sum + connection.bytesFromClient, 0);
      await sleep(300);
      const bytesLater = proxy.connections.reduce((sum, connection) => sum + connection.bytesFromClient, 0);
      const outcomes = await load.stop();
      return { outcomes, outliers, retries, servedBefore, hungAtMs, ejectedMs, bytesAtEnd, bytesLater };
    };
    expect(withDefaultBudget(resilient())).not.toContain('retryBudget');
    const defaultRun = await hangOnce(withDefaultBudget(resilient(`${PER_TRY_MS}ms`)));
    const roomyRun = await hangOnce(resilient(`${PER_TRY_MS}ms`));

    const refusals = (run: typeof defaultRun) =>
      run.retries.filter((event) => event.type === 'retry-refused' && event.reason === 'budget-exhausted')
        .length;
    const afterHang = between(defaultRun.outcomes, defaultRun.hungAtMs);
    await recordFigures(annotate, 'one of ten endpoints hangs', {
      ...summarize(defaultRun.outcomes),
      hangToEjectedMs: Math.round(defaultRun.ejectedMs ?? -1),
      afterHangP99Ms: summarize(afterHang).p99Ms,
      afterHangMaxMs: summarize(afterHang).maxMs,
      budgetRefusals: refusals(defaultRun),
      roomyBudget: summarize(roomyRun.outcomes),
      roomyHangToEjectedMs: Math.round(roomyRun.ejectedMs ?? -1),
    });
    for (const run of [defaultRun, roomyRun]) {
      expect(run.servedBefore).toBeGreaterThan(0);
      expect(run.outliers.filter((event) => event.type === 'ejected').map((event) => event.endpoint)).toEqual(
        [`127.0.0.1:${proxy.port}`],
      );
      // Three timed-out attempts (possibly in parallel) then ejection.
      expect(run.ejectedMs).toBeLessThan(2_000);
      // A request that met the hung endpoint paid one per-try timeout, never the route's 3 s.
      expect(summarize(between(run.outcomes, run.hungAtMs)).maxMs).toBeLessThan(PER_TRY_MS + 1_000);
      // Ejected: nothing more is sent its way.
      expect(run.bytesLater).toBe(run.bytesAtEnd);
    }
    // Default budget: what was lost is at most the requests past the concurrency floor of 3, each
    // a 504 UT with its refusal on record.
    const lost = defaultRun.outcomes.filter((outcome) => !isSuccess(outcome));
    expect(lost.length).toBeLessThanOrEqual(CONCURRENCY - 3);
    expect(lost.every((outcome) => outcome.status === 504 && outcome.flags === 'UT')).toBe(true);
    expect(refusals(defaultRun)).toBeGreaterThanOrEqual(lost.length);
    // Budget with room for every loop: nothing lost.
    expect(summarize(roomyRun.outcomes).failureKinds).toEqual({});
    expect(refusals(roomyRun)).toBe(0);
  }, 30_000);

  it('answers 503 half the time: retries lift the success rate from ~95% to 100%, and outlier detection ejects it', async ({
    annotate,
  }) => {
    const all = await upstreams(10);
    const flaky = all[9] as Upstream;
    const coin = seededUnit(2_026);
    flaky.behave(() => (coin() < 0.5 ? { kind: 'respond', status: 503 } : { kind: 'respond' }));
    const workloads = workloadsAt(all.map((upstream) => [upstream.name, upstream.port] as const));

    // Control: the same fault with neither retries nor outlier detection. It must show.
    const bare = staticCallerMesh(
      joinYaml(
        virtualServiceYaml('reviews', 'retries: { attempts: 0 }'),
        destinationRuleYaml('reviews', 'loadBalancer: { simple: ROUND_ROBIN }'),
      ),
      workloads,
    );
    const control = summarize(
      await startLoad(meshDispatcher(bare), URL, { concurrency: 8, maxRequests: 1_000 }).finished(),
    );

    const mesh = staticCallerMesh(resilient(), workloads);
    const outliers = recordOutliers(mesh);
    const retries = recordRetries(mesh);
    const startedAtMs = performance.now();
    const outcomes = await startLoad(meshDispatcher(mesh), URL, {
      concurrency: 8,
      maxRequests: 2_000,
    }).finished();
    const summary = summarize(outcomes);
    const ejected = outliers.find((event) => event.type === 'ejected');

    await recordFigures(annotate, 'one of ten endpoints answers 503 half the time', {
      ...summary,
      controlSuccessRate: control.successRate,
      retriesScheduled: retries.filter((event) => event.type === 'retry-scheduled').length,
      startToEjectedMs: ejected === undefined ? -1 : Math.round(ejected.seenAtMs - startedAtMs),
    });
    expect(control.successRate).toBeGreaterThan(0.9);
    expect(control.successRate).toBeLessThan(0.99);
    expect(summary.failureKinds).toEqual({});
    expect(summary.successRate).toBe(1);
    expect(ejected?.endpoint).toBe(`127.0.0.1:${flaky.port}`);
    expect(outliers.filter((event) => event.type === 'ejected')).toHaveLength(1); // the 10% cap
  }, 30_000);
});

describe('chaos: every endpoint is ejected at once (panic threshold)', () => {
  const failingTogether = (outlier: string) =>
    joinYaml(
      virtualServiceYaml('reviews', 'retries: { attempts: 0 }'),
      destinationRuleYaml(
        'reviews',
        `loadBalancer: { simple: ROUND_ROBIN }
outlierDetection: { consecutive5xxErrors: 2, interval: 200ms, baseEjectionTime: 1s, maxEjectionPercent: 100${outlier} }`,
      ),
    );

  async function allFailThenHeal(yaml: string) {
    const all = await upstreams(10);
    let isFailing = false;
    for (const upstream of all)
      upstream.behave(() => (isFailing ? { kind: 'respond', status: 503 } : { kind: 'respond' }));
    const mesh = staticCallerMesh(
      yaml,
      workloadsAt(all.map((upstream) => [upstream.name, upstream.port] as const)),
    );
    const outliers = recordOutliers(mesh);
    const load = startLoad(meshDispatcher(mesh), URL, { concurrency: 8, maxMs: 20_000 });
    await sleep(300);
    const failedAtMs = performance.now();
    isFailing = true;
    await sleep(1_500);
    const healedAtMs = performance.now();
    isFailing = false;
    const recoveredMs = await timeUntil(
      () => load.outcomes.some((outcome) => outcome.startMs > healedAtMs && isSuccess(outcome)),
      5_000,
    );
    // Fully recovered: a full second of nothing but 200s, within the bound.
    const steadyMs = await timeUntil(() => {
      const recent = between(load.outcomes, performance.now() - 500);
      return recent.length > 20 && recent.every(isSuccess);
    }, 6_000);
    const outcomes = await load.stop();
    return { outcomes, outliers, failedAtMs, healedAtMs, recoveredMs, steadyMs };
  }

  it('with minHealthPercent 50: panic spreads load over every endpoint (no "no healthy upstream"), and recovery is immediate', async ({
    annotate,
  }) => {
    const run = await allFailThenHeal(failingTogether(', minHealthPercent: 50'));
    const during = between(run.outcomes, run.failedAtMs + 100).filter(
      (outcome) => outcome.endMs < run.healedAtMs,
    );

    await recordFigures(annotate, 'all endpoints ejected, panic threshold 50%', {
      ...summarize(run.outcomes),
      ejections: run.outliers.filter((event) => event.type === 'ejected').length,
      healToFirstSuccessMs: Math.round(run.recoveredMs ?? -1),
      healToSteadyMs: Math.round(run.steadyMs ?? -1),
    });
    expect(run.outliers.filter((event) => event.type === 'ejected').length).toBeGreaterThanOrEqual(5);
    // Every request still reached an upstream: its own 503, never UH.
    expect(during.length).toBeGreaterThan(50);
    expect(during.every((outcome) => outcome.status === 503 && outcome.flags === '')).toBe(true);
    expect(run.recoveredMs).toBeLessThan(200);
    expect(run.steadyMs).toBeLessThan(1_500);
  }, 30_000);

  it('without a panic threshold (Istio default): fails fast with 503 UH while all are ejected, and recovers when the ejections end', async ({
    annotate,
  }) => {
    const run = await allFailThenHeal(failingTogether(''));
    const during = between(run.outcomes, run.failedAtMs + 300).filter(
      (outcome) => outcome.endMs < run.healedAtMs,
    );
    const unhealthy = during.filter((outcome) => outcome.flags === 'UH');

    await recordFigures(annotate, 'all endpoints ejected, no panic threshold', {
      ...summarize(run.outcomes),
      ejections: run.outliers.filter((event) => event.type === 'ejected').length,
      answeredUh: unhealthy.length,
      healToFirstSuccessMs: Math.round(run.recoveredMs ?? -1),
      healToSteadyMs: Math.round(run.steadyMs ?? -1),
    });
    // All ten ejected; those back after 1 s and still failing are ejected again (for 2 s).
    expect(
      new Set(run.outliers.filter((event) => event.type === 'ejected').map((event) => event.endpoint)).size,
    ).toBe(10);
    expect(unhealthy.length).toBeGreaterThan(during.length / 2);
    // Answered by the mesh itself (UH), at once: no upstream, no timeout (generous for a busy machine).
    expect(
      unhealthy.every((outcome) => outcome.status === 503 && outcome.endMs - outcome.startMs < 500),
    ).toBe(true);
    // Bounded by the ejection: 1 s base (the second ejection doubles it), swept every 200 ms.
    expect(run.recoveredMs).toBeLessThan(2 * 1_000 + 200 + 500);
    expect(run.steadyMs).toBeLessThan(2 * 1_000 + 200 + 1_500);
  }, 30_000);
});

describe('chaos: a retry storm against a degraded dependency', () => {
  it('the default budget holds retries near 20% of requests (plus its floor) while every endpoint fails, and lets them through again once healed', async ({
    annotate,
  }) => {
    const all = await upstreams(10);
    let isFailing = true;
    for (const upstream of all)
      upstream.behave(() => (isFailing ? { kind: 'respond', status: 503 } : { kind: 'respond' }));
    const mesh = staticCallerMesh(
      joinYaml(
        virtualServiceYaml('reviews', 'retries: { attempts: 5, retryOn: 5xx }'),
        destinationRuleYaml('reviews', 'loadBalancer: { simple: ROUND_ROBIN }'),
      ),
      workloadsAt(all.map((upstream) => [upstream.name, upstream.port] as const)),
    );
    const retries = recordRetries(mesh);
    const heads = () => all.reduce((sum, upstream) => sum + upstream.heads, 0);
    const startedAtMs = performance.now();
    const storm = await startLoad(meshDispatcher(mesh), URL, { concurrency: 16, maxMs: 2_000 }).finished();
    const stormSeconds = (performance.now() - startedAtMs) / 1_000;
    const upstreamDuringStorm = heads();

    isFailing = false;
    const healed = await startLoad(meshDispatcher(mesh), URL, {
      concurrency: 4,
      maxRequests: 200,
    }).finished();

    const rate = DEFAULT_RETRY_BUDGET.rate;
    const ratio = rate?.ratio ?? 0;
    // The rate budget's floor: minRetriesPerSecond over the window the storm lasted (≤ its TTL).
    const floor = (rate?.minRetriesPerSecond ?? 0) * Math.min(stormSeconds, (rate?.ttlMs ?? 0) / 1_000);
    const bound = (1 + ratio) * storm.length + floor;
    await recordFigures(annotate, 'retry storm held by the budget', {
      requests: storm.length,
      upstreamRequests: upstreamDuringStorm,
      amplification: Number((upstreamDuringStorm / storm.length).toFixed(3)),
      bound: Math.round(bound),
      unboundedWouldBe: storm.length * 6,
      refusedByBudget: retries.filter(
        (event) => event.type === 'retry-refused' && event.reason === 'budget-exhausted',
      ).length,
      healedSuccessRate: summarize(healed).successRate,
    });
    expect(storm.length).toBeGreaterThan(200);
    expect(storm.every((outcome) => outcome.status === 503)).toBe(true);
    expect(upstreamDuringStorm).toBeLessThanOrEqual(bound);
    expect(
      retries.some((event) => event.type === 'retry-refused' && event.reason === 'budget-exhausted'),
    ).toBe(true);
    // The budget is not a breaker: once the dependency is healthy, nothing is refused.
    expect(summarize(healed).failureKinds).toEqual({});
  }, 30_000);
});
