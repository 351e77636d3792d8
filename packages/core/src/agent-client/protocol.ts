/**
 * The watch protocol between the control agent and the workloads' clients: the message types
 * both sides share. packages/control-agent/PROTOCOL.md is the prose of record; this file is its
 * type-checked half. JSON over HTTP/1.1: the watch is one long-lived response of newline-
 * delimited JSON frames (NDJSON), so it can be read with curl and proxied by anything.
 */
import type { RegisteredWorkload } from '../registry/workload.ts';
import type { TrustBundle } from '../security/identity/trust-bundle.ts';

/** The protocol version a client speaks; the agent refuses versions it does not know. */
export const PROTOCOL_VERSION = 1;

/**
 * The header on a watch's answer that names the stream, and on every status report for it: the
 * agent accepts a report only from the holder of the client's current stream (bad-inputs B9).
 */
export const STREAM_TOKEN_HEADER = 'x-weft-stream-token';

/**
 * A revision as the agent counts them: etcd's revision on etcd, a persisted counter on the
 * embedded store. Revisions only compare within one `epoch`: a store that was wiped or restored
 * gets a new epoch, and a client that resumes with another epoch gets a full snapshot.
 */
export interface RevisionMark {
  readonly epoch: string;
  readonly revision: number;
}

/** A config resource as stored and sent: the Kubernetes-style object, with its bookkeeping. */
export interface StoredResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly creationTimestamp: string;
    readonly resourceVersion: string;
    readonly generation: number;
    readonly uid: string;
  };
  readonly spec: unknown;
}

export interface ResourceRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** Frames the agent writes on a watch stream, one JSON object per line. */
export type WatchFrame =
  /** Everything the client needs, replacing whatever it had. Always the first frame. */
  | {
      readonly type: 'snapshot';
      readonly mark: RevisionMark;
      readonly resources: readonly StoredResource[];
      readonly workloads: readonly RegisteredWorkload[];
    }
  /** Changes since the previous frame's revision, in order. */
  | {
      readonly type: 'delta';
      readonly mark: RevisionMark;
      readonly upserts: readonly StoredResource[];
      readonly deletes: readonly ResourceRef[];
      readonly workloadUpserts: readonly RegisteredWorkload[];
      readonly workloadDeletes: readonly { readonly namespace: string; readonly name: string }[];
    }
  /** Sent every `heartbeatMs` when nothing else is; a silent stream is a stalled one. */
  | {
      readonly type: 'heartbeat';
      readonly mark: RevisionMark;
      readonly heartbeatMs: number;
      /**
       * Someone asked the agent for this client's compiled view (`weft proxy-config`): post it to
       * `POST /v1/clients/{clientId}/config` (PROTOCOL.md §4.3). ACKs carry no dump, so that a
       * thousand clients do not send the agent their views on every revision.
       */
      readonly configDumpRequested?: boolean;
      /**
       * The CA's trust bundle (PROTOCOL.md §3.2): on the heartbeat right after a stream's first
       * frame, and whenever it changes (a root rotation). Clients that do not use it ignore it.
       */
      readonly trustBundle?: TrustBundle;
    };

/** What a client reports after applying (or refusing) the revision it was sent. */
export interface ClientStatusReport {
  readonly clientId: string;
  readonly mark: RevisionMark;
  readonly status: 'ack' | 'nack';
  /** For a NACK: every reason, as the client's validator gave it. */
  readonly error?: string;
  /** The client's compiled view, summarized (for `weft proxy-config`); bounded in size. */
  readonly configDump?: unknown;
}

/** Query parameters of `GET /v1/watch`. */
export interface WatchRequest {
  readonly clientId: string;
  /** The workload the client is, for scoping (namespace, labels) and status. */
  readonly namespace: string;
  readonly workload: string;
  /** The last revision the client applied, to resume with deltas; absent for a first connect. */
  readonly resume?: RevisionMark;
  readonly protocolVersion: number;
  /** `trustBundle=true`: send the CA's trust bundle on heartbeats (clients with an identity). */
  readonly wantsTrustBundle?: boolean;
}

/** Body of `POST /v1/workloads`: the workload, and how long its lease lasts without renewal. */
export interface WorkloadRegistration extends RegisteredWorkload {
  readonly ttlMs: number;
}

/** Answer to `POST /v1/workloads`: the lease to renew with `PUT /v1/leases/{leaseId}`. */
export interface LeaseGrant {
  readonly leaseId: string;
}
