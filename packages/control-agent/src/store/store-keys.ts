import {
  ConfigValidationError,
  type RegisteredWorkload,
  type ResourceRef,
  type StoredResource,
} from '@weft/core';

/**
 * Identity of what the store holds. A resource is `kind/namespace/name`, a workload
 * `namespace/name`; both stores build their keys from these parts, so a part may not be empty
 * or contain `/` (it would make another key) or control characters.
 */

export function checkStoreName(what: string, value: unknown, resource: string): string {
  if (typeof value !== 'string' || value === '' || hasForbiddenCharacter(value) || value.length > 253) {
    throw new ConfigValidationError([
      {
        severity: 'error',
        code: 'invalid-store-key',
        resource,
        path: what,
        message: `${what} must be a non-empty string of at most 253 characters without '/' or control characters, got ${JSON.stringify(value)}`,
        location: { file: '<store>' },
      },
    ]);
  }
  return value;
}

function hasForbiddenCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code === 0x2f || code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

export function checkResourceRef(ref: ResourceRef): ResourceRef {
  const label = `${String(ref.kind)}/${String(ref.namespace)}/${String(ref.name)}`;
  return {
    kind: checkStoreName('kind', ref.kind, label),
    namespace: checkStoreName('metadata.namespace', ref.namespace, label),
    name: checkStoreName('metadata.name', ref.name, label),
  };
}

/** A registration's names and lease TTL. */
export function checkWorkload(workload: Pick<RegisteredWorkload, 'namespace' | 'name'>, ttlMs: number): void {
  const label = `${String(workload?.namespace)}/${String(workload?.name)}`;
  checkStoreName('namespace', workload?.namespace, label);
  checkStoreName('name', workload?.name, label);
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ConfigValidationError([
      {
        severity: 'error',
        code: 'invalid-lease-ttl',
        resource: label,
        path: 'ttlMs',
        message: `a lease TTL must be a positive number of milliseconds, got ${String(ttlMs)}`,
        location: { file: '<store>' },
      },
    ]);
  }
}

export function refOf(resource: {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
}): ResourceRef {
  return { kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name };
}

export function resourceKey(ref: ResourceRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export function workloadKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Stable order for lists: by kind, namespace, name (code-unit order, as etcd sorts keys). */
export function compareResources(a: StoredResource, b: StoredResource): number {
  return compareStrings(resourceKey(refOf(a)), resourceKey(refOf(b)));
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
