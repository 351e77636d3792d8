import { registeredKinds } from '@weft/core';
import { HttpError } from '../http/http-error.ts';

/**
 * A kind as a URL or query gives it, in any letter case (`virtualservice`, `VirtualService`),
 * mapped to its registered spelling; an unknown kind is a 400 listing the known ones.
 */
export function canonicalKind(input: string): string {
  const lower = input.toLowerCase();
  const match = registeredKinds().find((definition) => definition.kind.toLowerCase() === lower);
  if (match !== undefined) return match.kind;
  const known = [...new Set(registeredKinds().map((definition) => definition.kind))].sort();
  throw new HttpError(400, 'unknown-kind', `"${input}" is not a kind the agent knows`, {
    details: { known },
  });
}
