import { z } from 'zod';
import { durationOrZeroMs, nonNegativeInt32, positiveDurationMs, uint32 } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';

/** DestinationRule `connectionPool` (TCP and HTTP limits and timeouts); Sidecar uses it too. */

const tcpSettings = z.strictObject({
  maxConnections: nonNegativeInt32('maxConnections').optional(),
  connectTimeout: positiveDurationMs.optional(),
  tcpKeepalive: z
    .strictObject({
      probes: uint32.optional(),
      time: positiveDurationMs.optional(),
      interval: positiveDurationMs.optional(),
    })
    .optional(),
  maxConnectionDuration: positiveDurationMs.optional(),
  idleTimeout: durationOrZeroMs.optional(),
});

const httpSettings = z
  .strictObject({
    http1MaxPendingRequests: nonNegativeInt32('http1MaxPendingRequests').optional(),
    http2MaxRequests: nonNegativeInt32('http2MaxRequests').optional(),
    maxRequestsPerConnection: nonNegativeInt32('maxRequestsPerConnection').optional(),
    maxRetries: nonNegativeInt32('maxRetries').optional(),
    idleTimeout: positiveDurationMs.optional(),
    h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
    useClientProtocol: z.boolean().optional(),
    maxConcurrentStreams: nonNegativeInt32('maxConcurrentStreams').optional(),
    http2KeepAlive: z.strictObject({ interval: positiveDurationMs, timeout: positiveDurationMs }).optional(),
  })
  .superRefine((http, context) => {
    if (http.h2UpgradePolicy === 'UPGRADE' && http.useClientProtocol === true) {
      addProblem(
        context,
        'useClientProtocol keeps the client protocol, which contradicts h2UpgradePolicy UPGRADE; keep one',
        ['useClientProtocol'],
      );
    }
  });

/** Also Sidecar's `inboundConnectionPool` and `ingress[].connectionPool`. */
export const connectionPoolSettingsSchema = z
  .strictObject({ tcp: tcpSettings.optional(), http: httpSettings.optional() })
  .superRefine((pool, context) => {
    if (pool.tcp === undefined && pool.http === undefined)
      addProblem(context, 'connectionPool needs tcp or http settings');
  });
