import {
  type CompiledRoute,
  compileSafeRegex,
  type HttpRouteSpec,
  matchedUriPrefix,
  type RouteRequest,
} from '@weft/core';

type Rewrite = NonNullable<HttpRouteSpec['rewrite']>;
type Re2Pattern = Extract<ReturnType<typeof compileSafeRegex>, { ok: true }>['regex'];

/** A route's rewrite with its regex compiled once, when the route is first used. */
export interface CompiledRewrite {
  readonly uri?: string;
  readonly authority?: string;
  readonly regex?: { readonly pattern: Re2Pattern; readonly replacement: string };
}

const compiledRewrites = new WeakMap<Rewrite, CompiledRewrite>();

/** Compiles (once per route spec, which lives as long as its snapshot) a route's rewrite. */
export function compiledRewrite(rewrite: Rewrite): CompiledRewrite {
  let compiled = compiledRewrites.get(rewrite);
  if (compiled === undefined) {
    const regex = rewrite.uriRegexRewrite;
    const pattern = regex === undefined ? undefined : compileSafeRegex(regex.match);
    if (pattern !== undefined && !pattern.ok)
      throw new Error(`uriRegexRewrite passed validation but does not compile: ${pattern.reason}`);
    compiled = {
      ...(rewrite.uri === undefined ? {} : { uri: rewrite.uri }),
      ...(rewrite.authority === undefined ? {} : { authority: rewrite.authority }),
      ...(pattern === undefined || regex === undefined
        ? {}
        : { regex: { pattern: pattern.regex, replacement: toRe2jsReplacement(regex.rewrite) } }),
    };
    compiledRewrites.set(rewrite, compiled);
  }
  return compiled;
}

/**
 * The path after `rewrite.uri` or `rewrite.uriRegexRewrite`, query string kept. `uri` replaces
 * the prefix the request matched on, or the whole path when it matched otherwise (Istio).
 */
export function rewritePath(
  rewrite: CompiledRewrite,
  route: CompiledRoute,
  request: RouteRequest,
  path: string,
  fullPath: string,
): string {
  const query = fullPath.slice(path.length);
  if (rewrite.uri !== undefined) {
    const prefix = matchedUriPrefix(route, request, path);
    const rewritten = prefix === undefined ? rewrite.uri : rewrite.uri + path.slice(prefix.length);
    return (rewritten === '' ? '/' : rewritten) + query;
  }
  if (rewrite.regex !== undefined) {
    return rewrite.regex.pattern.matcher(path).replaceAll(rewrite.regex.replacement) + query;
  }
  return fullPath;
}

/** Istio writes RE2's `\1` for a capture group; re2js expects `$1` (and `$$` for a dollar). */
function toRe2jsReplacement(rewrite: string): string {
  return rewrite.replaceAll('$', '$$$$').replace(/\\(\d)/g, '$$$1');
}
