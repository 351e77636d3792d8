import { z } from 'zod';
import { int32, percentage, positiveDurationMs } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';
import { checkOneOf } from './one-of.ts';

/**
 * VirtualService `http[].fault`: injected delays and aborts. An absent percentage is 0 ("no request
 * will be delayed"); the deprecated integer `delay.percent` is mapped onto `percentage`.
 */

/** Istio's validatePercentage: 0, or 0.0001–100 (the resolution Envoy can express). */
const faultPercentage = percentage.superRefine(({ value }, context) => {
  if (value > 0 && value < 0.0001) {
    addProblem(context, `percentage ${value} is too small; use 0 or at least 0.0001`, ['value']);
  }
});

const faultDelay = z
  .strictObject({
    percent: int32.min(0, 'percent must be 0–100').max(100, 'percent must be 0–100').optional(),
    fixedDelay: positiveDurationMs.optional(),
    exponentialDelay: positiveDurationMs.optional(),
    percentage: faultPercentage.optional(),
  })
  .superRefine((delay, context) => {
    checkOneOf(delay, ['fixedDelay', 'exponentialDelay'], context);
    if (delay.exponentialDelay !== undefined) {
      addProblem(context, 'exponentialDelay is not supported (Istio rejects it too); use fixedDelay', [
        'exponentialDelay',
      ]);
    }
  })
  // `percent` (deprecated integer) counts only when `percentage` is absent; neither means 0%.
  .transform(({ percent, exponentialDelay, ...delay }) => ({
    ...delay,
    percentage: delay.percentage ?? { value: percent ?? 0 },
  }));

const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

const faultAbort = z
  .strictObject({
    httpStatus: z
      .number()
      .int()
      .min(200, 'httpStatus must be 200–599')
      .max(599, 'httpStatus must be 200–599')
      .optional(),
    grpcStatus: z
      .enum(GRPC_STATUS_NAMES, 'grpcStatus must be a gRPC status name such as "UNAVAILABLE" (not 14)')
      .optional(),
    http2Error: z.string().optional(),
    percentage: faultPercentage.optional(),
  })
  .superRefine((abort, context) => {
    checkOneOf(abort, ['httpStatus', 'grpcStatus', 'http2Error'], context);
    if (abort.http2Error !== undefined) {
      addProblem(
        context,
        'http2Error aborts are not supported (Istio rejects them too); use httpStatus or grpcStatus',
        ['http2Error'],
      );
    }
  })
  .transform(({ http2Error, ...abort }) => ({ ...abort, percentage: abort.percentage ?? { value: 0 } }));

export const httpFaultInjectionSchema = z
  .strictObject({ delay: faultDelay.optional(), abort: faultAbort.optional() })
  .superRefine((fault, context) => {
    if (fault.delay === undefined && fault.abort === undefined)
      addProblem(context, 'a fault needs a delay, an abort or both');
  });
