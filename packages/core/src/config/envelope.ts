import { z } from 'zod';
import { labels } from './schema-primitives.ts';

/** DNS-1123 subdomain: what Kubernetes (and so Istio) accepts as a resource name. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** DNS-1123 label: what Kubernetes accepts as a namespace. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The Kubernetes envelope around a spec. Metadata fields Weft does not use (managedFields,
 * ownerReferences, …) and `status` are what `kubectl get -o yaml` prints alongside, so they are
 * accepted and dropped without a warning; anything else unknown at the top level is reported.
 */
export const metadataSchema = z.looseObject({
  name: z
    .string({ message: 'metadata.name is required' })
    .max(253, 'must be at most 253 characters')
    .regex(DNS1123_SUBDOMAIN, 'must be lower-case letters, digits, "-" and "." (a DNS-1123 subdomain)'),
  namespace: z
    .string()
    .max(63, 'must be at most 63 characters')
    .regex(DNS1123_LABEL, 'must be lower-case letters, digits and "-" (a DNS-1123 label)')
    .optional(),
  labels: labels.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  creationTimestamp: z.iso.datetime({ offset: true }).optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().min(0).optional(),
  uid: z.string().optional(),
});

export const envelopeSchema = z.strictObject({
  apiVersion: z.string({ message: 'apiVersion is required' }).regex(/^([a-z0-9.-]+\/)?v[0-9a-z]+$/, {
    message: 'must be "group/version", e.g. "networking.istio.io/v1" (or "v1" for Kubernetes core kinds)',
  }),
  kind: z.string({ message: 'kind is required' }).min(1),
  metadata: metadataSchema,
  spec: z.unknown().optional(),
  status: z.unknown().optional(),
});

/** Keys that would reach Object.prototype if a consumer ever merged config into a plain object. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
