// The public API of @weft/control-agent. Everything not exported here is internal and may change.

export type { AgentLogger } from './agent/agent-logger.ts';
export { type AgentLimits, type AgentOptions, DEFAULT_AGENT_LIMITS } from './agent/agent-options.ts';
export { type Agent, createAgent } from './agent/create-agent.ts';
export type { CaOptions, PluggedCaFiles } from './ca/ca-options.ts';
export type { DashboardOptions } from './dashboard/dashboard.ts';
export type { ClientEdgeSummary, EdgeSource, EdgeView, MergedEdge } from './dashboard/edge-registry.ts';
export type { EdgeWindowSettings } from './dashboard/edge-window.ts';
export type { AgentRecord } from './peers/agent-directory.ts';
export type { MeshEdgeView, MissingAgent, ViewAgent } from './peers/mesh-edge-view.ts';
export type { PeerOptions } from './peers/peer-options.ts';
export { EtcdStore, type EtcdStoreOptions } from './store/etcd-store.ts';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.ts';
export type { RecordPutResult, RecordStore, StoredRecord } from './store/record-store.ts';
export type { DeleteResult, PutResult, ResourceWrite, Store, StoreEvent } from './store/store.ts';
export { StoreCorruptError, StoreUnavailableError } from './store/store-errors.ts';
export { SUPPORTED_PROTOCOL_VERSIONS } from './watch/watch-request.ts';
