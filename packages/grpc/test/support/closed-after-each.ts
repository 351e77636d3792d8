import { createMesh, type Mesh } from '@weft/core';
import { afterEach } from 'vitest';

type Closer = () => Promise<void> | void;
type CreateMeshOptions = Parameters<typeof createMesh>[0];

export interface ClosedAfterEach {
  /** Registers something to close after the test, in reverse order of registration. */
  push(close: Closer): void;
  /** A mesh for workload `name` (namespace default, its own service account, label app), closed after the test. */
  meshOf(name: string, workloads?: CreateMeshOptions['workloads'], extra?: Partial<CreateMeshOptions>): Mesh;
}

/**
 * What a test opens (meshes, servers, clients), closed after each test in the suite (or the
 * `describe` block) this is called in, last opened first.
 */
export function closedAfterEach(): ClosedAfterEach {
  let closers: Closer[] = [];
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    closers = [];
  });
  const push = (close: Closer): void => void closers.push(close);
  return {
    push,
    meshOf(name, workloads = [], extra = {}) {
      const mesh = createMesh({
        workload: { name, namespace: 'default', serviceAccount: name, labels: { app: name } },
        workloads,
        ...extra,
      });
      push(() => mesh.close());
      return mesh;
    },
  };
}
