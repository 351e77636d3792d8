import type { Disposer, TrustBundle } from '@weft/core';

/**
 * Where the watch gets the trust bundle it pushes to workloads (PROTOCOL.md §3.2): the agent's CA.
 * Every stream sends it in a heartbeat right after its first frame, and again whenever it changes.
 */
export interface TrustBundleFeed {
  current(): TrustBundle | undefined;
  onChange(listener: () => void): Disposer;
}
