import type { ChannelOptions } from '@grpc/grpc-js';
import type { Mesh } from '@weft/core';

/**
 * The channel option that hands the mesh to the `weft:` resolver. grpc-js registers resolvers
 * globally, so the mesh a channel belongs to travels with the channel's own options. The
 * `grpc.internal.no_subchannel` prefix keeps it out of subchannel arguments, so subchannels stay
 * shareable in grpc-js's pool.
 */
export const MESH_CHANNEL_OPTION = 'grpc.internal.no_subchannel.weft.mesh';

/**
 * The mesh a channel was made with. Recognized by shape, not `instanceof`: an application may load
 * @weft/core twice (source and build, or two versions) without noticing.
 */
export function meshOfChannel(options: ChannelOptions): Mesh | undefined {
  const value: unknown = options[MESH_CHANNEL_OPTION];
  if (typeof value !== 'object' || value === null) return undefined;
  return 'outbound' in value && 'events' in value && 'clusters' in value ? (value as Mesh) : undefined;
}
