import { z } from 'zod';
import type { KindDefinition } from '../kind-definition.ts';
import { MAX_LIST_LENGTH, workloadSelector } from '../schema-primitives.ts';

/**
 * PeerAuthentication (security.istio.io): whether a workload's inbound connections must, may or
 * must not use mutual TLS.
 *
 * Normalized output: every `mode` is present (`UNSET`, proto3's zero value, when omitted, meaning
 * "inherit"); `portLevelMtls` keys are canonical decimal port numbers ("08080" becomes "8080").
 * There are no durations in this kind.
 */

const MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;

export const mutualTlsSchema = z.strictObject({
  mode: z.enum(MODES, { error: `mode must be one of ${MODES.join(', ')}` }).default('UNSET'),
});

/** Keys are workload ports. (`__proto__` and friends never get here: the parser refuses them first.) */
const portLevelMtlsSchema = z
  .record(z.string(), mutualTlsSchema)
  .superRefine((ports, context) => {
    const keys = Object.keys(ports);
    if (keys.length === 0) {
      context.addIssue({
        code: 'custom',
        message:
          'portLevelMtls, if present, needs at least one port (Istio rule): add a port or remove the field',
      });
    }
    if (keys.length > MAX_LIST_LENGTH) {
      context.addIssue({ code: 'custom', message: `at most ${MAX_LIST_LENGTH} ports are allowed` });
    }
    const seen = new Set<number>();
    for (const key of keys) {
      const port = /^\d{1,5}$/.test(key) ? Number(key) : Number.NaN;
      if (!(port >= 1 && port <= 65_535)) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: `portLevelMtls key "${key}" must be a workload port number from 1 to 65535, e.g. 8080`,
        });
      } else if (seen.has(port)) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: `port ${port} is listed twice: keep one entry`,
        });
      }
      seen.add(port);
    }
  })
  .transform((ports) =>
    Object.fromEntries(Object.entries(ports).map(([port, mtls]) => [String(Number(port)), mtls])),
  );

export const peerAuthenticationSpecSchema = z
  .strictObject({
    selector: workloadSelector.optional(),
    mtls: mutualTlsSchema.optional(),
    portLevelMtls: portLevelMtlsSchema.optional(),
  })
  .superRefine((spec, context) => {
    const hasLabels = Object.keys(spec.selector?.matchLabels ?? {}).length > 0;
    if (spec.portLevelMtls !== undefined && !hasLabels) {
      context.addIssue({
        code: 'custom',
        path: ['portLevelMtls'],
        message:
          'portLevelMtls requires a selector with matchLabels: Istio does not allow port-level mTLS in a ' +
          'mesh- or namespace-wide policy; add selector.matchLabels naming the workload',
      });
    }
  });

export type PeerAuthenticationSpec = z.output<typeof peerAuthenticationSpecSchema>;

export const peerAuthenticationKind: KindDefinition<PeerAuthenticationSpec> = {
  kind: 'PeerAuthentication',
  group: 'security.istio.io',
  versions: ['v1', 'v1beta1'],
  isSecurity: true,
  specSchema: peerAuthenticationSpecSchema,
  unsupportedFields: [],
  deprecatedFields: [],
};
