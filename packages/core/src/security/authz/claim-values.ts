import type { RequestAuth } from './request-auth.ts';

/**
 * The string values of a (possibly nested) claim, `request.auth.claims[outer][inner]` reading
 * `path` `['outer', 'inner']`. A string claim is one value — plus its words, when it is declared
 * space-delimited (`scope: "read write"` also matches `read`); a list claim is its string elements.
 * Numbers, booleans and objects are no string, so they count as absent, as Envoy's string matchers
 * never match them.
 */
export function claimValues(
  auth: RequestAuth,
  path: readonly string[],
  dottedPath: string,
): readonly string[] | undefined {
  let node: unknown = auth.claims;
  for (const name of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, name)) {
      return undefined;
    }
    node = (node as Record<string, unknown>)[name];
  }
  if (typeof node === 'string') {
    if (!auth.spaceDelimitedClaims.has(dottedPath) || !node.includes(' ')) return [node];
    return [node, ...node.split(' ').filter((word) => word !== '')];
  }
  if (Array.isArray(node)) return node.filter((item): item is string => typeof item === 'string');
  return undefined;
}
