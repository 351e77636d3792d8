import { z } from 'zod';
import { cappedArray, positiveDurationMs, stringMatch } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';
import { HEADER_TOKEN } from './virtual-service-headers.ts';

/** VirtualService `http[].corsPolicy`; the deprecated `allowOrigin` becomes exact `allowOrigins`. */

const CORS_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  '*',
] as const;

const corsHeaderName = z
  .string()
  .refine(
    (name) => name === '*' || HEADER_TOKEN.test(name),
    'not a valid header name (RFC 7230 token characters, or "*")',
  );

export const corsPolicySchema = z
  .strictObject({
    allowOrigin: cappedArray(z.string()).optional(),
    allowOrigins: cappedArray(
      stringMatch.superRefine((match, context) => {
        if (match.type === 'present' || match.value === '') {
          addProblem(context, 'an allowed origin needs a non-empty exact, prefix or regex');
        }
      }),
    ).optional(),
    allowMethods: cappedArray(
      z.enum(CORS_METHODS, `allowMethods entries must be one of ${CORS_METHODS.join(', ')}`),
    ).optional(),
    allowHeaders: cappedArray(corsHeaderName).optional(),
    exposeHeaders: cappedArray(corsHeaderName).optional(),
    maxAge: positiveDurationMs
      .refine((ms) => ms % 1000 === 0, 'maxAge is sent in whole seconds; use e.g. "24h" or "30s"')
      .optional(),
    allowCredentials: z.boolean().optional(),
    unmatchedPreflights: z.enum(['UNSPECIFIED', 'FORWARD', 'IGNORE']).optional(),
  })
  // Istio reads the deprecated `allowOrigin` (exact strings) only when `allowOrigins` is absent.
  .transform(({ allowOrigin, ...cors }) => {
    if (cors.allowOrigins !== undefined || allowOrigin === undefined) return cors;
    return { ...cors, allowOrigins: allowOrigin.map((value) => ({ type: 'exact' as const, value })) };
  });
