import type { StringMatch } from '../config/schema-primitives.ts';
import { queryParameter, type RouteRequest } from './route-request.ts';
import { compileStringMatch } from './string-matcher.ts';

/**
 * The request-time conditions of one Istio HTTPMatchRequest. `sourceLabels`, `sourceNamespace`
 * and `gateways` are not here: they depend on who calls, not on the request, so the route table
 * of a workload is built without the match blocks that can never apply to it.
 */
export interface HttpMatchConditions {
  readonly uri?: StringMatch;
  readonly scheme?: StringMatch;
  readonly method?: StringMatch;
  readonly authority?: StringMatch;
  readonly headers?: Readonly<Record<string, StringMatch>>;
  readonly withoutHeaders?: Readonly<Record<string, StringMatch>>;
  readonly queryParams?: Readonly<Record<string, StringMatch>>;
  readonly ignoreUriCase?: boolean;
  readonly port?: number;
}

/** `path` is the request's path without its query string, computed once per request. */
export type RequestPredicate = (request: RouteRequest, path: string) => boolean;

/** All conditions of one match block must hold (AND). */
export function compileHttpMatch(conditions: HttpMatchConditions): RequestPredicate {
  const checks: RequestPredicate[] = [];
  if (conditions.port !== undefined) {
    const port = conditions.port;
    checks.push((request) => request.port === port);
  }
  if (conditions.method !== undefined) {
    const matches = compileStringMatch(conditions.method);
    checks.push((request) => matches(request.method));
  }
  if (conditions.uri !== undefined) {
    const matches = compileStringMatch(conditions.uri, { ignoreCase: conditions.ignoreUriCase === true });
    checks.push((_request, path) => matches(path));
  }
  if (conditions.scheme !== undefined) {
    const matches = compileStringMatch(conditions.scheme);
    checks.push((request) => matches(request.scheme));
  }
  if (conditions.authority !== undefined) {
    const matches = compileStringMatch(conditions.authority);
    checks.push((request) => matches(request.authority));
  }
  for (const [name, match] of Object.entries(conditions.headers ?? {})) {
    const header = name.toLowerCase();
    const matches = compileStringMatch(match);
    checks.push((request) => matches(request.header(header)));
  }
  for (const [name, match] of Object.entries(conditions.withoutHeaders ?? {})) {
    const header = name.toLowerCase();
    const matches = compileStringMatch(match);
    checks.push((request) => !matches(request.header(header)));
  }
  for (const [name, match] of Object.entries(conditions.queryParams ?? {})) {
    const matches = compileStringMatch(match);
    checks.push((request) => matches(queryParameter(request.path, name)));
  }
  return allOf(checks);
}

/** Any of several match blocks (OR); no blocks at all matches every request. */
export function anyOf(predicates: readonly RequestPredicate[]): RequestPredicate {
  if (predicates.length === 0) return () => true;
  if (predicates.length === 1) return predicates[0] ?? (() => true);
  return (request, path) => {
    for (const predicate of predicates) if (predicate(request, path)) return true;
    return false;
  };
}

function allOf(checks: readonly RequestPredicate[]): RequestPredicate {
  const [first, second] = checks;
  if (first === undefined) return () => true;
  if (second === undefined) return first;
  return (request, path) => {
    for (const check of checks) if (!check(request, path)) return false;
    return true;
  };
}
