/** The agent's `peers` option: how it is found by, and asks, the agents sharing its store. */
export interface PeerOptions {
  /**
   * The URL peer agents reach this one at (`http://10.0.0.5:7070`). Default: the agent's own URL,
   * right when it listens on a routable address (or all agents share one host's loopback); set it
   * when the agent listens on 0.0.0.0 or behind NAT.
   */
  readonly advertiseUrl?: string;
  /** The lease of the agent's directory record: a crashed agent is listed this long at most. Default 10,000. */
  readonly leaseTtlMs?: number;
  /** How long `?scope=mesh` waits for each peer before reporting it missing. Default 2,000. */
  readonly timeoutMs?: number;
  /** Peers asked at most by one merged view; the rest are reported missing. Default 32. */
  readonly maxPeers?: number;
}

export interface PeerSettings {
  readonly advertiseUrl: string | undefined;
  readonly leaseTtlMs: number;
  readonly timeoutMs: number;
  readonly maxPeers: number;
  /** The largest answer read from one peer. */
  readonly maxAnswerBytes: number;
}

/** The options with defaults filled in; a RangeError names a bad one. */
export function resolvePeerSettings(options: PeerOptions | undefined): PeerSettings {
  const leaseTtlMs = options?.leaseTtlMs ?? 10_000;
  if (!(Number.isFinite(leaseTtlMs) && leaseTtlMs >= 1_000))
    throw new RangeError('peers.leaseTtlMs must be at least 1000');
  const timeoutMs = options?.timeoutMs ?? 2_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs >= 10 && timeoutMs <= 60_000))
    throw new RangeError('peers.timeoutMs must be from 10 to 60000');
  const maxPeers = options?.maxPeers ?? 32;
  if (!(Number.isInteger(maxPeers) && maxPeers >= 0 && maxPeers <= 256))
    throw new RangeError('peers.maxPeers must be an integer from 0 to 256');
  return {
    advertiseUrl: options?.advertiseUrl,
    leaseTtlMs,
    timeoutMs,
    maxPeers,
    maxAnswerBytes: 32 * 1024 * 1024,
  };
}
