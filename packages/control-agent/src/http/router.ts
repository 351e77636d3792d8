import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller, Readers, Writers } from './admin-auth.ts';
import { HttpError } from './http-error.ts';

export interface RouteContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  /** The `{name}` segments of the route's path, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * Who is calling: for write routes, the admin or a workload the route must hold to its own; for
   * others, whoever a credential established (undefined when the route was open to the request).
   */
  readonly caller?: Caller | undefined;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** E.g. `/v1/resources/{kind}/{namespace}/{name}`. */
  readonly path: string;
  /** Writes need the admin credential; it is checked before the body is read. */
  readonly isWrite: boolean;
  /**
   * Who may write (default `admin`). `admin-or-workload`: also a workload with its own credential
   * (PROTOCOL.md §4.2), which the handler gets as `caller` and must match against what it writes.
   */
  readonly writers?: Writers;
  /** Who may call a route that is not a write (default `admin`: see Readers). */
  readonly readers?: Readers;
  readonly handle: (context: RouteContext) => Promise<void> | void;
}

export type RouteMatch =
  | { readonly type: 'found'; readonly route: Route; readonly params: Record<string, string> }
  | { readonly type: 'wrong-method'; readonly allow: readonly string[] }
  | { readonly type: 'none' };

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly { readonly literal?: string; readonly param?: string }[];
}

/** A fixed table of routes, matched segment by segment; no regexes run on request input. */
export class Router {
  readonly #routes: readonly CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map((route) => ({
      route,
      segments: route.path
        .split('/')
        .slice(1)
        .map((segment) =>
          segment.startsWith('{') && segment.endsWith('}')
            ? { param: segment.slice(1, -1) }
            : { literal: segment },
        ),
    }));
  }

  match(method: string, pathname: string): RouteMatch {
    const raw = pathname.split('/').slice(1);
    const allow: string[] = [];
    for (const compiled of this.#routes) {
      const params = matchSegments(compiled, raw);
      if (params === undefined) continue;
      if (compiled.route.method === method) return { type: 'found', route: compiled.route, params };
      allow.push(compiled.route.method);
    }
    return allow.length > 0 ? { type: 'wrong-method', allow } : { type: 'none' };
  }
}

function matchSegments(compiled: CompiledRoute, raw: readonly string[]): Record<string, string> | undefined {
  if (raw.length !== compiled.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < raw.length; index++) {
    const segment = compiled.segments[index];
    const value = raw[index] ?? '';
    if (segment?.literal !== undefined) {
      if (segment.literal !== value) return undefined;
      continue;
    }
    if (value === '') return undefined;
    params[segment?.param ?? ''] = decodeSegment(value);
  }
  return params;
}

function decodeSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch (error) {
    throw new HttpError(400, 'bad-request', `malformed percent-encoding in path segment "${value}"`, {
      cause: error,
    });
  }
}
