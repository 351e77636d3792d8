import { z } from 'zod';
import { int32, portNumber } from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';
import { isDnsLabel, wildcardHost } from './network-address.ts';
import { headersSchema } from './virtual-service-headers.ts';

/** Where a VirtualService route sends traffic: destinations and their weights. */

const subsetName = z
  .string()
  .min(1, 'subset name must not be empty')
  .refine(isDnsLabel, 'subset name must be a DNS-1123 label (letters, digits and "-"), e.g. "v1"');

export const destinationSchema = z.strictObject({
  host: wildcardHost.refine(
    (host) => host !== '*',
    'destination host must name a service; "*" is not allowed',
  ),
  subset: subsetName.optional(),
  port: z.strictObject({ number: portNumber }).optional(),
});
export type Destination = z.output<typeof destinationSchema>;

const weight = int32.min(0, 'weight must be ≥ 0 (0 sends no traffic to this destination)');

export const httpRouteDestinationSchema = z.strictObject({
  destination: destinationSchema,
  weight: weight.optional(),
  headers: headersSchema.optional(),
});

export const routeDestinationSchema = z.strictObject({
  destination: destinationSchema,
  weight: weight.optional(),
});

/** Istio: with several destinations, weights of all 0 would send traffic nowhere. */
export function checkTotalWeight(
  destinations: readonly { readonly weight?: number }[] | undefined,
  context: RefinementContext,
): void {
  if (destinations === undefined || destinations.length < 2) return;
  if (destinations.every((destination) => (destination.weight ?? 0) === 0)) {
    addProblem(context, 'with several destinations at least one weight must be > 0 (all are 0)', ['route']);
  }
}
