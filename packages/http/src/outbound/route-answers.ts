import type { HttpRouteSpec } from '@weft/core';
import type { SyntheticResponse } from './synthetic-response.ts';

type Redirect = NonNullable<HttpRouteSpec['redirect']>;
type DirectResponse = NonNullable<HttpRouteSpec['directResponse']>;

export interface RedirectContext {
  /** The request's authority (Host), scheme and path (with query). */
  readonly authority: string;
  readonly scheme: string;
  readonly fullPath: string;
  readonly path: string;
  /** The URI prefix the request matched on, for `prefixRewrite`. */
  readonly matchedPrefix?: string;
}

/** Istio's HTTPRedirect: a 3xx with a Location built from the request and the route. */
export function redirectResponse(redirect: Redirect, context: RedirectContext): SyntheticResponse {
  const scheme = redirect.scheme ?? context.scheme;
  const [requestHost = '', requestPort] = splitAuthority(context.authority);
  const host = redirect.authority ?? requestHost;
  let port: string | undefined = redirect.authority === undefined ? requestPort : undefined;
  if (redirect.port !== undefined) port = String(redirect.port);
  if (redirect.derivePort === 'FROM_PROTOCOL_DEFAULT') port = undefined;
  if (redirect.derivePort === 'FROM_REQUEST_PORT') port = requestPort;
  const query = context.fullPath.slice(context.path.length);
  let path = context.fullPath;
  if (redirect.uri !== undefined) path = redirect.uri + query;
  else if (redirect.prefixRewrite !== undefined && context.matchedPrefix !== undefined) {
    path = redirect.prefixRewrite + context.path.slice(context.matchedPrefix.length) + query;
  }
  const defaultPort = scheme === 'https' ? '443' : '80';
  const authority = port === undefined || port === defaultPort ? host : `${host}:${port}`;
  return { status: redirect.redirectCode ?? 301, headers: { location: `${scheme}://${authority}${path}` } };
}

/** Istio's HTTPDirectResponse: the route answers with a fixed status and body. */
export function directResponse(answer: DirectResponse): SyntheticResponse {
  const body =
    answer.body?.string ??
    (answer.body?.bytes === undefined ? undefined : Buffer.from(answer.body.bytes, 'base64'));
  return { status: answer.status, ...(body === undefined ? {} : { body }) };
}

function splitAuthority(authority: string): [string, string | undefined] {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    const port = authority.slice(end + 1).startsWith(':') ? authority.slice(end + 2) : undefined;
    return [authority.slice(0, end + 1), port];
  }
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? [authority, undefined] : [authority.slice(0, colon), authority.slice(colon + 1)];
}
