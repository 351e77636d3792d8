import { randomBytes } from 'node:crypto';
import type { RevisionMark } from '@weft/core';

/** What the agent knows about one client (one `clientId`), connected or not. */
export interface ClientRecord {
  readonly clientId: string;
  namespace: string;
  workload: string;
  protocolVersion: number;
  isConnected: boolean;
  /** Wall-clock ms of the last sign of life: connect, frame written, status report, disconnect. */
  lastSeenMs: number;
  /** The mark of the last snapshot or delta written to the client. */
  lastSent: RevisionMark | undefined;
  /**
   * The newest mark at which what this client is sent is still what it was at `lastSent`: later
   * changes concerned other clients only (scoping, PROTOCOL.md §3.6), so no frame carried them.
   * Every revision from `lastSent` to this one gives the client the same view.
   */
  unchangedThrough: RevisionMark | undefined;
  lastAcked: RevisionMark | undefined;
  lastNacked: { readonly mark: RevisionMark; readonly error: string; readonly atMs: number } | undefined;
  ackCount: number;
  nackCount: number;
  snapshotCount: number;
  deltaCount: number;
  /** Whether the client's socket is full and pushes to it are being coalesced. */
  isBackpressured: boolean;
  configDump: unknown;
  /** The revision the client's view was at when it sent `configDump`. */
  configDumpMark: RevisionMark | undefined;
  /** Names the client's current watch stream; status reports must carry it (bad-inputs B9). */
  streamToken: string;
  /** Who opened the current (or last) stream: its credential, and the identity a workload's proved. */
  watcher: Watcher;
}

/**
 * Who opened a watch stream. A clientId is free text the client picks; a workload's credential
 * ties the stream to an identity (PROTOCOL.md §3.1). `open`: the agent has no admin token and asked
 * for nothing (development mode).
 */
export type Watcher =
  | { readonly credential: 'admin' | 'open' }
  | { readonly credential: 'join-token' | 'svid'; readonly spiffeId: string };

const OPEN_WATCHER: Watcher = Object.freeze({ credential: 'open' });

/** The sync state `weft proxy-status` prints, as istioctl names it. */
export type SyncStatus = 'SYNCED' | 'NACKED' | 'STALE' | 'NOT SENT';

/**
 * Every client the agent has heard of, bounded: past `maxKnown` records the one disconnected
 * longest ago is forgotten (connected clients are never dropped).
 */
export class ClientRegistry {
  readonly #records = new Map<string, ClientRecord>();
  readonly #maxKnown: number;
  readonly #wallClock: () => number;
  #totalAcks = 0;
  #totalNacks = 0;

  constructor(maxKnown: number, wallClock: () => number) {
    this.#maxKnown = Math.max(1, maxKnown);
    this.#wallClock = wallClock;
  }

  get(clientId: string): ClientRecord | undefined {
    return this.#records.get(clientId);
  }

  list(): readonly ClientRecord[] {
    return [...this.#records.values()].sort((a, b) => (a.clientId < b.clientId ? -1 : 1));
  }

  get totals(): { readonly acks: number; readonly nacks: number } {
    return { acks: this.#totalAcks, nacks: this.#totalNacks };
  }

  /** A watch opened: the record is created, or refreshed keeping its ACK/NACK history. */
  connect(
    clientId: string,
    namespace: string,
    workload: string,
    protocolVersion: number,
    watcher: Watcher = OPEN_WATCHER,
  ): ClientRecord {
    const now = this.#wallClock();
    // Unguessable, and new for every stream: a report for an earlier stream of the same client
    // is refused too, which costs nothing (the next revision's report brings the agent up to date).
    const streamToken = randomBytes(18).toString('base64url');
    let record = this.#records.get(clientId);
    if (record === undefined) {
      record = {
        clientId,
        namespace,
        workload,
        protocolVersion,
        isConnected: true,
        lastSeenMs: now,
        lastSent: undefined,
        unchangedThrough: undefined,
        lastAcked: undefined,
        lastNacked: undefined,
        ackCount: 0,
        nackCount: 0,
        snapshotCount: 0,
        deltaCount: 0,
        isBackpressured: false,
        configDump: undefined,
        configDumpMark: undefined,
        streamToken,
        watcher,
      };
      this.#records.set(clientId, record);
      this.#evict();
    } else {
      // Re-inserted so that map order stays "least recently connected first" for eviction.
      this.#records.delete(clientId);
      this.#records.set(clientId, record);
      Object.assign(record, {
        namespace,
        workload,
        protocolVersion,
        isConnected: true,
        lastSeenMs: now,
        streamToken,
        watcher,
      });
    }
    return record;
  }

  disconnect(record: ClientRecord): void {
    record.isConnected = false;
    record.isBackpressured = false;
    record.lastSeenMs = this.#wallClock();
  }

  recordSent(record: ClientRecord, mark: RevisionMark, type: 'snapshot' | 'delta'): void {
    record.lastSent = mark;
    record.unchangedThrough = mark;
    record.lastSeenMs = this.#wallClock();
    if (type === 'snapshot') record.snapshotCount += 1;
    else record.deltaCount += 1;
  }

  /**
   * The view moved from `from` to `to` and nothing this client is sent changed in between (its
   * stream wrote no frame). Taken only when `from` is a revision the client is known to hold the
   * view of — between `lastSent` and `unchangedThrough` —, so that the chain from the last frame
   * stays unbroken; a stream that resumed from elsewhere proves nothing about that frame.
   */
  recordUnchanged(record: ClientRecord, from: RevisionMark, to: RevisionMark): void {
    const sent = record.lastSent;
    const through = record.unchangedThrough;
    if (sent === undefined || through === undefined) return;
    if (from.epoch !== sent.epoch || to.epoch !== sent.epoch) return;
    if (from.revision < sent.revision || from.revision > through.revision) return;
    if (to.revision > through.revision) record.unchangedThrough = to;
  }

  recordAck(record: ClientRecord, mark: RevisionMark): void {
    record.lastAcked = mark;
    record.ackCount += 1;
    record.lastSeenMs = this.#wallClock();
    this.#totalAcks += 1;
  }

  recordNack(record: ClientRecord, mark: RevisionMark, error: string): void {
    const now = this.#wallClock();
    record.lastNacked = { mark, error, atMs: now };
    record.nackCount += 1;
    record.lastSeenMs = now;
    this.#totalNacks += 1;
  }

  #evict(): void {
    if (this.#records.size <= this.#maxKnown) return;
    for (const [clientId, record] of this.#records) {
      if (this.#records.size <= this.#maxKnown) return;
      if (!record.isConnected) this.#records.delete(clientId);
    }
  }
}

export function syncStatusOf(record: ClientRecord): SyncStatus {
  const sent = record.lastSent;
  if (sent === undefined) return 'NOT SENT';
  if (record.lastNacked !== undefined && sameMark(record.lastNacked.mark, sent)) return 'NACKED';
  if (record.lastAcked !== undefined && sameMark(record.lastAcked, sent)) return 'SYNCED';
  return 'STALE';
}

/**
 * The revision a SYNCED client is in sync at as far as the mesh is concerned: the one it acked, or
 * a later one that changed nothing it is sent. Undefined unless SYNCED: a client that has not
 * acked, or refused, what it was sent is not in sync at any revision after it.
 */
export function inSyncAt(record: ClientRecord): RevisionMark | undefined {
  if (syncStatusOf(record) !== 'SYNCED') return undefined;
  return record.unchangedThrough ?? record.lastSent;
}

export function sameMark(a: RevisionMark, b: RevisionMark): boolean {
  return a.epoch === b.epoch && a.revision === b.revision;
}
