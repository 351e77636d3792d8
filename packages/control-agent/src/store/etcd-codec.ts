import type { RegisteredWorkload, ResourceRef, StoredResource } from '@weft/core';
import type { IKeyValue } from 'etcd3';
import { frozenJsonCopy } from './json-value.ts';
import { StoreCorruptError } from './store-errors.ts';
import { resourceKey, workloadKey } from './store-keys.ts';

/**
 * How the mesh is laid out in etcd, under one prefix (default `/weft`):
 *   <prefix>/meta/epoch                       the store's epoch (a random UUID)
 *   <prefix>/resources/<kind>/<ns>/<name>     a resource, JSON, without resourceVersion
 *   <prefix>/workloads/<ns>/<name>            { workload, ttlMs }, JSON, attached to its lease
 *   <prefix>/records/<name>                   an agent-private record (CA state…), JSON; not watched
 *   <prefix>/agents/<id>                      an agent's { id, url }, JSON, attached to its lease (peers/)
 * resourceVersion is the key's mod_revision, so it is never stored and never stale.
 */
export class EtcdLayout {
  readonly prefix: string;
  readonly epochKey: Buffer;
  readonly resourcesPrefix: string;
  readonly workloadsPrefix: string;
  readonly recordsPrefix: string;

  constructor(prefix: string) {
    if (!prefix.startsWith('/') || prefix.endsWith('/')) {
      throw new RangeError(
        `an etcd prefix starts with '/' and does not end with one, got ${JSON.stringify(prefix)}`,
      );
    }
    this.prefix = prefix;
    this.epochKey = Buffer.from(`${prefix}/meta/epoch`);
    this.resourcesPrefix = `${prefix}/resources/`;
    this.workloadsPrefix = `${prefix}/workloads/`;
    this.recordsPrefix = `${prefix}/records/`;
  }

  resourceKey(ref: ResourceRef): Buffer {
    return Buffer.from(this.resourcesPrefix + resourceKey(ref));
  }

  workloadKey(namespace: string, name: string): Buffer {
    return Buffer.from(this.workloadsPrefix + workloadKey(namespace, name));
  }

  /** An agent-private record: classified as `other`, so the watch never turns it into an event. */
  recordKey(name: string): Buffer {
    return Buffer.from(this.recordsPrefix + name);
  }

  /** Everything the store owns: `[<prefix>/, <prefix>0)`. */
  get all(): { readonly key: Buffer; readonly range_end: Buffer } {
    return prefixRange(`${this.prefix}/`);
  }

  get resources(): { readonly key: Buffer; readonly range_end: Buffer } {
    return prefixRange(this.resourcesPrefix);
  }

  get workloads(): { readonly key: Buffer; readonly range_end: Buffer } {
    return prefixRange(this.workloadsPrefix);
  }

  /** What a key under the prefix names. */
  classify(
    key: Buffer,
  ):
    | { readonly type: 'epoch' }
    | { readonly type: 'resource'; readonly ref: ResourceRef }
    | { readonly type: 'workload'; readonly namespace: string; readonly name: string }
    | { readonly type: 'other' } {
    if (key.equals(this.epochKey)) return { type: 'epoch' };
    const text = key.toString('utf8');
    if (text.startsWith(this.resourcesPrefix)) {
      const [kind, namespace, name, ...rest] = text.slice(this.resourcesPrefix.length).split('/');
      if (kind !== undefined && namespace !== undefined && name !== undefined && rest.length === 0) {
        return { type: 'resource', ref: { kind, namespace, name } };
      }
    } else if (text.startsWith(this.workloadsPrefix)) {
      const [namespace, name, ...rest] = text.slice(this.workloadsPrefix.length).split('/');
      if (namespace !== undefined && name !== undefined && rest.length === 0) {
        return { type: 'workload', namespace, name };
      }
    }
    return { type: 'other' };
  }
}

export function encodeResource(resource: StoredResource): Buffer {
  const { resourceVersion: _dropped, ...metadata } = resource.metadata;
  return Buffer.from(JSON.stringify({ ...resource, metadata }));
}

export function decodeResource(kv: IKeyValue): StoredResource {
  const value = parseJson(kv) as Partial<StoredResource>;
  if (typeof value.kind !== 'string' || typeof value.metadata !== 'object' || value.metadata === null) {
    throw new StoreCorruptError(`etcd key ${kv.key.toString()} does not hold a Weft resource`);
  }
  return frozenJsonCopy({
    ...value,
    metadata: { ...value.metadata, resourceVersion: kv.mod_revision },
  } as StoredResource);
}

export interface EtcdWorkloadValue {
  readonly workload: RegisteredWorkload;
  readonly ttlMs: number;
}

export function encodeWorkload(value: EtcdWorkloadValue): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function decodeWorkload(kv: IKeyValue): RegisteredWorkload {
  const value = parseJson(kv) as Partial<EtcdWorkloadValue>;
  if (typeof value.workload !== 'object' || value.workload === null) {
    throw new StoreCorruptError(`etcd key ${kv.key.toString()} does not hold a Weft workload`);
  }
  return frozenJsonCopy(value.workload);
}

function parseJson(kv: IKeyValue): unknown {
  try {
    return JSON.parse(kv.value.toString('utf8'));
  } catch (error) {
    throw new StoreCorruptError(`etcd key ${kv.key.toString()} does not hold JSON`, { cause: error });
  }
}

function prefixRange(prefix: string): { readonly key: Buffer; readonly range_end: Buffer } {
  const key = Buffer.from(prefix);
  const end = Buffer.from(key);
  // The prefix ends in '/', never 0xff: incrementing the last byte is the range end.
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  return { key, range_end: end };
}
