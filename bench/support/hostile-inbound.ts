/**
 * The inbound server under hostile requests (bad-inputs I4), shared by bench/inbound-hostile.ts
 * (which measures event-loop delay) and test/inbound-hostile-load.test.ts (which counts work per
 * request, never time): a createMeshServer with 20 AuthorizationPolicies, path normalization
 * DECODE_AND_MERGE_SLASHES (the most work per path), and telemetry on — an OpenTelemetry SDK
 * tracer and meter and a JSON access log — and the raw requests that hit it.
 */
import type { RequestListener } from 'node:http';
import { Writable } from 'node:stream';
import { createMesh, type Mesh } from '../../packages/core/src/index.ts';
import { rawRequest } from '../../packages/http/test/support/raw-request.ts';
import { discardingSdk } from './discarding-sdk.ts';
import { BENCH_WORKLOAD, twentyPolicies } from './inbound-policies.ts';

export interface HostileMesh {
  readonly mesh: Mesh;
  /** Access-log lines written so far: one per request that entered the pipeline. */
  readonly logLines: () => number;
  /** The longest access-log line written, in bytes. */
  readonly longestLogLine: () => number;
  close(): Promise<void>;
}

/** The receiving workload: 20 AuthorizationPolicies, DECODE_AND_MERGE_SLASHES, SDK and access log. */
export function hostileMesh(): HostileMesh {
  let lines = 0;
  let longest = 0;
  const accessLog = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const text = chunk.toString();
      for (const line of text.split('\n')) {
        if (line === '') continue;
        lines++;
        longest = Math.max(longest, Buffer.byteLength(line));
      }
      callback();
    },
  });
  const sdk = discardingSdk();
  const mesh = createMesh({
    workload: BENCH_WORKLOAD,
    config: { objects: twentyPolicies() },
    mesh: { pathNormalization: 'DECODE_AND_MERGE_SLASHES' },
    telemetry: {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      accessLog: { stream: accessLog, isEnabledByDefault: true },
    },
  });
  return {
    mesh,
    logLines: () => lines,
    longestLogLine: () => longest,
    async close() {
      mesh.close();
      await sdk.shutdown();
    },
  };
}

/** Answers 200 `ok`; counts what it served. */
export function okHandler(): { handler: RequestListener; served: () => number } {
  let served = 0;
  return {
    handler: (_request, response) => {
      served++;
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      response.end('ok');
    },
    served: () => served,
  };
}

export type HostileKind = 'huge-headers' | 'long-path' | 'oversize-head' | 'small';

/** node's default `maxHeaderSize`: a longer head is refused (431) before any of Weft runs. */
export const MAX_HEAD_BYTES = 16 * 1024;

/**
 * One raw request of `kind` (`Connection: close`), with its status when the server works as it
 * should: 90 headers of 160 bytes (14.5 KiB, under the limits; 200), a 12 KiB path of `//`, `./`,
 * `%2F` and `%2e` for DECODE_AND_MERGE_SLASHES to normalise (200), a head over 16 KiB (431), a
 * small GET (200). All are GETs under /api/ with `x-tenant: acme`, which the last ALLOW admits
 * after every other policy was looked at.
 */
export function hostileRequest(kind: HostileKind, index: number): { bytes: string; expected: number } {
  const lines: string[] = [];
  let target = `/api/items?i=${index}`;
  if (kind === 'long-path') {
    const noise = ['//', '/./', '/%2e/', '%2F', '/x/../'];
    let path = '/api';
    for (let i = 0; path.length < 12 * 1024; i++) path += `${noise[i % noise.length]}seg${i}`;
    target = `${path}/items?i=${index}`;
  }
  if (kind === 'huge-headers') {
    for (let i = 0; i < 90; i++) lines.push(`x-filler-${i}: ${'v'.repeat(145)}`);
  }
  if (kind === 'oversize-head') lines.push(`x-oversize: ${'v'.repeat(MAX_HEAD_BYTES + 512)}`);
  const head = [
    `GET ${target} HTTP/1.1`,
    'Host: bench',
    'x-tenant: acme',
    ...lines,
    'Connection: close',
    '',
    '',
  ];
  return { bytes: head.join('\r\n'), expected: kind === 'oversize-head' ? 431 : 200 };
}

/** Sends `bytes` on a new connection; the status of the answer, or 0 when none came (5 s at most). */
export async function sendRaw(port: number, bytes: string): Promise<number> {
  const answer = await rawRequest(port, bytes);
  return answer === 'closed' ? 0 : answer.status;
}
