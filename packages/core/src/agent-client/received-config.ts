import type { RegisteredWorkload } from '../registry/workload.ts';
import type { ResourceRef, RevisionMark, StoredResource, WatchFrame } from './protocol.ts';
import { protocolError } from './watch-frame.ts';

/** Everything the agent sent, as of one mark: what is applied, persisted and resumed from. */
export interface ConfigRecord {
  readonly mark: RevisionMark;
  readonly resources: readonly StoredResource[];
  readonly workloads: readonly RegisteredWorkload[];
}

type SnapshotFrame = Extract<WatchFrame, { type: 'snapshot' }>;
type DeltaFrame = Extract<WatchFrame, { type: 'delta' }>;

/**
 * The client's copy of the agent's truth: a snapshot replaces it, deltas edit it in order. It
 * runs ahead of what the mesh serves when a revision is refused (NACK), because the agent's next
 * delta builds on what it sent, not on what the client accepted.
 */
export class ReceivedConfig {
  #mark: RevisionMark | undefined;
  readonly #resources = new Map<string, StoredResource>();
  readonly #workloads = new Map<string, RegisteredWorkload>();

  /** A copy of `record`, or an empty config with no mark (a first connect). */
  static from(record: ConfigRecord | undefined): ReceivedConfig {
    const config = new ReceivedConfig();
    if (record !== undefined) config.#fill(record.mark, record.resources, record.workloads);
    return config;
  }

  get mark(): RevisionMark | undefined {
    return this.#mark;
  }

  get resourceCount(): number {
    return this.#resources.size;
  }

  replace(frame: SnapshotFrame): void {
    this.#resources.clear();
    this.#workloads.clear();
    this.#fill(frame.mark, frame.resources, frame.workloads);
  }

  /**
   * Applies a delta on top of the current mark. A delta that does not follow it (no snapshot
   * yet, another epoch, an older revision) is a protocol error: the caller resyncs.
   */
  applyDelta(frame: DeltaFrame): void {
    const current = this.#mark;
    if (current === undefined) throw protocolError('a delta arrived before any snapshot');
    if (frame.mark.epoch !== current.epoch)
      throw protocolError(`a delta of epoch ${frame.mark.epoch} arrived on epoch ${current.epoch}`);
    // An equal revision is harmless (upserts and deletes are idempotent); an older one is not.
    if (frame.mark.revision < current.revision) {
      throw protocolError(
        `a delta at revision ${frame.mark.revision} arrived after revision ${current.revision}`,
      );
    }
    for (const ref of frame.deletes) this.#resources.delete(refKey(ref));
    for (const resource of frame.upserts) this.#resources.set(storedKey(resource), resource);
    for (const workload of frame.workloadDeletes) this.#workloads.delete(workloadKey(workload));
    for (const workload of frame.workloadUpserts) this.#workloads.set(workloadKey(workload), workload);
    this.#mark = frame.mark;
  }

  /** Moves the mark on without a change (the agent says nothing this client sees changed). */
  advanceTo(mark: RevisionMark): void {
    this.#mark = mark;
  }

  /** A frozen record of the current state; throws if no snapshot was ever received. */
  toRecord(): ConfigRecord {
    if (this.#mark === undefined) throw new Error('no snapshot received yet');
    return Object.freeze({
      mark: this.#mark,
      resources: Object.freeze([...this.#resources.values()]),
      workloads: Object.freeze([...this.#workloads.values()]),
    });
  }

  #fill(
    mark: RevisionMark,
    resources: readonly StoredResource[],
    workloads: readonly RegisteredWorkload[],
  ): void {
    this.#mark = mark;
    for (const resource of resources) this.#resources.set(storedKey(resource), resource);
    for (const workload of workloads) this.#workloads.set(workloadKey(workload), workload);
  }
}

/** `Kind/namespace/name`, as resourceKey() names parsed resources. */
export function storedKey(resource: StoredResource): string {
  return `${resource.kind}/${resource.metadata.namespace}/${resource.metadata.name}`;
}

function refKey(ref: ResourceRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

function workloadKey(workload: { readonly namespace: string; readonly name: string }): string {
  return `${workload.namespace}/${workload.name}`;
}

/** Whether two marks name the same revision of the same store. */
export function sameMark(a: RevisionMark | undefined, b: RevisionMark | undefined): boolean {
  return a !== undefined && b !== undefined && a.epoch === b.epoch && a.revision === b.revision;
}

export function markLabel(mark: RevisionMark): string {
  return `${mark.epoch}/${mark.revision}`;
}
