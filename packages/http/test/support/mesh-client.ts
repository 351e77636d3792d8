import type { Readable } from 'node:stream';
import {
  type CreateMeshOptions,
  createMesh,
  type Mesh,
  type RegisteredWorkload,
  seededRandom,
} from '@weft/core';
import { type Dispatcher, request } from 'undici';
import { createMeshDispatcher, RESPONSE_FLAGS_HEADER } from '../../src/index.ts';
import { type MeshEvents, recordEvents } from './events.ts';

export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The response body, or undefined when reading it failed (`bodyError` says how). */
  readonly body: string | undefined;
  readonly bodyError: Error | undefined;
  /** The mesh's response flags, split; empty when the response carries none. */
  readonly flags: readonly string[];
  /** Who answered (`x-upstream`), when an upstream did. */
  readonly upstream: string | undefined;
}

export interface CallOptions {
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: string | Readable;
  readonly signal?: AbortSignal;
}

/** One request through a meshed dispatcher; a broken response body is reported, not thrown. */
export async function call(
  dispatcher: Dispatcher,
  url: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const response = await request(url, {
    dispatcher,
    method: options.method ?? 'GET',
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  let body: string | undefined;
  let bodyError: Error | undefined;
  try {
    body = await response.body.text();
  } catch (error) {
    bodyError = error as Error;
  }
  const flags = response.headers[RESPONSE_FLAGS_HEADER];
  const upstream = response.headers['x-upstream'];
  return {
    status: response.statusCode,
    headers: response.headers,
    body,
    bodyError,
    flags: typeof flags === 'string' ? flags.split(',') : [],
    upstream: typeof upstream === 'string' ? upstream : undefined,
  };
}

/** createMesh's options other than the caller, its config and its workloads, which meshClient sets. */
export interface MeshClientOptions
  extends Omit<CreateMeshOptions, 'workload' | 'config' | 'workloads' | 'random'> {
  /** Seeds the mesh's randomness (weights, fault percentages, jitter); 7 unless given. */
  readonly seed?: number;
}

/** The productpage caller: a mesh, its undici dispatcher, and every event it reported. */
export interface MeshClient {
  readonly mesh: Mesh;
  readonly dispatcher: Dispatcher;
  /** Recorded from the mesh's creation until `close()`. */
  readonly events: MeshEvents;
  get(url: string, headers?: Record<string, string>): Promise<CallResult>;
  send(url: string, options: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

/** A caller workload (productpage v1) with a mesh over the given workloads and YAML. */
export function meshClient(
  yaml: string,
  workloads: readonly RegisteredWorkload[],
  { seed = 7, ...options }: MeshClientOptions = {},
): MeshClient {
  const mesh = createMesh({
    workload: {
      name: 'productpage-v1',
      namespace: 'default',
      serviceAccount: 'productpage',
      labels: { app: 'productpage', version: 'v1' },
    },
    config: { yaml },
    workloads,
    random: seededRandom(seed),
    ...options,
  });
  const dispatcher = createMeshDispatcher(mesh);
  const events = recordEvents(mesh);
  const send: MeshClient['send'] = (url, callOptions) => call(dispatcher, url, callOptions);
  return {
    mesh,
    dispatcher,
    events,
    get: (url, headers) => send(url, headers === undefined ? {} : { headers }),
    send,
    async close() {
      events.stop();
      await dispatcher.close();
      mesh.close();
    },
  };
}
