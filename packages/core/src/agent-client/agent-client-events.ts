import type { ConfigIssue, ConfigValidationError } from '../errors/config-validation-error.ts';
import { EventChannel } from '../events/event-channel.ts';
import type { RevisionMark } from './protocol.ts';

/**
 * Where the client stands with the control plane:
 * - `connecting`: starting; no agent has answered yet and the start-up wait is not over.
 * - `synced`: a watch stream is open and the mesh serves the agent's latest revision.
 * - `stale`: the mesh serves an older config than the agent's: the agent is unreachable (the
 *   client serves what it applied last, or the last-good file), or it refused the latest revision.
 * - `unavailable`: no agent answered and there is nothing to serve (no last-good file): the mesh
 *   holds no configuration from the control plane. Calls to mesh hosts follow the mesh's outbound
 *   traffic policy over an empty registry.
 * - `closed`: `close()` was called.
 */
export type AgentClientState = 'connecting' | 'synced' | 'stale' | 'unavailable' | 'closed';

export interface StateChangeEvent {
  readonly state: AgentClientState;
  readonly previous: AgentClientState;
  /** Why, in a few words (`snapshot applied`, `stream stalled`, `no agent answered`…). */
  readonly reason: string;
}

/** Where an applied config came from. */
export type ConfigSource = 'snapshot' | 'delta' | 'last-good-file';

/**
 * Why a snapshot replaced a config the client already had (bad-inputs B3/H5):
 * - `new-epoch`: the agent's store is another one (wiped, restored, or another agent's);
 * - `revision-went-backwards`: same store, older revision (restored from an old backup);
 * - `full-resync`: the agent answered a resume with a snapshot (e.g. the revision was compacted).
 */
export type ResyncReason = 'new-epoch' | 'revision-went-backwards' | 'full-resync';

export interface AppliedEvent {
  readonly mark: RevisionMark;
  readonly source: ConfigSource;
  readonly resources: number;
  readonly workloads: number;
  readonly resync?: ResyncReason;
  /** Warnings of the accepted configuration (unknown, deprecated, unsupported fields…). */
  readonly warnings: readonly ConfigIssue[];
}

/** A revision the client refused (reported to the agent as a NACK); the last good one serves on. */
export interface NackEvent {
  readonly mark: RevisionMark;
  readonly error: ConfigValidationError;
}

/**
 * An applied config holds no resources while the one before held some: a wiped agent store, or a
 * mass deletion (bad-inputs A13, B3). The client applies it (it is the agent's truth) and says so
 * here, so that an operator can alert.
 */
export interface EmptiedEvent {
  readonly mark: RevisionMark;
  readonly source: ConfigSource;
  readonly previousResources: number;
}

export type ConnectionEvent =
  | { readonly type: 'connected'; readonly agent: string }
  /** A stream that had delivered frames ended (agent gone, stalled, protocol error…). */
  | { readonly type: 'disconnected'; readonly agent: string; readonly error: unknown }
  /** An attempt that never got a frame (refused, timed out, HTTP error). */
  | { readonly type: 'failed'; readonly agent: string; readonly error: unknown };

export type RegistrationEvent =
  | { readonly type: 'registered'; readonly leaseId: string }
  | { readonly type: 'renewed'; readonly leaseId: string }
  /** The agent no longer knew the lease (it lapsed, or the agent lost its store): re-registering. */
  | { readonly type: 'lease-lost'; readonly leaseId: string }
  | { readonly type: 'failed'; readonly error: unknown }
  | { readonly type: 'deregistered' };

/** A failure that does not change what the mesh serves, but that an operator may want to see. */
export interface ProblemEvent {
  readonly operation:
    | 'status-report'
    | 'config-dump'
    | 'last-good-read'
    | 'last-good-write'
    | 'deregistration'
    /** A trust bundle from the watch the workload's certificates could not take. */
    | 'trust-bundle'
    /** An edge report (PROTOCOL.md §3.8) the agent could not be sent or refused. */
    | 'edge-report';
  readonly error: unknown;
}

export function agentClientEvents() {
  return {
    state: new EventChannel<StateChangeEvent>(),
    applied: new EventChannel<AppliedEvent>(),
    nack: new EventChannel<NackEvent>(),
    emptied: new EventChannel<EmptiedEvent>(),
    connection: new EventChannel<ConnectionEvent>(),
    registration: new EventChannel<RegistrationEvent>(),
    problem: new EventChannel<ProblemEvent>(),
  };
}

export type AgentClientEvents = ReturnType<typeof agentClientEvents>;
