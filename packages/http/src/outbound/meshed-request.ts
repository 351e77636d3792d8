import type { IncomingHttpHeaders } from 'node:http';
import {
  type AttemptOutcome,
  type BreakerPermit,
  type Clock,
  type ClusterEndpoint,
  type ClusterRuntime,
  type CompiledRoute,
  type ErrorCode,
  ErrorCodes,
  type FaultDecision,
  formatSetCookie,
  type GeneratedCookie,
  type HashRequestView,
  type HttpRouteSpec,
  isIdempotentMethod,
  type Mesh,
  matchedUriPrefix,
  NO_FAULT,
  pickWeighted,
  queryParameter,
  RetryController,
  type RetryPlan,
  type RetryRuntime,
  type RouteRequest,
  type TelemetryCall,
  type TimerHandle,
  WeftError,
  type WorkloadView,
} from '@weft/core';
import type { Dispatcher } from 'undici';
import type { PropagatedDeadline } from '../propagation/context-headers.ts';
import { DEADLINE_HEADER, formatDeadlineHeader } from '../propagation/deadline-header.ts';
import { callTimeout, type DeadlineSource } from './call-deadline.ts';
import { applyHeaderOperations } from './header-operations.ts';
import { mirrorRequest } from './mirror.ts';
import { startOutboundTelemetry } from './outbound-telemetry.ts';
import type { ReplayableBody } from './replayable-body.ts';
import { cookieValue, type HeaderRecord, headerValue } from './request-headers.ts';
import { ResponseFlags } from './response-flags.ts';
import { directResponse, redirectResponse } from './route-answers.ts';
import { compiledRewrite, rewritePath } from './route-rewrite.ts';
import { deliverSyntheticResponse, type SyntheticResponse } from './synthetic-response.ts';
import type { MeshedTarget } from './target.ts';
import { type EndpointTransport, transportError } from './tls/endpoint-transport.ts';
import { noteTransport, noteVerifiedPeer } from './tls/transport-telemetry.ts';
import type { UpstreamTransport } from './tls/upstream-transport.ts';
import { classifyTransportError, transportFailureReason } from './transport-errors.ts';

/** The body of the answer to a call whose propagated deadline passed. */
const DEADLINE_EXCEEDED_BODY = 'deadline exceeded: the inbound request’s deadline passed';

/**
 * The answer to a call the inbound request's deadline ended (or that started after it): 504 with
 * Envoy's UT, as a route timeout, but code WEFT_ERR_DEADLINE_EXCEEDED (access log details
 * `weft_deadline_exceeded`), so the caller's deadline is told from the operator's timeout. DI
 * too when an injected delay was running.
 */
function deadlineExceededResponse(isInjectingDelay: boolean): SyntheticResponse {
  return {
    status: 504,
    body: DEADLINE_EXCEEDED_BODY,
    flags: isInjectingDelay
      ? [ResponseFlags.delayInjected, ResponseFlags.upstreamTimeout]
      : [ResponseFlags.upstreamTimeout],
    errorCode: ErrorCodes.deadlineExceeded,
  };
}

/** Istio's `host_selection_retry_max_attempts` for retryIgnorePreviousHosts. */
const HOST_SELECTION_RETRIES = 5;

/** What every request of one interceptor shares. */
export interface OutboundContext {
  readonly mesh: Mesh;
  readonly dispatch: Dispatcher.Dispatch;
  readonly retryPlanFor: (route: CompiledRoute<HttpRouteSpec>) => RetryPlan;
  /** The retry controllers' collaborators, built once per interceptor. */
  readonly retryRuntime: RetryRuntime;
  /** How attempts reach endpoints: plaintext, mTLS or TLS origination (tls/upstream-transport.ts). */
  readonly transport: UpstreamTransport;
}

/**
 * One logical request through the mesh, in the policy order of DESIGN.md: route match → fault →
 * (per attempt) destination choice → load-balancer pick → pool admission → per-try timeout →
 * transport → outlier accounting, all under the retry policy and one overall deadline: the route's
 * timeout, or what is left of the inbound request's deadline when that is sooner (a call made
 * after the caller gave up is answered at once, sending nothing).
 *
 * The caller's handler sees one request whatever happens inside: one onRequestStart with a
 * stable controller, then the response of the attempt that was delivered (or one the mesh made,
 * with an Envoy-style flag), never pieces of two attempts.
 */
export class MeshedRequest implements Dispatcher.DispatchController {
  /** The delivered response's header list, as undici's fetch reads it from the controller. */
  rawHeaders: Dispatcher.DispatchController['rawHeaders'] = null;
  rawTrailers: Dispatcher.DispatchController['rawTrailers'] = null;
  readonly #context: OutboundContext;
  readonly #view: WorkloadView;
  readonly #target: MeshedTarget;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #headers: HeaderRecord;
  readonly #body: ReplayableBody;
  readonly #request: RouteRequest;
  readonly #path: string;
  #route: CompiledRoute<HttpRouteSpec> | undefined;
  #retry: RetryController | undefined;
  #fault: FaultDecision = NO_FAULT;
  #outboundPath = '';
  #authority = '';
  #deadlineMs: number | undefined;
  /** Which limit `#deadlineMs` is: it decides the answer when it passes. */
  #deadlineSource: DeadlineSource = 'route';
  readonly #propagatedDeadline: PropagatedDeadline | undefined;
  #totalTimer: TimerHandle | undefined;
  #attempt: Attempt | undefined;
  #backoffTimer: TimerHandle | undefined;
  #isDone = false;
  #isPaused = false;
  #abortReason: Error | null = null;
  /** The route's call-breaker permit, reported on when the request ends. */
  #permit: BreakerPermit | undefined;
  /** The status the caller got, for the breaker's verdict. */
  #deliveredStatus: number | undefined;
  /** Whether an injected delay is running (a timeout then is the delay's doing: flag DI). */
  #isInjectingDelay = false;
  /** Endpoints this request has tried, for Istio's retryIgnorePreviousHosts (on by default). */
  #triedEndpoints: Set<string> | undefined;
  #firstTried: string | undefined;
  /** A consistent-hash cookie generated for this request, set on its response. */
  #generatedCookie: GeneratedCookie | undefined;
  /** The request's span, metrics and access log; undefined when nothing records (no SDK, no log). */
  #call: TelemetryCall | undefined;

  constructor(
    context: OutboundContext,
    view: WorkloadView,
    target: MeshedTarget,
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
    headers: HeaderRecord,
    body: ReplayableBody,
    propagatedDeadline?: PropagatedDeadline,
  ) {
    this.#context = context;
    this.#propagatedDeadline = propagatedDeadline;
    this.#view = view;
    this.#target = target;
    this.#options = options;
    this.#handler = handler;
    this.#headers = headers;
    this.#body = body;
    const fullPath = options.path;
    const query = fullPath.indexOf('?');
    this.#path = query === -1 ? fullPath : fullPath.slice(0, query);
    this.#request = {
      path: fullPath,
      method: options.method,
      authority: target.authority,
      scheme: target.scheme,
      port: target.port,
      header: (name) => headerValue(headers, name),
    };
  }

  // RetryRequestFacts, read by the retry controller when each attempt ends.
  get isIdempotent(): boolean {
    return isIdempotentMethod(this.#options.method);
  }
  /** A streamed body is replayable only once it was recorded whole. */
  get isBodyReplayable(): boolean {
    return this.#body.whyNotReplayable === undefined;
  }
  get deadlineMs(): number | undefined {
    return this.#deadlineMs;
  }

  // The controller the caller's handler holds for the whole request.
  get aborted(): boolean {
    return this.#abortReason !== null;
  }
  get paused(): boolean {
    return this.#isPaused;
  }
  get reason(): Error | null {
    return this.#abortReason;
  }
  abort(reason: Error): void {
    if (this.#abortReason !== null || this.#isDone) return;
    this.#abortReason = reason;
    this.#clearTimers();
    const attempt = this.#attempt;
    if (attempt !== undefined) attempt.abandon(reason);
    this.#finish();
    this.#handler.onResponseError?.(this, reason);
  }
  pause(): void {
    this.#isPaused = true;
    this.#attempt?.controller?.pause();
  }
  resume(): void {
    this.#isPaused = false;
    this.#attempt?.controller?.resume();
  }

  start(): void {
    this.#handler.onRequestStart?.(this, {});
    if (this.aborted) return;
    this.#call = startOutboundTelemetry(this.#context.mesh, this.#request, this.#headers, this.#options.body);
    const table = this.#view.routeTable(this.#target.host, this.#target.port);
    const route = table?.matchPath(this.#request, this.#path);
    if (route === undefined) {
      this.#answer({
        status: 404,
        body: 'route not found',
        flags: [ResponseFlags.noRoute],
        errorCode: ErrorCodes.noRoute,
      });
      return;
    }
    this.#route = route;
    if (this.#call !== undefined) this.#call.routeName = route.name;
    const spec = route.spec;
    if (spec?.redirect !== undefined) {
      const prefix = matchedUriPrefix(route, this.#request, this.#path);
      this.#answer(
        redirectResponse(spec.redirect, {
          authority: this.#target.authority,
          scheme: this.#target.scheme,
          fullPath: this.#options.path,
          path: this.#path,
          ...(prefix === undefined ? {} : { matchedPrefix: prefix }),
        }),
      );
      return;
    }
    if (spec?.directResponse !== undefined) {
      this.#answer(directResponse(spec.directResponse));
      return;
    }
    const timeout = callTimeout(route.timeoutMs, this.#propagatedDeadline?.remainingMs);
    if (timeout !== undefined) {
      if (timeout.timeoutMs <= 0) {
        // The caller has given up already: nothing is sent (no fault, mirror or attempt).
        this.#answer(deadlineExceededResponse(false));
        return;
      }
      const clock = this.#context.mesh.clock;
      this.#deadlineMs = clock.now() + timeout.timeoutMs;
      this.#deadlineSource = timeout.source;
      this.#totalTimer = clock.setTimeout(() => this.#onTotalTimeout(), timeout.timeoutMs);
    }
    this.#prepareOutbound(route, spec);
    this.#fault = this.#context.mesh.faults.decide(spec?.fault, route.name);
    if (this.#fault.delayMs !== undefined) {
      this.#isInjectingDelay = true;
      this.#backoffTimer = this.#context.mesh.clock.setTimeout(() => {
        this.#backoffTimer = undefined;
        this.#isInjectingDelay = false;
        this.#afterDelay();
      }, this.#fault.delayMs);
      return;
    }
    this.#afterDelay();
  }

  /** Route-level header operations and rewrites, applied once for every attempt. */
  #prepareOutbound(route: CompiledRoute<HttpRouteSpec>, spec: HttpRouteSpec | undefined): void {
    this.#authority = this.#target.authority;
    this.#outboundPath = this.#options.path;
    const rewrite = spec?.rewrite;
    if (rewrite !== undefined) {
      const compiled = compiledRewrite(rewrite);
      this.#outboundPath = rewritePath(compiled, route, this.#request, this.#path, this.#options.path);
      if (compiled.authority !== undefined) this.#authority = compiled.authority;
    }
  }

  #afterDelay(): void {
    if (this.#isDone) return;
    const abort = this.#fault.abort;
    if (abort !== undefined) {
      const status = abort.httpStatus ?? 503;
      const flags =
        this.#fault.delayMs === undefined
          ? [ResponseFlags.faultInjected]
          : [ResponseFlags.delayInjected, ResponseFlags.faultInjected];
      this.#answer({ status, body: 'fault filter abort', flags, errorCode: ErrorCodes.faultInjected });
      return;
    }
    const route = this.#route;
    if (route === undefined) return;
    const breaker = this.#context.mesh.breakers.forRoute(route.name);
    if (breaker !== undefined) {
      const permit = breaker.tryAcquire();
      if (permit.kind === 'circuit-open') {
        this.#answer({
          status: 503,
          body: `circuit open: ${route.name}`,
          flags: [ResponseFlags.circuitOpen],
          errorCode: ErrorCodes.circuitOpen,
        });
        return;
      }
      this.#permit = permit;
    }
    const spec = route.spec;
    if (spec !== undefined) {
      mirrorRequest(this.#context, this.#view, spec, {
        options: this.#options,
        authority: this.#authority,
        headers: this.#headers,
        body: this.#body,
        path: this.#outboundPath,
      });
    }
    // The request is its own RetryRequestFacts (see the getters below): nothing to allocate.
    this.#retry = new RetryController(this.#context.retryPlanFor(route), this, this.#context.retryRuntime);
    this.#startAttempt();
  }

  #startAttempt(): void {
    if (this.#isDone) return;
    const route = this.#route;
    const retry = this.#retry;
    if (route === undefined || retry === undefined) return;
    const destination = pickWeighted(route, this.#context.mesh.random.next());
    const cluster = destination === undefined ? undefined : this.#view.cluster(destination);
    if (destination === undefined || cluster === undefined || cluster.endpoints.length === 0) {
      this.#answer({
        status: 503,
        body: 'no healthy upstream',
        flags: [ResponseFlags.noHealthyUpstream],
        errorCode: ErrorCodes.noHealthyUpstream,
      });
      return;
    }
    const runtime = this.#context.mesh.clusters.forCluster(cluster);
    const admission = runtime.pool.tryStartRequest();
    if (admission.kind === 'overflow') {
      this.#answer({
        status: 503,
        body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
        flags: [ResponseFlags.overflow],
        errorCode: ErrorCodes.upstreamOverflow,
      });
      return;
    }
    if (admission.kind === 'aborted') return;
    if (admission.kind === 'pending') {
      admission.admission.then(
        (lease) => {
          if (lease.kind === 'admitted') this.#dispatchAttempt(route, runtime, () => lease.release());
        },
        () => {},
      );
      return;
    }
    this.#dispatchAttempt(route, runtime, () => admission.release());
  }

  #dispatchAttempt(route: CompiledRoute<HttpRouteSpec>, runtime: ClusterRuntime, release: () => void): void {
    if (this.#isDone) {
      release();
      return;
    }
    const retry = this.#retry;
    if (retry === undefined) return;
    let body: Dispatcher.DispatchOptions['body'];
    try {
      body = this.#body.next();
    } catch (error) {
      // The retry controller refuses a retry whose body cannot be sent again; reaching this is a
      // bug, and sending an empty body in its place would be worse than failing.
      release();
      this.#answer({
        status: 503,
        body: `request body cannot be sent again: ${error instanceof Error ? error.message : String(error)}`,
        flags: [ResponseFlags.upstreamReset],
        errorCode: ErrorCodes.upstreamReset,
      });
      return;
    }
    const hasher = runtime.balancer.hasher;
    const hash = hasher === undefined ? undefined : hasher.hash(this.#hashView());
    const picked = this.#pickEndpoint(runtime, route, hash);
    if (picked === undefined) {
      release();
      this.#answer({
        status: 503,
        body: 'no healthy upstream',
        flags: [ResponseFlags.noHealthyUpstream],
        errorCode: ErrorCodes.noHealthyUpstream,
      });
      return;
    }
    const transport = this.#context.transport.forAttempt(
      runtime,
      picked.endpoint,
      this.#target.scheme,
      this.#authority,
    );
    if (transport.kind === 'refused') {
      // mTLS required without a certificate, or settings Weft cannot honour: nothing is sent.
      release();
      if (this.#call !== undefined) this.#call.upstreamTransportFailureReason = transport.error.message;
      this.#answer({
        status: 503,
        body: `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: ${transport.error.message}`,
        flags: [ResponseFlags.upstreamConnectionFailure],
        errorCode: transport.error.code,
      });
      return;
    }
    retry.beginAttempt(runtime.retryBudget);
    if (this.#propagatedDeadline?.isHeaderPropagated === true && this.#deadlineMs !== undefined) {
      // What the upstream may spend: what is left of the call's deadline as this attempt starts.
      this.#headers[DEADLINE_HEADER] = formatDeadlineHeader(
        this.#deadlineMs - this.#context.mesh.clock.now(),
      );
    }
    const headers = this.#attemptHeaders(route, runtime);
    const attempt = new Attempt(this, this.#context.mesh.clock, {
      runtime,
      endpoint: picked.endpoint,
      endpointKey: picked.key,
      load: picked.load,
      release,
      route,
      transport,
    });
    this.#attempt = attempt;
    if (this.#call !== undefined) {
      this.#call.attemptStarted(runtime.cluster, picked.endpoint);
      noteTransport(this.#call, transport);
    }
    const perTry = route.retry.perTryTimeoutMs;
    if (perTry !== undefined) {
      attempt.timer = this.#context.mesh.clock.setTimeout(() => attempt.onPerTryTimeout(), perTry);
    }
    picked.load.onStart();
    if (transport.kind === 'plaintext') {
      this.#context.dispatch(
        { ...this.#options, origin: transport.origin, path: this.#outboundPath, headers, body },
        attempt,
      );
    } else {
      transport.pool.dispatch(
        {
          ...this.#options,
          origin: transport.origin,
          path: this.#outboundPath,
          headers,
          body,
          servername: transport.servername,
        } as Dispatcher.DispatchOptions,
        attempt,
      );
    }
  }

  /** An attempt got response headers: deliver them, or retry. */
  onAttemptResponse(attempt: Attempt, status: number, headers: IncomingHttpHeaders): boolean {
    const outcome: AttemptOutcome = { kind: 'response', status, headers: headerReader(headers) };
    attempt.runtime.recordStatus(attempt.endpointKey, status);
    if (this.#call !== undefined) {
      noteVerifiedPeer(this.#call, attempt.transport);
      this.#call.attemptEnded(status);
    }
    return this.#decide(attempt, outcome) === 'deliver';
  }

  /** An attempt failed before its response was delivered. */
  onAttemptFailure(attempt: Attempt, outcome: AttemptOutcome, error: Error): void {
    if (outcome.kind !== 'overflow') attempt.runtime.recordLocalOriginFailure(attempt.endpointKey);
    if (this.#call !== undefined) {
      this.#call.upstreamTransportFailureReason = transportFailureReason(error);
      this.#call.attemptEnded(outcome.kind);
    }
    const verdict = this.#decide(attempt, outcome);
    if (verdict === 'deliver') this.#failWith(outcome, error);
  }

  /** The delivered attempt's response ended (or broke mid-body). */
  onAttemptEnd(): void {
    this.#finish();
  }

  /**
   * Picks an endpoint; on a retry with `retryIgnorePreviousHosts` (Istio's default) it picks again,
   * up to Istio's 5 host-selection attempts, while the pick is one this request already tried.
   */
  #pickEndpoint(runtime: ClusterRuntime, route: CompiledRoute<HttpRouteSpec>, hash: number | undefined) {
    const picker = runtime.balancer.picker();
    const context = hash === undefined ? undefined : { hash };
    let picked = picker.pick(context);
    if (picked === undefined) return undefined;
    const first = this.#firstTried;
    if (first === undefined) {
      // The first attempt (almost every request): remember its endpoint without a Set.
      this.#firstTried = picked.key;
      return picked;
    }
    this.#triedEndpoints ??= new Set([first]);
    const tried = this.#triedEndpoints;
    if (route.retry.retryIgnorePreviousHosts) {
      for (
        let again = 0;
        again < HOST_SELECTION_RETRIES && picked !== undefined && tried.has(picked.key);
        again++
      ) {
        picked = picker.pick(context);
      }
    }
    if (picked !== undefined) tried.add(picked.key);
    return picked;
  }

  /**
   * The headers an attempt sends. Without header operations (the usual route) the request's own
   * record is sent as it is; with them, each attempt gets a fresh copy, since `add` is not
   * idempotent and another attempt may go to another destination.
   */
  #attemptHeaders(route: CompiledRoute<HttpRouteSpec>, runtime: ClusterRuntime): HeaderRecord {
    if (!headerOperationsOf(route).request) {
      this.#headers.host = this.#authority;
      return this.#headers;
    }
    const headers: HeaderRecord = { ...this.#headers };
    applyHeaderOperations(headers, destinationOf(route, runtime)?.headers?.request);
    applyHeaderOperations(headers, route.spec?.headers?.request);
    headers.host = this.#authority;
    return headers;
  }

  /** What consistent hashing reads of this request (DestinationRule `consistentHash`). */
  #hashView(): HashRequestView {
    const headers = this.#headers;
    return {
      header: (name) => headerValue(headers, name),
      cookie: (name) => cookieValue(headerValue(headers, 'cookie'), name),
      query: (name) => queryParameter(this.#options.path, name),
      sourceIp: this.#context.mesh.workload.address,
      setCookie: (cookie) => {
        this.#generatedCookie = cookie;
      },
    };
  }

  /** Records the status the caller is getting (the call breaker judges the call by it). */
  noteDelivered(status: number): void {
    this.#deliveredStatus = status;
    this.#call?.responded(status);
  }

  /** Counts response body bytes delivered to the caller (istio_response_bytes). */
  countResponseBytes(bytes: number): void {
    if (this.#call !== undefined) this.#call.responseBytes += bytes;
  }

  get handler(): Dispatcher.DispatchHandler {
    return this.#handler;
  }

  /** Response header operations for the delivered response. */
  responseHeaders(attempt: Attempt, headers: IncomingHttpHeaders): IncomingHttpHeaders {
    const route = attempt.route;
    if (this.#generatedCookie === undefined && !headerOperationsOf(route).response) return headers;
    const cookie = this.#generatedCookie;
    const destinationOperations = destinationOf(route, attempt.runtime)?.headers?.response;
    const routeOperations = route.spec?.headers?.response;
    if (destinationOperations === undefined && routeOperations === undefined && cookie === undefined)
      return headers;
    const copy: HeaderRecord = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) copy[name] = value;
    applyHeaderOperations(copy, destinationOperations);
    applyHeaderOperations(copy, routeOperations);
    if (cookie !== undefined) applyHeaderOperations(copy, { add: { 'set-cookie': formatSetCookie(cookie) } });
    return copy;
  }

  #decide(attempt: Attempt, outcome: AttemptOutcome): 'deliver' | 'retry' {
    const retry = this.#retry;
    if (retry === undefined || this.#isDone) return 'deliver';
    const decision = retry.endAttempt(outcome);
    if (!decision.shouldRetry) {
      // Envoy logs URX when it delivers a response it would have retried but for the limit.
      if (decision.reason === 'attempts-exhausted' && retry.attempts > 1)
        this.#call?.addResponseFlag(ResponseFlags.retryLimitExceeded);
      return 'deliver';
    }
    attempt.abandon(new Error('retrying'));
    this.#attempt = undefined;
    this.#backoffTimer = this.#context.mesh.clock.setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#startAttempt();
    }, decision.delayMs);
    return 'retry';
  }

  #failWith(outcome: AttemptOutcome, error: Error): void {
    const retried = (this.#retry?.attempts ?? 1) > 1;
    const flags: string[] = [];
    let status = 503;
    let body = `upstream connect error or disconnect/reset before headers. reset reason: ${error.message}`;
    let errorCode: ErrorCode = ErrorCodes.upstreamReset;
    const tlsReason = transportFailureReason(error);
    switch (outcome.kind) {
      case 'connect-failure':
        flags.push(ResponseFlags.upstreamConnectionFailure);
        body = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
        if (tlsReason !== undefined) body += `, transport failure reason: ${tlsReason}`;
        errorCode = ErrorCodes.upstreamConnectFailure;
        break;
      case 'tls-auth-failure':
        // A certificate refused in the handshake: Envoy's UF with the TLS error, never retried.
        flags.push(ResponseFlags.upstreamConnectionFailure);
        body = `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: ${tlsReason ?? error.message}`;
        errorCode = ErrorCodes.unauthenticated;
        break;
      case 'per-try-timeout':
        flags.push(ResponseFlags.upstreamTimeout);
        status = 504;
        body = 'upstream request timeout';
        errorCode = ErrorCodes.perTryTimeout;
        break;
      default:
        flags.push(ResponseFlags.upstreamReset);
    }
    if (retried) {
      flags.push(ResponseFlags.retryLimitExceeded);
      errorCode = ErrorCodes.retriesExhausted;
    }
    this.#answer({ status, body, flags, errorCode });
  }

  #onTotalTimeout(): void {
    this.#totalTimer = undefined;
    if (this.#isDone) return;
    const attempt = this.#attempt;
    const isPropagated = this.#deadlineSource === 'propagated';
    if (attempt?.isDelivering === true) {
      // The response has started: a route timeout now can only break it, as Envoy does.
      const error = isPropagated
        ? new WeftError(ErrorCodes.deadlineExceeded, DEADLINE_EXCEEDED_BODY)
        : new Error('upstream request timeout');
      attempt.abandon(error);
      this.#finish();
      this.#handler.onResponseError?.(this, error);
      return;
    }
    attempt?.abandon(new Error(isPropagated ? DEADLINE_EXCEEDED_BODY : 'upstream request timeout'));
    this.#attempt = undefined;
    if (attempt !== undefined) attempt.runtime.recordLocalOriginFailure(attempt.endpointKey);
    if (isPropagated) {
      this.#answer(deadlineExceededResponse(this.#isInjectingDelay));
      return;
    }
    // A timeout during an injected delay is the delay's doing; say so (retries-and-faults.md §8).
    const flags = this.#isInjectingDelay
      ? [ResponseFlags.delayInjected, ResponseFlags.upstreamTimeout]
      : [ResponseFlags.upstreamTimeout];
    this.#answer({ status: 504, body: 'upstream request timeout', flags, errorCode: ErrorCodes.timeout });
  }

  /** Ends the request with a response the mesh made. */
  #answer(response: SyntheticResponse): void {
    if (this.#isDone) return;
    this.#deliveredStatus = response.status;
    this.#call?.answered(
      response.status,
      response.flags,
      response.errorCode,
      Buffer.byteLength(response.body ?? ''),
    );
    this.#finish();
    deliverSyntheticResponse(this.#handler, response, this, true);
  }

  #finish(): void {
    if (this.#isDone) return;
    this.#isDone = true;
    this.#clearTimers();
    this.#retry?.finish();
    this.#context.mesh.faults.release(this.#fault);
    const permit = this.#permit;
    if (permit !== undefined) {
      // A cancelled call says nothing about the upstream; a 5xx or a broken response counts.
      if (this.#abortReason !== null) permit.ignore();
      else if (this.#deliveredStatus !== undefined && this.#deliveredStatus < 500) permit.success();
      else permit.failure();
    }
    this.#call?.end(this.#abortReason);
  }

  #clearTimers(): void {
    const clock = this.#context.mesh.clock;
    if (this.#totalTimer !== undefined) clock.clearTimeout(this.#totalTimer);
    if (this.#backoffTimer !== undefined) clock.clearTimeout(this.#backoffTimer);
    this.#totalTimer = undefined;
    this.#backoffTimer = undefined;
  }
}

/**
 * The handler of one attempt. Until the request decides to deliver this attempt's response it
 * keeps everything to itself; afterwards it forwards to the caller's handler, with the request's
 * stable controller in place of the connection's.
 */
export class Attempt implements Dispatcher.DispatchHandler {
  readonly runtime: ClusterRuntime;
  readonly endpoint: ClusterEndpoint;
  /** `address:port`, as the balancer keys it; what outlier detection is told. */
  readonly endpointKey: string;
  readonly route: CompiledRoute<HttpRouteSpec>;
  /** How this attempt reached its endpoint (plaintext, mTLS, TLS origination). */
  readonly transport: EndpointTransport;
  controller: Dispatcher.DispatchController | undefined;
  timer: TimerHandle | undefined;
  isDelivering = false;
  readonly #request: MeshedRequest;
  readonly #clock: Clock;
  readonly #load: EndpointLoadRecorder;
  readonly #release: () => void;
  readonly #startedMs: number;
  #hasRequestStarted = false;
  #isSettled = false;
  #isAbandoned = false;

  constructor(request: MeshedRequest, clock: Clock, parts: AttemptParts) {
    this.#request = request;
    this.#clock = clock;
    this.runtime = parts.runtime;
    this.endpoint = parts.endpoint;
    this.endpointKey = parts.endpointKey;
    this.#load = parts.load;
    this.#release = parts.release;
    this.route = parts.route;
    this.transport = parts.transport;
    this.#startedMs = clock.now();
  }

  /** Stops this attempt without telling the caller (a retry, a timeout, the caller's abort). */
  abandon(reason: Error): void {
    if (this.#isAbandoned) return;
    this.#isAbandoned = true;
    this.#settle(false);
    this.controller?.abort(reason);
  }

  onPerTryTimeout(): void {
    this.timer = undefined;
    if (this.#isSettled || this.isDelivering) return;
    const error = new Error('per-try timeout');
    this.#isAbandoned = true;
    this.#settle(false);
    this.controller?.abort(error);
    this.#request.onAttemptFailure(this, { kind: 'per-try-timeout' }, error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.#hasRequestStarted = true;
    if (this.#isAbandoned) controller.abort(new Error('attempt abandoned'));
    else if (this.#request.paused) controller.pause();
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (this.#isAbandoned) return;
    this.#clearTimer();
    if (!this.#request.onAttemptResponse(this, statusCode, headers)) return;
    this.isDelivering = true;
    this.#request.noteDelivered(statusCode);
    const delivered = this.#request.responseHeaders(this, headers);
    this.#request.rawHeaders =
      delivered === headers ? (controller.rawHeaders ?? null) : Object.entries(delivered).flat(2).map(String);
    this.#request.handler.onResponseStart?.(this.#request, statusCode, delivered, statusMessage);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.isDelivering || this.#isAbandoned) return;
    this.#request.countResponseBytes(chunk.length);
    this.#request.handler.onResponseData?.(this.#request, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (!this.isDelivering || this.#isAbandoned) return;
    this.#request.rawTrailers = controller.rawTrailers ?? null;
    this.#settle(true);
    this.#request.onAttemptEnd();
    this.#request.handler.onResponseEnd?.(this.#request, trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.#isAbandoned) return;
    this.#clearTimer();
    if (this.isDelivering) {
      this.#settle(false);
      this.#request.onAttemptEnd();
      this.#request.handler.onResponseError?.(this.#request, error);
      return;
    }
    this.#settle(false);
    this.#isAbandoned = true;
    const cause = transportError(error, this.transport);
    this.#request.onAttemptFailure(this, classifyTransportError(cause, this.#hasRequestStarted), cause);
  }

  #clearTimer(): void {
    if (this.timer !== undefined) this.#clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  #settle(ok: boolean): void {
    if (this.#isSettled) return;
    this.#isSettled = true;
    this.#clearTimer();
    this.#load.onEnd(this.#clock.now() - this.#startedMs, ok);
    this.#release();
  }
}

/** The load record of the picked endpoint: least-request and EWMA balancers read it. */
interface EndpointLoadRecorder {
  onEnd(latencyMs: number, ok: boolean): void;
}

/** What one attempt is made of. */
interface AttemptParts {
  readonly runtime: ClusterRuntime;
  readonly endpoint: ClusterEndpoint;
  readonly endpointKey: string;
  readonly load: EndpointLoadRecorder;
  /** Gives back the connection-pool lease; called exactly once. */
  readonly release: () => void;
  readonly route: CompiledRoute<HttpRouteSpec>;
  readonly transport: EndpointTransport;
}

function headerReader(headers: IncomingHttpHeaders): { get(name: string): string | undefined } {
  return {
    get(name) {
      const value = headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

const headerOperations = new WeakMap<CompiledRoute<HttpRouteSpec>, { request: boolean; response: boolean }>();

/** Whether a route or any of its destinations edits request or response headers; once per route. */
function headerOperationsOf(route: CompiledRoute<HttpRouteSpec>): { request: boolean; response: boolean } {
  let operations = headerOperations.get(route);
  if (operations === undefined) {
    const destinations = route.spec?.route ?? [];
    operations = {
      request:
        route.spec?.headers?.request !== undefined ||
        destinations.some((entry) => entry.headers?.request !== undefined),
      response:
        route.spec?.headers?.response !== undefined ||
        destinations.some((entry) => entry.headers?.response !== undefined),
    };
    headerOperations.set(route, operations);
  }
  return operations;
}

/** The route's destination entry that led to a cluster, for its per-destination header operations. */
function destinationOf(route: CompiledRoute<HttpRouteSpec>, runtime: ClusterRuntime) {
  const { host, subset } = runtime.cluster;
  return route.spec?.route?.find(
    (entry) => entry.destination.host === host && entry.destination.subset === subset,
  );
}
