/**
 * Edge reports (agent-client/edge-reporter.ts, edge-reporting.ts) on a fake clock: every interval
 * what happened since the previous report, quiet intervals, reports that cannot be sent, a report
 * still in flight, ejections and faults from the mesh's events, and the wiring to a mesh.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeMeshEvents } from '../src/agent-client/edge-mesh-events.ts';
import type { EdgeReport } from '../src/agent-client/edge-protocol.ts';
import { EdgeReporter } from '../src/agent-client/edge-reporter.ts';
import { startEdgeReporting } from '../src/agent-client/edge-reporting.ts';
import { call, closeMeshes, edgeMesh, REVIEWS, settled, track } from './support/edge-fixtures.ts';
import { routeRequest, telemetryMesh } from './support/telemetry-fixtures.ts';

afterEach(closeMeshes);

const setUp = edgeMesh;

describe('edge reports on a fake clock', () => {
  function reporterFor(
    fixture: ReturnType<typeof setUp>,
    send: (report: EdgeReport) => Promise<boolean>,
    meshEvents = new EdgeMeshEvents(fixture.mesh),
  ) {
    return new EdgeReporter({
      clock: fixture.clock,
      intervalMs: 5_000,
      aggregator: fixture.aggregator,
      meshEvents,
      source: { app: 'productpage', version: 'v1', service: 'productpage.default.svc.cluster.local' },
      certificate: () => undefined,
      send,
      onError: () => {},
    });
  }

  it('reports every interval what happened since the previous report, and nothing more', async () => {
    const fixture = setUp();
    const reports: EdgeReport[] = [];
    const reporter = reporterFor(fixture, async (report) => {
      reports.push(report);
      return true;
    });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint, durationMs: 2 });
    fixture.clock.advance(4_997);
    expect(reports).toHaveLength(0);
    fixture.clock.advance(1);
    await settled();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      source: { app: 'productpage', version: 'v1' },
      intervalMs: 5_000,
      dropped: { edges: 0, requests: 0, reports: 0 },
      ejections: [],
      faults: [],
    });
    expect(reports[0]?.edges[0]?.requests).toBe(1);

    // Quiet intervals send nothing, except one report in six so that the agent knows.
    for (let tick = 0; tick < 5; tick++) {
      fixture.clock.advance(5_000);
      await settled();
    }
    expect(reports).toHaveLength(1);
    fixture.clock.advance(5_000);
    await settled();
    expect(reports).toHaveLength(2);
    expect(reports[1]?.edges).toEqual([]);
    expect(reports[1]?.intervalMs).toBe(30_000);
    await reporter.close();
    expect(fixture.clock.pendingTimers).toBe(0);
  });

  it('reports at the first tick a stream is open, with nothing to say, and counts no drop before', async () => {
    const fixture = setUp();
    const sent: EdgeReport[] = [];
    let hasStream = false;
    const reporter = reporterFor(fixture, async (report) => {
      if (!hasStream) return false;
      sent.push(report);
      return true;
    });
    await reporter.tick();
    await reporter.tick();
    expect(sent).toHaveLength(0);
    hasStream = true;
    await reporter.tick();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ edges: [], dropped: { edges: 0, requests: 0, reports: 0 } });
    // Then quiet again until the sixth tick.
    for (let tick = 0; tick < 5; tick++) await reporter.tick();
    expect(sent).toHaveLength(1);
    await reporter.tick();
    expect(sent).toHaveLength(2);
    await reporter.close();
  });

  it('drops a report it cannot send and says so in the next one', async () => {
    const fixture = setUp();
    const sent: EdgeReport[] = [];
    let hasStream = false;
    const errors: unknown[] = [];
    const reporter = new EdgeReporter({
      clock: fixture.clock,
      intervalMs: 5_000,
      aggregator: fixture.aggregator,
      meshEvents: new EdgeMeshEvents(fixture.mesh),
      source: { app: 'productpage', version: 'v1' },
      certificate: () => ({
        spiffeId: 'spiffe://cluster.local/ns/default/sa/x',
        notAfter: '2030-01-01T00:00:00.000Z',
      }),
      send: async (report) => {
        if (!hasStream) return false;
        if (sent.length === 0 && errors.length === 0) throw new Error('agent refused');
        sent.push(report);
        return true;
      },
      onError: (error) => errors.push(error),
    });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    await reporter.tick(); // no stream: dropped
    hasStream = true;
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    await reporter.tick(); // refused: dropped, reported as a problem
    expect(errors).toHaveLength(1);
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    await reporter.tick();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.dropped.reports).toBe(2);
    expect(sent[0]?.edges[0]?.requests).toBe(1);
    expect(sent[0]?.certificate?.notAfter).toBe('2030-01-01T00:00:00.000Z');
    await reporter.tick();
    expect(reporter.droppedReports).toBe(0);
    await reporter.close();
  });

  it('leaves the counts for the next report while one is still in flight', async () => {
    const fixture = setUp();
    const sent: EdgeReport[] = [];
    let release: () => void = () => {};
    const reporter = reporterFor(fixture, (report) => {
      sent.push(report);
      return new Promise((resolve) => {
        release = () => resolve(true);
      });
    });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    const first = reporter.tick();
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    expect(reporter.tick()).toBe(first);
    release();
    await first;
    const second = reporter.tick();
    release();
    await second;
    expect(sent.map((report) => report.edges[0]?.requests)).toEqual([1, 2]);
    await reporter.close();
  });

  it('carries the endpoints ejected now and the faults injected per route', async () => {
    const fixture = setUp();
    const reports: EdgeReport[] = [];
    const meshEvents = new EdgeMeshEvents(fixture.mesh);
    const reporter = reporterFor(
      fixture,
      async (report) => {
        reports.push(report);
        return true;
      },
      meshEvents,
    );
    const events = fixture.mesh.events;
    const atMs = fixture.clock.now();
    events.outlier.emit({
      type: 'ejected',
      cluster: `outbound|9080|v2|${REVIEWS}`,
      endpoint: '10.0.0.2:9080',
      reason: 'consecutive-5xx',
      durationMs: 30_000,
      times: 1,
      atMs,
    });
    events.outlier.emit({
      type: 'ejected',
      cluster: `outbound|9080|v2|${REVIEWS}`,
      endpoint: '10.0.0.3:9080',
      reason: 'consecutive-5xx',
      durationMs: 30_000,
      times: 2,
      atMs,
    });
    events.outlier.emit({
      type: 'returned',
      cluster: `outbound|9080|v2|${REVIEWS}`,
      endpoint: '10.0.0.3:9080',
      ejectedForMs: 10,
      atMs,
    });
    events.fault.emit({ type: 'fault-injected', route: 'ratings-abort', httpStatus: 500, atMs });
    events.fault.emit({ type: 'fault-injected', route: 'ratings-abort', httpStatus: 500, atMs });
    events.fault.emit({ type: 'fault-injected', route: 'ratings-delay', delayMs: 7_000, atMs });
    fixture.clock.advance(5_000);
    await settled();
    expect(reports[0]?.ejections).toEqual([
      {
        cluster: `outbound|9080|v2|${REVIEWS}`,
        endpoint: '10.0.0.2:9080',
        reason: 'consecutive-5xx',
        ejectedForMs: 5_000,
        times: 1,
      },
    ]);
    expect(reports[0]?.faults).toEqual([
      { route: 'ratings-abort', delays: 0, aborts: 2, overflows: 0 },
      { route: 'ratings-delay', delays: 1, aborts: 0, overflows: 0 },
    ]);
    // Faults are per interval; an ejection stays until it is returned (or long stale).
    fixture.clock.advance(5_000);
    await settled();
    expect(reports[1]?.faults).toEqual([]);
    expect(reports[1]?.ejections.map((ejection) => ejection.ejectedForMs)).toEqual([10_000]);
    // Its cluster went away without a `returned`: dropped a minute after it could have ended.
    fixture.clock.advance(80_000);
    expect(meshEvents.ejections()).toHaveLength(1);
    fixture.clock.advance(10_001);
    expect(meshEvents.ejections()).toEqual([]);
    await reporter.close();
  });
});

describe('startEdgeReporting', () => {
  it('attaches to the mesh, names the source by its labels and service, and detaches on close', async () => {
    const fixture = track(telemetryMesh());
    const reports: EdgeReport[] = [];
    const reporting = startEdgeReporting(fixture.mesh, {
      options: { intervalMs: 1_000 },
      clock: fixture.clock,
      send: async (report) => {
        reports.push(report);
        return true;
      },
      onError: () => {},
    });
    call(fixture, { cluster: fixture.cluster, endpoint: fixture.endpoint });
    fixture.clock.advance(1_000);
    await settled();
    expect(reports[0]?.source).toEqual({
      app: 'productpage',
      version: 'v1',
      service: 'productpage.default.svc.cluster.local',
    });
    expect(reports[0]?.edges[0]?.destination).toEqual({ service: REVIEWS, version: 'v2' });
    await reporting.close();
    expect(fixture.mesh.telemetry.startClientCall(routeRequest())).toBeUndefined();
    expect(fixture.clock.pendingTimers).toBe(0);
  });

  it('refuses an interval under 100 ms and a maxEdges over 500', () => {
    const fixture = track(telemetryMesh());
    const input = { clock: fixture.clock, send: async () => true, onError: () => {} };
    expect(() => startEdgeReporting(fixture.mesh, { ...input, options: { intervalMs: 10 } })).toThrow(
      RangeError,
    );
    expect(() => startEdgeReporting(fixture.mesh, { ...input, options: { maxEdges: 501 } })).toThrow(
      RangeError,
    );
  });
});
