/**
 * The agent client's own parsing of the watch stream, without an agent: NDJSON framing across
 * arbitrary chunk boundaries, frame shape checks, delta ordering, and status-report coalescing.
 * The behaviour against a real agent is in client-watch.test.ts.
 */
import type { ClientStatusReport, RegisteredWorkload, StoredResource } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NdjsonLines } from '../../core/src/agent-client/ndjson-lines.ts';
import { ReceivedConfig } from '../../core/src/agent-client/received-config.ts';
import { type PendingReport, StatusReporter } from '../../core/src/agent-client/status-reporter.ts';
import { AgentProtocolError, parseWatchFrame } from '../../core/src/agent-client/watch-frame.ts';

const epoch = 'e1';

function resource(name: string, resourceVersion = '1'): StoredResource {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: {
      name,
      namespace: 'default',
      creationTimestamp: '2025-01-01T00:00:00Z',
      resourceVersion,
      generation: 1,
      uid: `uid-${name}`,
    },
    spec: { hosts: [name] },
  };
}

function workload(name: string): RegisteredWorkload {
  return {
    name,
    namespace: 'default',
    service: 'reviews',
    serviceAccount: 'reviews',
    labels: { app: 'reviews' },
    address: '127.0.0.1',
    ports: { 9080: 9080 },
  };
}

describe('NDJSON framing', () => {
  it('yields the same lines however the bytes are chunked, multi-byte characters included', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 40 }).map((text) => text.replace(/\n/g, ' '));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.map((text) => `${text}\n`).join(''), 'utf8');
        const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
        const splitter = new NdjsonLines(1024);
        const seen: string[] = [];
        let start = 0;
        for (const offset of [...offsets, bytes.length]) {
          seen.push(...splitter.push(bytes.subarray(start, offset)));
          start = offset;
        }
        expect(seen).toEqual(lines.filter((text) => text.trim() !== ''));
      }),
    );
  });

  it('refuses a line longer than the cap before buffering all of it', () => {
    const splitter = new NdjsonLines(16);
    expect(splitter.push(Buffer.from('0123456789'))).toEqual([]);
    expect(() => splitter.push(Buffer.from('0123456789'))).toThrow(/exceeds 16 bytes/);
  });
});

describe('watch frames', () => {
  it.each([
    ['not JSON', '{"type":'],
    ['an array', '[]'],
    ['an unknown type', '{"type":"gossip","mark":{"epoch":"e","revision":1}}'],
    ['no mark', '{"type":"heartbeat","heartbeatMs":5}'],
    ['a negative revision', '{"type":"heartbeat","heartbeatMs":5,"mark":{"epoch":"e","revision":-1}}'],
    ['a snapshot without workloads', '{"type":"snapshot","mark":{"epoch":"e","revision":1},"resources":[]}'],
    [
      'a resource without a name',
      '{"type":"snapshot","mark":{"epoch":"e","revision":1},"resources":[{"kind":"X","metadata":{"namespace":"a"}}],"workloads":[]}',
    ],
  ])('refuses %s as a protocol error', (_, line) => {
    expect(() => parseWatchFrame(line)).toThrow(AgentProtocolError);
  });

  it('reads a well-formed delta', () => {
    const frame = parseWatchFrame(
      JSON.stringify({
        type: 'delta',
        mark: { epoch, revision: 3 },
        upserts: [resource('a')],
        deletes: [{ kind: 'VirtualService', namespace: 'default', name: 'b' }],
        workloadUpserts: [],
        workloadDeletes: [{ namespace: 'default', name: 'w' }],
      }),
    );
    expect(frame.type).toBe('delta');
  });
});

describe('the received config', () => {
  const snapshot = {
    type: 'snapshot' as const,
    mark: { epoch, revision: 5 },
    resources: [resource('a'), resource('b')],
    workloads: [workload('w1')],
  };
  const delta = (revision: number, deltaEpoch = epoch) => ({
    type: 'delta' as const,
    mark: { epoch: deltaEpoch, revision },
    upserts: [resource('a', '2')],
    deletes: [{ kind: 'VirtualService', namespace: 'default', name: 'b' }],
    workloadUpserts: [workload('w2')],
    workloadDeletes: [{ namespace: 'default', name: 'w1' }],
  });

  it('applies deltas in order on top of a snapshot', () => {
    const config = ReceivedConfig.from(undefined);
    config.replace(snapshot);
    config.applyDelta(delta(6));
    const record = config.toRecord();
    expect(record.mark).toEqual({ epoch, revision: 6 });
    expect(record.resources.map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`)).toEqual(['a@2']);
    expect(record.workloads.map((w) => w.name)).toEqual(['w2']);
  });

  it('refuses a delta before any snapshot, on another epoch, or older than what it holds', () => {
    expect(() => ReceivedConfig.from(undefined).applyDelta(delta(6))).toThrow(AgentProtocolError);
    const config = ReceivedConfig.from(undefined);
    config.replace(snapshot);
    expect(() => config.applyDelta(delta(6, 'e2'))).toThrow(/epoch e2/);
    expect(() => config.applyDelta(delta(4))).toThrow(/revision 4 arrived after revision 5/);
    expect(config.toRecord().resources).toHaveLength(2);
  });
});

describe('status reports', () => {
  it('keeps only the newest ACK and the newest NACK while one is in flight, and sends them in revision order', async () => {
    const sent: ClientStatusReport[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reporter = new StatusReporter(
      async ({ report }) => {
        sent.push(report);
        await gate;
      },
      (error) => {
        throw error;
      },
    );
    const report = (revision: number, status: 'ack' | 'nack'): PendingReport => ({
      agent: 'a',
      streamToken: 't',
      report: { clientId: 'c', mark: { epoch, revision }, status },
    });
    reporter.report(report(1, 'ack')); // in flight
    reporter.report(report(2, 'ack'));
    reporter.report(report(3, 'nack'));
    reporter.report(report(4, 'ack'));
    reporter.report(report(5, 'nack'));
    release();
    await reporter.idle();
    expect(sent.map((r) => `${r.mark.revision}:${r.status}`)).toEqual(['1:ack', '4:ack', '5:nack']);
  });
});
