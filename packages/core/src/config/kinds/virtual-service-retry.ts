import { z } from 'zod';
import { int32, positiveDurationMs } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';

/** VirtualService `http[].retries`: attempts, per-try timeout and the retryOn policies Envoy knows. */

/** Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on` policies that Istio accepts in retryOn. */
const RETRY_ON_POLICIES = new Set([
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'envoy-ratelimited',
  'http3-post-connect-failure',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

function isRetryOnPolicy(policy: string): boolean {
  if (RETRY_ON_POLICIES.has(policy)) return true;
  return /^\d{3}$/.test(policy) && Number(policy) >= 100 && Number(policy) <= 599;
}

export const httpRetrySchema = z
  .strictObject({
    attempts: int32.min(0, 'attempts must be ≥ 0 (0 disables retries)').optional(),
    perTryTimeout: positiveDurationMs.optional(),
    retryOn: z
      .string()
      .superRefine((retryOn, context) => {
        for (const policy of retryOn.split(',')) {
          if (!isRetryOnPolicy(policy)) {
            addProblem(
              context,
              `"${policy}" is not a retryOn policy; use e.g. "5xx,reset,connect-failure" or a status code`,
            );
          }
        }
      })
      .optional(),
    retryRemoteLocalities: z.boolean().optional(),
    retryIgnorePreviousHosts: z.boolean().optional(),
    backoff: positiveDurationMs.optional(),
  })
  .superRefine((retry, context) => {
    const isDisabled = (retry.attempts ?? 0) === 0;
    if (
      isDisabled &&
      (retry.perTryTimeout !== undefined || retry.retryOn || retry.retryRemoteLocalities !== undefined)
    ) {
      addProblem(
        context,
        'attempts is 0, which disables retries, yet other retry settings are set; set attempts ≥ 1',
        ['attempts'],
      );
    }
  })
  // proto3: an absent `attempts` inside `retries` is 0, not the mesh default of 2.
  .transform((retry) => ({ ...retry, attempts: retry.attempts ?? 0 }));
