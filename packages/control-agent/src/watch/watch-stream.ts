import type { ServerResponse } from 'node:http';
import type { Clock, RevisionMark, TimerHandle, TrustBundle } from '@weft/core';
import { type ClientRecord, type ClientRegistry, sameMark } from '../clients/client-registry.ts';
import type { MeshCache } from '../mesh-view/mesh-cache.ts';
import type { EncodedFrame, FrameMemo } from './frame-memo.ts';
import { encodeFrame, heartbeatFrame } from './frames.ts';
import type { TrustBundleFeed } from './trust-bundle-feed.ts';

export interface StreamSettings {
  readonly clock: Clock;
  readonly heartbeatMs: number;
  readonly coalesceWindowMs: number;
  readonly stalledClientMs: number;
  /** The CA's trust bundle, sent on heartbeats (PROTOCOL.md §3.2); none on agents without a CA. */
  readonly trustBundle?: TrustBundleFeed;
}

export interface StreamParts {
  readonly record: ClientRecord;
  readonly response: ServerResponse;
  readonly cache: MeshCache;
  readonly memo: FrameMemo;
  readonly clients: ClientRegistry;
  readonly settings: StreamSettings;
  /** The client asked for the trust bundle (`trustBundle=true` on its watch: PROTOCOL.md §3.1). */
  readonly wantsTrustBundle?: boolean;
}

/**
 * One client's watch: what it has been sent (`synced`, the mark its view is current to) and when
 * it may be sent more. A stream holds no queue of its own: whatever changed since `synced` is read
 * from the view's shared history when the stream is pumped, so a burst of changes, or a client
 * whose socket is full, costs no memory per change — they simply become one larger delta
 * (coalescing), or a snapshot once the history no longer reaches back (too far behind).
 *
 * A stream is pumped when the view changes, when its socket drains, and when its coalescing
 * window ends. It pushes at once unless it pushed less than `coalesceWindowMs` ago or its socket
 * has not drained since the last push.
 */
export class WatchStream {
  readonly record: ClientRecord;
  readonly #response: ServerResponse;
  readonly #cache: MeshCache;
  readonly #memo: FrameMemo;
  readonly #clients: ClientRegistry;
  readonly #settings: StreamSettings;
  #synced: RevisionMark | undefined;
  /** B6: while the view stays at the revision this client NACKed, it is not sent again. */
  #nackHoldRevision: number | undefined;
  #holdUntilMs = Number.NEGATIVE_INFINITY;
  #holdTimer: TimerHandle | undefined;
  #heartbeatTimer: TimerHandle | undefined;
  #blockedSinceMs: number | undefined;
  readonly #wantsTrustBundle: boolean;
  /** The version of the trust bundle this stream has been sent. */
  #sentBundleVersion: string | undefined;
  #isClosed = false;

  constructor(parts: StreamParts) {
    this.record = parts.record;
    this.#response = parts.response;
    this.#cache = parts.cache;
    this.#memo = parts.memo;
    this.#clients = parts.clients;
    this.#settings = parts.settings;
    this.#wantsTrustBundle = parts.wantsTrustBundle === true;
    this.#response.on('drain', () => this.#onDrain());
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /**
   * Writes the first frame: a delta when `resume` can be served from history, a heartbeat when
   * the client is already current (or holds everything but a revision it NACKed), else a snapshot.
   */
  start(resume: RevisionMark | undefined): void {
    const current = this.#cache.mark;
    if (resume !== undefined && this.#cache.canResumeFrom(resume)) this.#synced = resume;
    const nacked = this.record.lastNacked?.mark;
    if (
      this.#synced !== undefined &&
      nacked !== undefined &&
      sameMark(nacked, current) &&
      this.#synced.revision < current.revision
    ) {
      this.#nackHoldRevision = current.revision;
    }
    if (!this.pump()) this.#writeHeartbeat();
    this.sendTrustBundle();
  }

  /** Writes a heartbeat carrying the trust bundle if this client has not been sent its current version. */
  sendTrustBundle(): void {
    if (this.#isClosed || this.#blockedSinceMs !== undefined) return;
    if (this.#unsentTrustBundle() !== undefined) this.#writeHeartbeat();
  }

  /** The trust bundle, when this client wants it and has not been sent this version yet. */
  #unsentTrustBundle(): TrustBundle | undefined {
    if (!this.#wantsTrustBundle) return undefined;
    const bundle = this.#settings.trustBundle?.current();
    return bundle !== undefined && bundle.version !== this.#sentBundleVersion ? bundle : undefined;
  }

  /** The view was replaced: the next push is a snapshot. */
  requireSnapshot(): void {
    this.#synced = undefined;
    this.#nackHoldRevision = undefined;
  }

  /** Sends what the client lacks, if it may be sent now; true when a frame was written. */
  pump(): boolean {
    if (this.#isClosed || this.#blockedSinceMs !== undefined) return false;
    const current = this.#cache.mark;
    const synced = this.#synced;
    if (synced === undefined || synced.epoch !== current.epoch) {
      return this.#write(this.#memo.snapshot(this.record.namespace));
    }
    if (synced.revision === current.revision) return false;
    if (this.#nackHoldRevision !== undefined) {
      if (current.revision <= this.#nackHoldRevision) return false;
      this.#nackHoldRevision = undefined;
    }
    const now = this.#settings.clock.now();
    if (now < this.#holdUntilMs) {
      this.#armHold(now);
      return false;
    }
    const delta = this.#memo.delta(this.record.namespace, synced.revision);
    if (delta === undefined) return this.#write(this.#memo.snapshot(this.record.namespace));
    if (delta === null) {
      // Nothing this client can see changed: it is current at the new mark without a frame (its
      // next heartbeat says so), and in sync at it once it has acked what it was sent.
      this.#synced = current;
      this.#clients.recordUnchanged(this.record, synced, current);
      return false;
    }
    return this.#write(delta);
  }

  /** Ends the stream; `abrupt` destroys the socket (a stalled client whose buffer is full). */
  close(abrupt = false): void {
    if (this.#isClosed) return;
    this.dispose();
    if (abrupt) this.#response.destroy();
    else this.#response.end();
  }

  /** Stops timers; called when the response closes, whoever closed it. */
  dispose(): void {
    this.#isClosed = true;
    if (this.#holdTimer !== undefined) this.#settings.clock.clearTimeout(this.#holdTimer);
    if (this.#heartbeatTimer !== undefined) this.#settings.clock.clearTimeout(this.#heartbeatTimer);
    this.#holdTimer = undefined;
    this.#heartbeatTimer = undefined;
  }

  #write(frame: EncodedFrame): boolean {
    const isWritten = this.#response.write(frame.line);
    const now = this.#settings.clock.now();
    if (frame.type !== 'heartbeat') {
      this.#synced = frame.mark;
      this.#holdUntilMs = now + this.#settings.coalesceWindowMs;
      this.#clients.recordSent(this.record, frame.mark, frame.type);
    }
    this.#armHeartbeat(this.#settings.heartbeatMs);
    if (!isWritten) {
      this.#blockedSinceMs = now;
      this.record.isBackpressured = true;
    }
    return true;
  }

  /** Asks the client for its compiled view (a heartbeat flagged `configDumpRequested`). */
  requestConfigDump(): boolean {
    if (this.#isClosed || this.#blockedSinceMs !== undefined) return false;
    this.#writeHeartbeat(true);
    return true;
  }

  #writeHeartbeat(isConfigDumpRequested = false): void {
    const mark = this.#synced ?? this.#cache.mark;
    const unsent = this.#unsentTrustBundle();
    const frame = heartbeatFrame(mark, this.#settings.heartbeatMs, isConfigDumpRequested, unsent);
    this.#write({ type: 'heartbeat', mark, line: encodeFrame(frame) });
    if (unsent !== undefined) this.#sentBundleVersion = unsent.version;
  }

  #onDrain(): void {
    if (this.#blockedSinceMs === undefined) return;
    this.#blockedSinceMs = undefined;
    this.record.isBackpressured = false;
    this.pump();
  }

  #armHold(now: number): void {
    if (this.#holdTimer !== undefined) return;
    this.#holdTimer = this.#settings.clock.setTimeout(() => {
      this.#holdTimer = undefined;
      this.pump();
    }, this.#holdUntilMs - now);
  }

  #armHeartbeat(delayMs: number): void {
    if (this.#heartbeatTimer !== undefined) this.#settings.clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = this.#settings.clock.setTimeout(() => this.#onHeartbeatDue(), delayMs);
  }

  #onHeartbeatDue(): void {
    this.#heartbeatTimer = undefined;
    if (this.#isClosed) return;
    if (this.#blockedSinceMs !== undefined) {
      const blockedMs = this.#settings.clock.now() - this.#blockedSinceMs;
      if (blockedMs >= this.#settings.stalledClientMs) {
        // The client reads nothing: let it go, so it reconnects and resumes (or snapshots).
        this.close(true);
        return;
      }
      this.#armHeartbeat(Math.min(this.#settings.heartbeatMs, this.#settings.stalledClientMs - blockedMs));
      return;
    }
    this.#writeHeartbeat();
  }
}
