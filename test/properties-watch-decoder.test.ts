/**
 * Property-based tests of the watch protocol decoder (issue 10): the NDJSON framing
 * (packages/core/src/agent-client/ndjson-lines.ts) over raw bytes, and the frame reader
 * (watch-frame.ts) over arbitrary text and JSON, over well-formed frames and over frames with
 * one thing wrong; and the whole decoding path — bytes cut anywhere, lines, frames, the received
 * config — against a model of what the agent meant to send. Seeds: support/properties.ts.
 * Inputs that once broke something: corpus/watch-stream/, replayed by corpus-replay.test.ts.
 *
 * Already covered in the package (not repeated): client-stream-parsing.test.ts (chunking of
 * valid UTF-8 lines, one cap example, seven refused frames, delta ordering).
 */
import type { RegisteredWorkload, StoredResource, WatchFrame } from '@weft/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AGENT_CLIENT_DEFAULTS } from '../packages/core/src/agent-client/agent-client-options.ts';
import { NdjsonLines } from '../packages/core/src/agent-client/ndjson-lines.ts';
import { ReceivedConfig, storedKey } from '../packages/core/src/agent-client/received-config.ts';
import {
  AgentProtocolError,
  isMark,
  parseWatchFrame,
} from '../packages/core/src/agent-client/watch-frame.ts';
import { ErrorCodes, WeftError } from '../packages/core/src/errors/weft-error.ts';
import { runs } from './support/properties.ts';

/** Cuts `bytes` at the given offsets (any numbers; reduced modulo the length, sorted, deduplicated). */
function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const points = [...new Set(offsets.map((offset) => offset % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** The reference: split the whole byte string on LF, decode each complete line, drop blank ones. */
function referenceLines(bytes: Buffer): { readonly lines: string[]; readonly longestLine: number } {
  const lines: string[] = [];
  let longestLine = 0;
  let start = 0;
  for (;;) {
    const newline = bytes.indexOf(10, start);
    const end = newline === -1 ? bytes.length : newline;
    longestLine = Math.max(longestLine, end - start);
    if (newline === -1) break;
    const line = bytes.subarray(start, newline).toString('utf8');
    if (line.trim() !== '') lines.push(line);
    start = newline + 1;
  }
  return { lines, longestLine };
}

/** Bytes that make framing interesting: LF, CR, spaces, NUL, UTF-8 lead and continuation bytes. */
const streamBytes = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 255 }) },
      { weight: 2, arbitrary: fc.constantFrom(10, 13, 32, 0, 0x7b, 0x22) },
      { weight: 1, arbitrary: fc.constantFrom(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff) },
    ),
    { maxLength: 300 },
  )
  .map((values) => Buffer.from(values));

describe('NdjsonLines over raw bytes', () => {
  it('gives exactly the reference lines, however the bytes are cut, or refuses a line past the cap with a WeftError', () => {
    fc.assert(
      fc.property(
        streamBytes,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 120 }),
        (bytes, offsets, maxLineBytes) => {
          const reference = referenceLines(bytes);
          const splitter = new NdjsonLines(maxLineBytes);
          const seen: string[] = [];
          let refusal: unknown;
          try {
            for (const chunk of cut(bytes, offsets)) seen.push(...splitter.push(chunk));
          } catch (error) {
            refusal = error;
          }
          if (reference.longestLine > maxLineBytes) {
            // Refused, as a limit, and never after yielding a line that came after the long one.
            expect(refusal).toBeInstanceOf(WeftError);
            expect((refusal as WeftError).code).toBe(ErrorCodes.configLimit);
            expect(reference.lines.slice(0, seen.length)).toEqual(seen);
          } else {
            expect(refusal).toBeUndefined();
            expect(seen).toEqual(reference.lines);
          }
        },
      ),
      runs(500),
    );
  });
});

// ---- frames -------------------------------------------------------------------------------------

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);
const namespace = fc.constantFrom('default', 'bookinfo', 'istio-system');
const mark = fc.record({
  epoch: fc.string({ minLength: 1, maxLength: 12 }),
  revision: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
});

const resource: fc.Arbitrary<StoredResource> = fc.record({
  apiVersion: fc.constant('networking.istio.io/v1'),
  kind: fc.constantFrom('VirtualService', 'DestinationRule', 'ServiceEntry'),
  metadata: fc.record({
    name,
    namespace,
    creationTimestamp: fc.constant('2026-01-01T00:00:00Z'),
    resourceVersion: fc.nat().map(String),
    generation: fc.integer({ min: 1, max: 50 }),
    uid: fc.uuid(),
  }),
  spec: fc.jsonValue({ maxDepth: 3 }),
});

const workload: fc.Arbitrary<RegisteredWorkload> = fc.record({
  name,
  namespace,
  service: name,
  serviceAccount: name,
  labels: fc.dictionary(fc.constantFrom('app', 'version'), name),
  address: fc.ipV4(),
  ports: fc.constant({ 9080: 9080 }),
});

const ref = fc.record({ kind: fc.constantFrom('VirtualService', 'DestinationRule'), namespace, name });

const frame: fc.Arbitrary<WatchFrame> = fc.oneof(
  fc.record({
    type: fc.constant('snapshot' as const),
    mark,
    resources: fc.array(resource, { maxLength: 4 }),
    workloads: fc.array(workload, { maxLength: 3 }),
  }),
  fc.record({
    type: fc.constant('delta' as const),
    mark,
    upserts: fc.array(resource, { maxLength: 3 }),
    deletes: fc.array(ref, { maxLength: 3 }),
    workloadUpserts: fc.array(workload, { maxLength: 2 }),
    workloadDeletes: fc.array(fc.record({ namespace, name }), { maxLength: 2 }),
  }),
  fc.record({
    type: fc.constant('heartbeat' as const),
    mark,
    heartbeatMs: fc.integer({ min: 1, max: 600_000 }),
  }),
);

/** Runs the reader: the frame, or the error it threw. */
function read(line: string): { readonly frame?: WatchFrame; readonly error?: unknown } {
  try {
    return { frame: parseWatchFrame(line) };
  } catch (error) {
    return { error };
  }
}

/** Everything the reader accepts is a frame the client can use without checking again. */
function expectUsable(parsed: WatchFrame): void {
  expect(isMark(parsed.mark)).toBe(true);
  switch (parsed.type) {
    case 'snapshot':
      expect(Array.isArray(parsed.resources) && Array.isArray(parsed.workloads)).toBe(true);
      for (const item of parsed.resources) expect(typeof storedKey(item)).toBe('string');
      break;
    case 'delta':
      for (const list of [parsed.upserts, parsed.deletes, parsed.workloadUpserts, parsed.workloadDeletes]) {
        expect(Array.isArray(list)).toBe(true);
      }
      break;
    case 'heartbeat':
      expect(parsed.heartbeatMs).toBeGreaterThan(0);
      break;
  }
}

describe('parseWatchFrame', () => {
  it('answers any text with a usable frame or an AgentProtocolError, never another error', () => {
    const jsonish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
      frame.map((valid) => JSON.stringify(valid).slice(0, -1)), // truncated
    );
    fc.assert(
      fc.property(jsonish, (line) => {
        const { frame: parsed, error } = read(line);
        if (error !== undefined) expect(error).toBeInstanceOf(AgentProtocolError);
        else expectUsable(parsed as WatchFrame);
      }),
      runs(1_000),
    );
  });

  it('reads every well-formed frame back exactly as it was written', () => {
    fc.assert(
      fc.property(frame, (written) => {
        const parsed = parseWatchFrame(JSON.stringify(written));
        expect(parsed).toEqual(written);
        expectUsable(parsed);
      }),
      runs(300),
    );
  });

  it('refuses a well-formed frame with one required field removed or of the wrong type', () => {
    const wrongValue = fc.constantFrom<unknown>(null, 7, 'x', true, [], {}, -1, 1.5);
    fc.assert(
      fc.property(frame, fc.nat(), wrongValue, (written, pick, replacement) => {
        const required = {
          snapshot: ['mark', 'resources', 'workloads'],
          delta: ['mark', 'upserts', 'deletes', 'workloadUpserts', 'workloadDeletes'],
          heartbeat: ['mark', 'heartbeatMs'],
        }[written.type];
        const field = required[pick % required.length] as string;
        const broken: Record<string, unknown> = { ...written };
        const isRemoval = pick % 2 === 0;
        if (isRemoval) delete broken[field];
        else broken[field] = replacement;
        const stillValid =
          !isRemoval &&
          ((field === 'heartbeatMs' && typeof replacement === 'number' && replacement > 0) ||
            (field !== 'mark' && field !== 'heartbeatMs' && Array.isArray(replacement)));
        const { error } = read(JSON.stringify(broken));
        if (stillValid) expect(error).toBeUndefined();
        else expect(error).toBeInstanceOf(AgentProtocolError);
      }),
      runs(500),
    );
  });
});

// ---- the whole decoding path against a model ------------------------------------------------------

type Operation =
  | { readonly kind: 'upsert'; readonly resource: StoredResource }
  | { readonly kind: 'delete'; readonly index: number }
  | { readonly kind: 'register'; readonly workload: RegisteredWorkload }
  | { readonly kind: 'deregister'; readonly index: number }
  | { readonly kind: 'heartbeat' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('upsert' as const), resource }),
  fc.record({ kind: fc.constant('delete' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('register' as const), workload }),
  fc.record({ kind: fc.constant('deregister' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('heartbeat' as const) }),
);

describe('the decoding path: bytes → lines → frames → received config', () => {
  it('ends with exactly what the agent meant to send, however the stream is cut, and grouped into deltas', () => {
    fc.assert(
      fc.property(
        fc.array(resource, { maxLength: 4 }),
        fc.array(operation, { maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.boolean(), { maxLength: 25 }),
        (initial, operations, offsets, boundaries) => {
          // The model: the agent's truth after each operation.
          const resources = new Map(initial.map((item) => [storedKey(item), item]));
          const workloads = new Map<string, RegisteredWorkload>();
          let revision = 1;
          const frames: WatchFrame[] = [
            {
              type: 'snapshot',
              mark: { epoch: 'e', revision },
              resources: [...resources.values()],
              workloads: [],
            },
          ];
          let pending = {
            upserts: [] as StoredResource[],
            deletes: [] as { kind: string; namespace: string; name: string }[],
            workloadUpserts: [] as RegisteredWorkload[],
            workloadDeletes: [] as { namespace: string; name: string }[],
          };
          const flush = () => {
            revision += 1;
            frames.push({ type: 'delta', mark: { epoch: 'e', revision }, ...pending });
            pending = { upserts: [], deletes: [], workloadUpserts: [], workloadDeletes: [] };
          };
          operations.forEach((step, index) => {
            if (step.kind === 'upsert') {
              resources.set(storedKey(step.resource), step.resource);
              pending.deletes = pending.deletes.filter(
                (item) => `${item.kind}/${item.namespace}/${item.name}` !== storedKey(step.resource),
              );
              pending.upserts.push(step.resource);
            } else if (step.kind === 'delete') {
              const victim = [...resources.values()][step.index % Math.max(1, resources.size)];
              if (victim !== undefined) {
                resources.delete(storedKey(victim));
                pending.upserts = pending.upserts.filter((item) => storedKey(item) !== storedKey(victim));
                pending.deletes.push({
                  kind: victim.kind,
                  namespace: victim.metadata.namespace,
                  name: victim.metadata.name,
                });
              }
            } else if (step.kind === 'register') {
              const key = `${step.workload.namespace}/${step.workload.name}`;
              workloads.set(key, step.workload);
              pending.workloadDeletes = pending.workloadDeletes.filter(
                (item) => `${item.namespace}/${item.name}` !== key,
              );
              pending.workloadUpserts.push(step.workload);
            } else if (step.kind === 'deregister') {
              const victim = [...workloads.values()][step.index % Math.max(1, workloads.size)];
              if (victim !== undefined) {
                const key = `${victim.namespace}/${victim.name}`;
                workloads.delete(key);
                pending.workloadUpserts = pending.workloadUpserts.filter(
                  (item) => `${item.namespace}/${item.name}` !== key,
                );
                pending.workloadDeletes.push({ namespace: victim.namespace, name: victim.name });
              }
            } else {
              frames.push({ type: 'heartbeat', mark: { epoch: 'e', revision }, heartbeatMs: 5_000 });
            }
            if (boundaries[index] === true) flush();
          });
          flush();

          // The wire: NDJSON, cut anywhere; the client: lines, frames, the received config.
          const bytes = Buffer.from(frames.map((item) => `${JSON.stringify(item)}\n`).join(''), 'utf8');
          const lines = new NdjsonLines(AGENT_CLIENT_DEFAULTS.maxFrameBytes);
          const received = ReceivedConfig.from(undefined);
          for (const chunk of cut(bytes, offsets)) {
            for (const line of lines.push(chunk)) {
              const parsed = parseWatchFrame(line);
              if (parsed.type === 'snapshot') received.replace(parsed);
              else if (parsed.type === 'delta') received.applyDelta(parsed);
              else received.advanceTo(parsed.mark);
            }
          }
          const record = received.toRecord();
          expect(record.mark).toEqual({ epoch: 'e', revision });
          const byKey = <T>(items: readonly T[], key: (item: T) => string) =>
            new Map(items.map((item) => [key(item), item]));
          expect(byKey(record.resources, storedKey)).toEqual(resources);
          expect(byKey(record.workloads, (item) => `${item.namespace}/${item.name}`)).toEqual(workloads);
        },
      ),
      runs(300),
    );
  });
});

describe('finding: heartbeat intervals the client cannot time', () => {
  /**
   * FINDING (fails today): parseWatchFrame accepts any positive heartbeatMs, 1e999 (Infinity)
   * and 1e9 included, and the client arms its stall timer at heartbeatMs × 3 (agent-client.ts
   * #stallTimeoutMs). Node's setTimeout turns a delay past 2^31 − 1 ms (or Infinity) into 1 ms
   * (TimeoutOverflowWarning), so after such a heartbeat the client calls the stream stalled one
   * millisecond after each chunk, and reconnects in a loop. An agent configured with
   * `heartbeatMs` ≥ 715,827,883 (createAgent accepts any positive number) does this to every
   * client. Fix: refuse (or cap) a heartbeatMs whose stall timeout does not fit a timer, in the
   * frame reader or where the client arms the timer; the agent could refuse such a heartbeatMs
   * too. The end-to-end check is test/finding-heartbeat-overflow.test.ts.
   */
  it('every heartbeat the reader accepts gives a stall timeout that fits a timer', () => {
    fc.assert(
      fc.property(mark, fc.double({ min: 1, noNaN: true }), (at, heartbeatMs) => {
        const { frame: parsed } = read(JSON.stringify({ type: 'heartbeat', mark: at, heartbeatMs }));
        if (parsed?.type !== 'heartbeat') return;
        expect(parsed.heartbeatMs * AGENT_CLIENT_DEFAULTS.heartbeatMultiplier).toBeLessThanOrEqual(
          0x7fff_ffff,
        );
      }),
      runs(200, [[{ epoch: 'e', revision: 1 }, 1e9]]),
    );
  });
});
