import type { IncomingMessage, ServerResponse } from 'node:http';
import { context as traceContexts } from '@opentelemetry/api';
import {
  ACCESS_DENIED_BODY,
  ACCESS_DENIED_STATUS,
  type AuthenticationResult,
  type AuthzDecision,
  type ErrorCode,
  ErrorCodes,
  normalizeRequestPath,
  runInRequestContext,
  type TelemetryCall,
} from '@weft/core';
import { ERROR_CODE_HEADER } from '../outbound/response-flags.ts';
import { DEADLINE_HEADER, parseDeadlineHeader } from '../propagation/deadline-header.ts';
import type { ConnectionFacts } from './connection-facts.ts';
import { InboundContext } from './inbound-context.ts';
import type { InboundEntry } from './inbound-entry.ts';
import type { InboundPipeline, SnapshotState } from './inbound-pipeline.ts';
import { headerOf, InboundRequest } from './inbound-request.ts';
import { screenHeaders } from './request-screening.ts';
import { countResponseBodyBytes } from './response-body-bytes.ts';
import { ServedRequest } from './served-request.ts';
import { sourceLabels } from './source-labels.ts';
import { ensureRequestId, remoteAddress, setForwardedClientCert } from './trust-boundary.ts';

/** Writes injected trace context into the propagated header list. */
const PAIRS_SETTER = {
  set(carrier: [string, string][], key: string, value: string): void {
    carrier.push([key, value]);
  },
};

/** Hands the request to the application (a plain function, so running it in a context allocates nothing). */
function enter<Next>(
  entry: InboundEntry<Next>,
  request: IncomingMessage,
  response: ServerResponse,
  next: Next,
): void {
  entry.proceed(request, response, next);
}

/** The end of a response the caller did not wait for (Envoy's DC). */
class DownstreamDisconnect extends Error {
  override readonly name = 'DownstreamDisconnect';
}

/**
 * One inbound request on its way through the pipeline (see InboundPipeline for the order). Each
 * step runs synchronously when it can: authentication and authorization return promises only when
 * a signature must be checked against fetched keys or an external authorizer asked.
 */
export class InboundExchange<Next> {
  readonly #pipeline: InboundPipeline;
  readonly #state: SnapshotState;
  readonly #request: IncomingMessage;
  readonly #response: ServerResponse;
  readonly #connection: ConnectionFacts;
  readonly #isMutualTls: boolean;
  readonly #entry: InboundEntry<Next>;
  readonly #next: Next;
  #call: TelemetryCall | undefined;
  #authz: InboundRequest | undefined;
  #isAnswered = false;

  constructor(
    pipeline: InboundPipeline,
    state: SnapshotState,
    request: IncomingMessage,
    response: ServerResponse,
    connection: ConnectionFacts,
    isMutualTls: boolean,
    entry: InboundEntry<Next>,
    next: Next,
  ) {
    this.#pipeline = pipeline;
    this.#state = state;
    this.#request = request;
    this.#response = response;
    this.#connection = connection;
    this.#isMutualTls = isMutualTls;
    this.#entry = entry;
    this.#next = next;
  }

  run(): void {
    const request = this.#request;
    const headers = request.headers;
    this.#startTelemetry();
    const refusal = screenHeaders(request, this.#pipeline.underscores, this.#pipeline.maxHeadersCount);
    if (refusal !== undefined) {
      this.#answer(refusal.status, refusal.reason, ErrorCodes.badRequest);
      return;
    }
    setForwardedClientCert(headers, this.#isMutualTls ? this.#connection.forwardedClientCert : undefined);
    ensureRequestId(headers);
    const target = request.url ?? '';
    const normalized = normalizeRequestPath(target, this.#state.security.pathNormalization);
    if (!normalized.ok) {
      this.#answer(400, `bad request path: ${normalized.reason}`, ErrorCodes.badRequest);
      return;
    }
    const location = normalized.path + normalized.query;
    if (location !== target) {
      if (this.#entry.pathChange === 'redirect') {
        this.#answer(308, `the path is ${location}`, undefined, [['location', location]]);
        return;
      }
      // The application must route on the path authorization judged, never on another spelling.
      request.url = location;
    }
    const connection = this.#connection;
    this.#authz = new InboundRequest(
      request,
      normalized.path,
      normalized.query,
      connection,
      remoteAddress(headers['x-forwarded-for'], this.#pipeline.trustedProxies, connection.remoteAddress),
    );
    const result = this.#state.security.authenticator.authenticate(this.#authz);
    if (result instanceof Promise) {
      result.then(
        (settled) => this.#authenticated(settled),
        (error: unknown) => this.#failClosed(error, 'request-authentication'),
      );
    } else {
      this.#authenticated(result);
    }
  }

  #authenticated(result: AuthenticationResult): void {
    if (this.#isGone()) return;
    if (result.outcome === 'rejected') {
      this.#pipeline.mesh.telemetry.recordDenial({ reason: 'request-authentication' });
      const { status, body, headers } = result.response;
      this.#answer(status, body, ErrorCodes.unauthenticated, headers);
      return;
    }
    const requestHeaders = this.#request.headers;
    for (const name of result.headers.remove) delete requestHeaders[name];
    for (const [name, value] of result.headers.set) requestHeaders[name] = value;
    const authz = this.#authz as InboundRequest;
    if (result.outcome === 'authenticated') authz.auth = result.auth;
    const decision = this.#state.security.authorizer.authorize(authz);
    if (decision instanceof Promise) {
      decision.then(
        (settled) => this.#authorized(settled),
        (error: unknown) => this.#failClosed(error, 'authorization'),
      );
    } else {
      this.#authorized(decision);
    }
  }

  #authorized(decision: AuthzDecision): void {
    if (this.#isGone()) return;
    if (!decision.isAllowed) {
      const denial = decision.response;
      this.#pipeline.mesh.telemetry.recordDenial({
        reason: 'authorization',
        ...(decision.policy === undefined ? {} : { policy: decision.policy }),
      });
      this.#answer(
        denial?.status ?? ACCESS_DENIED_STATUS,
        denial?.body ?? ACCESS_DENIED_BODY,
        ErrorCodes.permissionDenied,
        denial?.headers,
      );
      return;
    }
    const requestHeaders = this.#request.headers;
    for (const [name, value] of decision.upstreamHeaders ?? []) requestHeaders[name] = value;
    for (const [name, value] of decision.downstreamHeaders ?? []) this.#response.appendHeader(name, value);
    const context = this.#requestContext();
    const call = this.#call;
    if (call === undefined || call.isEdgeOnly) {
      runInRequestContext(context, enter, this.#entry, this.#request, this.#response, this.#next);
    } else {
      runInRequestContext(context, () =>
        traceContexts.with(
          call.context,
          enter,
          undefined,
          this.#entry,
          this.#request,
          this.#response,
          this.#next,
        ),
      );
    }
  }

  /** A step that should never fail did: refuse the request rather than let it through. */
  #failClosed(error: unknown, reason: 'request-authentication' | 'authorization'): void {
    if (this.#isGone()) return;
    this.#pipeline.mesh.telemetry.recordDenial({ reason });
    const detail = error instanceof Error ? error.message : String(error);
    if (reason === 'request-authentication') {
      this.#answer(401, `authentication failed: ${detail}`, ErrorCodes.unauthenticated);
    } else {
      this.#answer(ACCESS_DENIED_STATUS, ACCESS_DENIED_BODY, ErrorCodes.permissionDenied);
    }
  }

  #startTelemetry(): void {
    const connection = this.#connection;
    const call = this.#pipeline.mesh.telemetry.startServerCall(new ServedRequest(this.#request, connection));
    if (call === undefined) return;
    this.#call = call;
    if (this.#isMutualTls) {
      call.peer = sourceLabels(this.#state.snapshot, connection);
      call.destinationPrincipal = connection.ownSpiffeId;
    }
    call.connectionSecurityPolicy = this.#isMutualTls ? 'mutual_tls' : 'none';
    call.downstreamRemoteAddress = connection.downstreamRemote;
    call.downstreamLocalAddress = connection.downstreamLocal;
    call.requestedServerName = connection.sni;
    call.requestBytes = byteCount(this.#request.headers['content-length']);
    const responseBytes = countResponseBodyBytes(this.#response);
    this.#response.once('close', () => this.#ended(call, responseBytes()));
  }

  #ended(call: TelemetryCall, responseBytes: number): void {
    const response = this.#response;
    if (!this.#isAnswered) {
      call.responded(response.statusCode);
      call.responseBytes = responseBytes;
    }
    call.end(response.writableFinished ? null : new DownstreamDisconnect('the caller went away'));
  }

  /**
   * What the handler's outbound calls carry: Istio's propagated headers as received, the trace
   * context (the server span's when one records, else the caller's as received), and the
   * caller's deadline.
   */
  #requestContext(): InboundContext {
    const headers = this.#request.headers;
    const names = this.#pipeline.propagatedHeaders;
    const call = this.#call;
    // Trace headers: none (the Telemetry policy says so), written from the call's context, or copied.
    const trace = this.#state.isTracePropagationDisabled
      ? 'none'
      : call === undefined || call.isEdgeOnly
        ? 'copy'
        : 'inject';
    const propagated: [string, string][] = [];
    let receivedTrace: [string, string][] | undefined;
    // One pass over the request's headers (a handful) rather than a lookup per propagated name.
    for (const name in headers) {
      const isTrace = names.get(name);
      if (isTrace === undefined) continue;
      const value = headerOf(headers, name);
      if (value === undefined) continue;
      if (!isTrace || trace === 'copy') {
        propagated.push([name, value]);
      } else if (trace === 'inject') {
        receivedTrace ??= [];
        receivedTrace.push([name, value]);
      }
    }
    if (trace === 'inject' && call !== undefined) {
      const before = propagated.length;
      this.#pipeline.mesh.telemetry.injectContext(call.context, propagated, PAIRS_SETTER);
      // Nothing written (no trace the propagators could read): pass on what the caller sent.
      if (propagated.length === before && receivedTrace !== undefined) propagated.push(...receivedTrace);
    }
    const deadlineMs = parseDeadlineHeader(headers[DEADLINE_HEADER]);
    const clock = this.#pipeline.mesh.clock;
    const deadlineAtMs = deadlineMs === undefined ? undefined : clock.now() + deadlineMs;
    return new InboundContext(this.#request, propagated, deadlineAtMs, clock);
  }

  /** The pipeline's own answer: the application never sees the request. */
  #answer(
    status: number,
    body: string,
    errorCode: ErrorCode | undefined,
    headers: readonly (readonly [string, string])[] = [],
  ): void {
    this.#isAnswered = true;
    this.#entry.answered?.(this.#next);
    const response = this.#response;
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const bytes = Buffer.byteLength(body);
    this.#call?.answered(status, undefined, errorCode, bytes);
    response.statusCode = status;
    for (const [name, value] of headers) response.setHeader(name, value);
    response.setHeader('content-type', 'text/plain');
    response.setHeader('content-length', bytes);
    if (errorCode !== undefined) response.setHeader(ERROR_CODE_HEADER, errorCode);
    response.end(body);
  }

  /** The caller went away while authentication or authorization was waiting. */
  #isGone(): boolean {
    const response = this.#response;
    if (!response.destroyed && !this.#request.socket.destroyed) return false;
    this.#isAnswered = true;
    return true;
  }
}

function byteCount(value: string | number | string[] | undefined): number {
  const count = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : 0;
  return Number.isInteger(count) && count >= 0 ? count : 0;
}
