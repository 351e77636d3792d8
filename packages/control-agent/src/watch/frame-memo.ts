import type { RevisionMark, WatchFrame } from '@weft/core';
import type { MeshCache } from '../mesh-view/mesh-cache.ts';
import { composeDelta, composeSnapshot, encodeFrame } from './frames.ts';
import type { ScopeOptions } from './visibility.ts';

/** An encoded frame to write, with what it carries for bookkeeping. */
export interface EncodedFrame {
  readonly type: WatchFrame['type'];
  readonly mark: RevisionMark;
  readonly line: string;
}

/**
 * Frames composed and encoded once per (namespace, from, to) and shared by every client that
 * needs the same one: after a change, the clients of one namespace usually all stand at the same
 * revision, so a push to a thousand of them serializes one delta, not a thousand. Entries are
 * only valid for the view's current mark; the memo is cleared whenever the view moves.
 */
export class FrameMemo {
  readonly #cache: MeshCache;
  readonly #scope: ScopeOptions;
  readonly #frames = new Map<string, EncodedFrame | null>();

  constructor(cache: MeshCache, scope: ScopeOptions) {
    this.#cache = cache;
    this.#scope = scope;
  }

  clear(): void {
    this.#frames.clear();
  }

  snapshot(namespace: string): EncodedFrame {
    const key = `s ${namespace}`;
    let frame = this.#frames.get(key);
    if (frame === undefined || frame === null) {
      const composed = composeSnapshot(this.#cache, namespace, this.#scope);
      frame = { type: 'snapshot', mark: composed.mark, line: encodeFrame(composed) };
      this.#frames.set(key, frame);
    }
    return frame;
  }

  /**
   * The delta from `fromRevision` to the current mark; `null` when nothing visible changed,
   * `undefined` when the history no longer reaches `fromRevision` (a snapshot is needed).
   */
  delta(namespace: string, fromRevision: number): EncodedFrame | null | undefined {
    const key = `d ${namespace} ${fromRevision}`;
    const memoized = this.#frames.get(key);
    if (memoized !== undefined) return memoized;
    const changes = this.#cache.changesSince(fromRevision);
    if (changes === undefined) return undefined;
    // A Sidecar that scopes this namespace changed what its clients import: send everything anew.
    for (const key of changes.keys()) {
      if (
        key.startsWith(`r:Sidecar/${namespace}/`) ||
        key.startsWith(`r:Sidecar/${this.#scope.rootNamespace}/`)
      ) {
        return undefined;
      }
    }
    const composed = composeDelta(this.#cache, changes, namespace, this.#scope);
    const frame =
      composed === undefined
        ? null
        : { type: 'delta' as const, mark: composed.mark, line: encodeFrame(composed) };
    this.#frames.set(key, frame);
    return frame;
  }
}
