import type { ClientRegistry } from '../clients/client-registry.ts';
import type { ConfigDumpRequests } from '../clients/config-dump-requests.ts';
import type { MeshCache } from '../mesh-view/mesh-cache.ts';
import type { Store } from '../store/store.ts';
import type { WatchHub } from '../watch/watch-hub.ts';
import type { StoredAnalysis } from './stored-analysis.ts';

/** What the admin routes work with. */
export interface AdminDeps {
  readonly store: Store;
  readonly cache: MeshCache;
  readonly hub: WatchHub;
  readonly clients: ClientRegistry;
  readonly configDumps: ConfigDumpRequests;
  readonly analysis: StoredAnalysis;
  readonly domainSuffix: string;
  readonly maxApplyBytes: number;
  readonly maxRequestBytes: number;
  readonly maxLeaseTtlMs: number;
}
