import { z } from 'zod';
import { cappedArray, mapOf } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';

/**
 * VirtualService header names and values, and the `headers` operations (`set`, `add`, `remove`) on
 * requests and responses, with Istio's rules on which headers may be changed.
 */

/** RFC 7230 token characters, which a header name is made of. */
export const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~a-z0-9]+$/i;

function hasControlCharacter(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

const headerValue = z
  .string()
  .refine((value) => !hasControlCharacter(value), 'header value must not contain control characters');

/** Request `set`/`add` may target the authority (`host`/`:authority`), never other pseudo-headers. */
function settableRequestHeaderProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (name.startsWith(':')) {
    return name.toLowerCase() === ':authority'
      ? undefined
      : `header "${name}" cannot be set: only ":authority" may be set among ":" pseudo-headers`;
  }
  return tokenProblem(name);
}

/** A name that is not an RFC 7230 token would be refused by the HTTP client on every request. */
function tokenProblem(name: string): string | undefined {
  return HEADER_TOKEN.test(name)
    ? undefined
    : `header name ${JSON.stringify(name)} is not an HTTP token (letters, digits and !#$%&'*+-.^_\`|~)`;
}

/** Removals and response headers may touch neither Host nor pseudo-headers (Istio's rule). */
function modifiableHeaderProblem(name: string): string | undefined {
  if (name === '') return 'header name must not be empty';
  if (name.startsWith(':') || name.toLowerCase() === 'host') {
    return `header "${name}" cannot be modified here; use rewrite.authority to change the host`;
  }
  return tokenProblem(name);
}

function headerOperations(nameProblem: (name: string) => string | undefined) {
  return z.strictObject({
    set: mapOf(headerValue, nameProblem).optional(),
    add: mapOf(headerValue, nameProblem).optional(),
    remove: cappedArray(
      z.string().superRefine((name, context) => addProblem(context, modifiableHeaderProblem(name))),
    ).optional(),
  });
}

export const headersSchema = z.strictObject({
  request: headerOperations(settableRequestHeaderProblem).optional(),
  response: headerOperations(modifiableHeaderProblem).optional(),
});
export type Headers = z.output<typeof headersSchema>;
