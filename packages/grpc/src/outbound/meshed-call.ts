import {
  type InterceptingListener,
  type InterceptorOptions,
  Metadata,
  type NextCall,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import {
  type AttemptOutcome,
  type BreakerPermit,
  type ClusterRuntime,
  type CompiledRoute,
  type FaultDecision,
  type HttpRouteSpec,
  ISTIO_UNLIMITED,
  NO_FAULT,
  type PoolLease,
  pickWeighted,
  RetryController,
  type RetryRequestFacts,
  type TelemetryCall,
  type TimerHandle,
  type WorkloadView,
} from '@weft/core';
import { PICK_FAILURE_METADATA } from '../channel/endpoint-hint.ts';
import type { TargetService } from '../channel/target-service.ts';
import { currentIncomingCall } from '../inbound/incoming-call.ts';
import { connectionId, type EndpointTransport, endpointTransport } from '../security/endpoint-transport.ts';
import { grpcStatusToHttp } from '../status/grpc-status-mapping.ts';
import { type MeshStatus, toStatusObject } from '../status/mesh-status.ts';
import { ResponseFlags } from '../status/response-flags.ts';
import { type AttemptCall, type AttemptOwner, CallAttempt } from './call-attempt.ts';
import {
  attemptWallDeadline,
  type CallDeadline,
  callDeadline,
  inheritedDeadlineMs,
  isDue,
} from './call-deadline.ts';
import { callTypeOf, emitAttemptEvent, emitCallEvent } from './call-events.ts';
import { attemptMetadata, callAuthority } from './call-metadata.ts';
import {
  endCancelled,
  endWithMeshStatus,
  endWithUpstreamStatus,
  noteAttemptEnd,
  noteAttemptTransport,
  startClientTelemetry,
  type TraceHeaderSink,
} from './call-telemetry.ts';
import { MeshAnswers } from './mesh-answers.ts';
import { applyMetadataOperations } from './metadata-operations.ts';
import { hashViewOf, metadataReader, routeRequestOf } from './metadata-reading.ts';
import type { OutboundContext } from './outbound-context.ts';
import { OutgoingMessages } from './outgoing-messages.ts';
import { TriedEndpoints } from './tried-endpoints.ts';

/** Placeholders until start() brings the call's own: shared, never written to. */
const NO_METADATA = new Metadata();
const NO_LISTENER: Partial<InterceptingListener> = Object.freeze({});

/**
 * One logical gRPC call through the mesh, in the policy order of DESIGN.md: route match (method
 * path and metadata) → deadline → fault → (per attempt) weighted destination → load-balancer pick
 * → pool admission → per-try timeout → the attempt on the chosen endpoint's subchannel → outlier
 * accounting, under the retry policy.
 *
 * To the caller (grpc-js, or the interceptors above this one) it is one call: it receives one
 * set of response metadata, the messages and one status, never pieces of two attempts. An
 * attempt is committed when its response metadata or first message arrives; only an attempt that
 * ends before that (a trailers-only status, a failed connect, a per-try timeout) can be retried.
 */
export class MeshedCall implements AttemptOwner, RetryRequestFacts, TraceHeaderSink {
  readonly #context: OutboundContext;
  readonly #view: WorkloadView;
  readonly #service: TargetService;
  readonly #options: InterceptorOptions;
  readonly #nextCall: NextCall;
  readonly #method: string;
  readonly #isUnaryResponse: boolean;
  readonly #outgoing: OutgoingMessages;
  #tried: TriedEndpoints | undefined;
  #metadata: Metadata = NO_METADATA;
  #listener: Partial<InterceptingListener> = NO_LISTENER;
  #authority: string;
  #route: CompiledRoute<HttpRouteSpec> | undefined;
  #retry: RetryController | undefined;
  #fault: FaultDecision = NO_FAULT;
  #permit: BreakerPermit | undefined;
  #deadline: CallDeadline | undefined;
  #totalTimer: TimerHandle | undefined;
  #waitTimer: TimerHandle | undefined;
  #attempt: CallAttempt | undefined;
  #lastAttempt: CallAttempt | undefined;
  #startedAtMs = 0;
  #isIdempotent = false;
  #isInjectingDelay = false;
  #isCommitted = false;
  #isReadPending = false;
  #hasDeliveredMessage = false;
  #isDone = false;
  #wasCancelled = false;
  /** Inside start(): a status decided now is delivered on the next tick (see #deliverStatus). */
  #isStarting = false;
  #admissionAbort: AbortController | undefined;
  /** The call's telemetry (span, Istio metrics), when something records. */
  #telemetry: TelemetryCall | undefined;
  /** Trace context telemetry wrote for the attempts to carry. */
  #traceHeaders: [string, string][] | undefined;

  constructor(
    context: OutboundContext,
    view: WorkloadView,
    service: TargetService,
    authority: string,
    options: InterceptorOptions,
    nextCall: NextCall,
  ) {
    this.#context = context;
    this.#view = view;
    this.#service = service;
    this.#authority = authority;
    this.#options = options;
    this.#nextCall = nextCall;
    const definition = options.method_definition;
    this.#method = definition.path;
    this.#isUnaryResponse = !definition.responseStream;
    this.#outgoing = new OutgoingMessages(definition.requestStream, context.messageSizes);
  }

  // RetryRequestFacts, read by the retry controller when an attempt ends.
  get isIdempotent(): boolean {
    return this.#isIdempotent;
  }
  get isBodyReplayable(): boolean {
    return this.#outgoing.isReplayable;
  }
  get deadlineMs(): number | undefined {
    return this.#deadline?.atMs;
  }

  // The InterceptingCallInterface the caller's side drives.
  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#isStarting = true;
    try {
      this.#start(metadata, listener);
    } finally {
      this.#isStarting = false;
    }
  }

  #start(metadata: Metadata, listener: Partial<InterceptingListener> | undefined): void {
    const mesh = this.#context.mesh;
    this.#metadata = metadata;
    this.#listener = listener ?? NO_LISTENER;
    this.#startedAtMs = mesh.clock.now();
    this.#isIdempotent = this.#context.idempotency.isIdempotent(this.#method, metadata);
    const request = routeRequestOf(this.#method, this.#authority, this.#service.port, metadata);
    const incoming = currentIncomingCall();
    this.#telemetry = startClientTelemetry(mesh, request, metadata, incoming, this);
    const route = this.#view
      .routeTable(this.#service.host, this.#service.port)
      ?.matchPath(request, this.#method);
    if (route === undefined) {
      this.#answer(MeshAnswers.noRoute(this.#method, this.#service.host, this.#service.port));
      return;
    }
    this.#route = route;
    if (this.#telemetry !== undefined) this.#telemetry.routeName = route.name;
    const spec = route.spec;
    if (spec?.redirect !== undefined || spec?.directResponse !== undefined) {
      this.#answer(MeshAnswers.configured(spec, route.name));
      return;
    }
    this.#authority = callAuthority(spec, this.#authority);
    this.#deadline = callDeadline(
      this.#startedAtMs,
      this.#context.wallClock,
      route.timeoutMs,
      this.#options.deadline,
      inheritedDeadlineMs(incoming, this.#context.wallClock),
    );
    if (this.#deadline !== undefined) {
      const remainingMs = this.#deadline.atMs - this.#startedAtMs;
      if (remainingMs <= 0) {
        this.#onTotalTimeout();
        return;
      }
      this.#totalTimer = mesh.clock.setTimeout(() => this.#onTotalTimeout(), remainingMs);
    }
    this.#fault = mesh.faults.decide(spec?.fault, route.name);
    const delayMs = this.#fault.delayMs;
    if (delayMs !== undefined) {
      this.#isInjectingDelay = true;
      this.#waitTimer = mesh.clock.setTimeout(() => {
        this.#waitTimer = undefined;
        this.#isInjectingDelay = false;
        this.#afterDelay(route);
      }, delayMs);
      return;
    }
    this.#afterDelay(route);
  }

  sendMessageWithContext(
    context: Parameters<AttemptCall['sendMessageWithContext']>[0],
    message: unknown,
  ): void {
    if (this.#isDone) {
      // The call is over; release the writer waiting on this message instead of stalling it.
      context.callback?.();
      return;
    }
    this.#outgoing.send(context, message, this.#attempt?.call);
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  startRead(): void {
    this.#isReadPending = true;
    this.#attempt?.call.startRead();
  }

  halfClose(): void {
    if (!this.#isDone) this.#outgoing.halfClose(this.#attempt?.call);
  }

  cancelWithStatus(code: Status, details: string): void {
    if (this.#isDone) return;
    this.#wasCancelled = true;
    this.#abandonAttempt(code, details);
    const telemetry = this.#telemetry;
    this.#telemetry = undefined;
    if (telemetry !== undefined) {
      telemetry.requestBytes = this.#outgoing.sentBytes;
      endCancelled(telemetry, details, this.#isCommitted);
    }
    this.#deliverStatus({ code, details, metadata: new Metadata() }, []);
  }

  // TraceHeaderSink: telemetry writes the client span's context here, for every attempt.
  addTraceHeader(name: string, value: string): void {
    this.#traceHeaders ??= [];
    this.#traceHeaders.push([name, value]);
  }

  getPeer(): string {
    return this.#attempt?.call.getPeer() ?? this.#lastAttempt?.endpointKey ?? this.#authority;
  }

  getAuthContext(): ReturnType<AttemptCall['getAuthContext']> {
    return this.#attempt?.call.getAuthContext() ?? null;
  }

  // AttemptOwner: what the running attempt reports.
  onAttemptMetadata(attempt: CallAttempt, metadata: Metadata): void {
    if (attempt !== this.#attempt || this.#isDone) return;
    this.#commit(attempt);
    const operations = this.#route?.spec?.headers?.response;
    if (operations !== undefined) applyMetadataOperations(metadata, operations);
    this.#listener.onReceiveMetadata?.(metadata);
  }

  onAttemptMessage(attempt: CallAttempt, message: unknown): void {
    if (attempt !== this.#attempt || this.#isDone) return;
    // A unary-response call reports "no message" as null just before a status; before commit that
    // status may still be retried, so the null is held back (and given with the final status).
    if (message === null && this.#isUnaryResponse && !this.#isCommitted) return;
    const sizes = this.#context.messageSizes;
    if (sizes !== undefined && message !== null) {
      // grpc-js deserialized this message just now, on the way here: `deserialized` is its size.
      if (this.#telemetry !== undefined) this.#telemetry.responseBytes += sizes.deserialized;
      sizes.deserialized = 0;
    }
    this.#commit(attempt);
    this.#isReadPending = false;
    this.#hasDeliveredMessage = true;
    this.#listener.onReceiveMessage?.(message);
  }

  onAttemptStatus(attempt: CallAttempt, status: StatusObject): void {
    if (attempt !== this.#attempt || this.#isDone) return;
    this.#attempt = undefined;
    const pickFailure = status.metadata.get(PICK_FAILURE_METADATA)[0];
    if (pickFailure !== undefined) {
      // The picker said no before anything was sent: a connect failure for retries and outliers;
      // a certificate refused in the handshake is counted too, and never retried.
      const isTlsAuth = pickFailure === 'tls-auth-failure';
      if (pickFailure === 'connect-failure' || isTlsAuth)
        attempt.runtime.recordLocalOriginFailure(attempt.endpointKey);
      emitAttemptEvent(this.#context, this.#method, attempt, status.code, 'connect-failure');
      this.#attemptEnded(attempt, isTlsAuth ? 'tls-auth-failure' : 'connect-failure');
      this.#decide(attempt, { kind: isTlsAuth ? 'tls-auth-failure' : 'connect-failure' }, () =>
        this.#answerFailure(
          isTlsAuth ? MeshAnswers.tlsRefused(status.details) : MeshAnswers.connectFailure(status.details),
        ),
      );
      return;
    }
    const nowMs = this.#context.mesh.clock.now();
    const perTryMs = this.#route?.retry.perTryTimeoutMs;
    const isPastDeadline = isDue(this.#deadline?.atMs, nowMs);
    const isPastPerTry = perTryMs !== undefined && isDue(attempt.startedAtMs + perTryMs, nowMs);
    if (status.code === Status.DEADLINE_EXCEEDED && !this.#isCommitted && (isPastDeadline || isPastPerTry)) {
      // grpc-js enforced the attempt's deadline a moment before the mesh's timer: the mesh's doing.
      emitAttemptEvent(this.#context, this.#method, attempt, status.code, 'per-try-timeout');
      this.#attemptEnded(attempt, 'per-try-timeout');
      if (isPastDeadline) {
        attempt.runtime.recordLocalOriginFailure(attempt.endpointKey);
        this.#onTotalTimeout();
      } else {
        this.#onPerTryTimeoutOf(attempt, false);
      }
      return;
    }
    attempt.runtime.recordStatus(attempt.endpointKey, grpcStatusToHttp(status.code));
    emitAttemptEvent(this.#context, this.#method, attempt, status.code, 'response');
    // A trailers-only status is the attempt's answer (a committed one was noted at commit).
    if (!this.#isCommitted) this.#attemptEnded(attempt, 200);
    if (this.#isCommitted || status.code === Status.OK) {
      this.#deliverStatus(status, []);
      return;
    }
    const outcome: AttemptOutcome = {
      kind: 'response',
      status: 200,
      headers: metadataReader(status.metadata),
      grpcStatus: status.code,
    };
    this.#decide(attempt, outcome, () => this.#deliverStatus(status, []));
  }

  onPerTryTimeout(attempt: CallAttempt): void {
    if (attempt !== this.#attempt || this.#isDone || this.#isCommitted) return;
    this.#onPerTryTimeoutOf(attempt, true);
  }

  #onPerTryTimeoutOf(attempt: CallAttempt, isAbandoning: boolean): void {
    this.#attempt = undefined;
    if (isAbandoning) {
      attempt.abandon(Status.DEADLINE_EXCEEDED, 'per-try timeout');
      emitAttemptEvent(this.#context, this.#method, attempt, Status.DEADLINE_EXCEEDED, 'per-try-timeout');
      this.#attemptEnded(attempt, 'per-try-timeout');
    }
    attempt.runtime.recordLocalOriginFailure(attempt.endpointKey);
    this.#decide(attempt, { kind: 'per-try-timeout' }, () =>
      this.#answerFailure(MeshAnswers.perTryTimeout()),
    );
  }

  #afterDelay(route: CompiledRoute<HttpRouteSpec>): void {
    if (this.#isDone) return;
    const abort = this.#fault.abort;
    if (abort !== undefined) {
      this.#answer(MeshAnswers.faultAbort(abort, this.#fault.delayMs !== undefined));
      return;
    }
    const breaker = this.#context.mesh.breakers.forRoute(route.name);
    if (breaker !== undefined) {
      const permit = breaker.tryAcquire();
      if (permit.kind === 'circuit-open') {
        this.#answer(MeshAnswers.circuitOpen(route.name));
        return;
      }
      this.#permit = permit;
    }
    this.#retry = new RetryController(this.#context.retryPlanFor(route), this, this.#context.retryRuntime);
    this.#startAttempt(route);
  }

  #startAttempt(route: CompiledRoute<HttpRouteSpec>): void {
    if (this.#isDone) return;
    const mesh = this.#context.mesh;
    const destination = pickWeighted(route, mesh.random.next());
    const cluster = destination === undefined ? undefined : this.#view.cluster(destination);
    if (cluster === undefined || cluster.endpoints.length === 0) {
      this.#answerFailure(MeshAnswers.noHealthyUpstream(cluster?.name ?? route.name));
      return;
    }
    const runtime = mesh.clusters.forCluster(cluster);
    const admission = runtime.pool.tryStartRequest(this.#admissionSignal(runtime));
    switch (admission.kind) {
      case 'overflow':
        this.#answer(MeshAnswers.overflow(admission.reason, runtime.name));
        return;
      case 'aborted':
        return;
      case 'pending':
        admission.admission.then(
          (lease) => {
            if (lease.kind === 'admitted') this.#dispatch(route, runtime, lease);
          },
          () => {},
        );
        return;
      case 'admitted':
        this.#dispatch(route, runtime, admission);
    }
  }

  #dispatch(route: CompiledRoute<HttpRouteSpec>, runtime: ClusterRuntime, lease: PoolLease): void {
    const retry = this.#retry;
    if (this.#isDone || retry === undefined) {
      lease.release();
      return;
    }
    const mesh = this.#context.mesh;
    const hasher = runtime.balancer.hasher;
    const hash =
      hasher === undefined ? undefined : hasher.hash(hashViewOf(this.#metadata, mesh.workload.address));
    this.#tried ??= new TriedEndpoints();
    const picked = this.#tried.pick(
      runtime.balancer.picker(),
      hash === undefined ? undefined : { hash },
      route.retry.retryIgnorePreviousHosts,
    );
    if (picked === undefined) {
      lease.release();
      this.#answerFailure(MeshAnswers.noHealthyUpstream(runtime.name));
      return;
    }
    const perTryMs = route.retry.perTryTimeoutMs;
    let call: AttemptCall;
    try {
      call = this.#nextCall({
        ...this.#options,
        deadline: attemptWallDeadline(this.#deadline, perTryMs, mesh.clock.now(), this.#context.wallClock()),
        host: this.#authority,
      });
    } catch (error) {
      // grpc-js throws when the channel was closed (a retry due after client.close()).
      lease.release();
      this.#answer(MeshAnswers.cannotStart(error));
      return;
    }
    retry.beginAttempt(runtime.retryBudget);
    const transport = endpointTransport(
      runtime.cluster,
      picked.endpoint,
      mesh.snapshot,
      mesh.identity?.current() !== undefined,
    );
    const id = connectionId(picked.key, transport);
    const attempt = new CallAttempt(
      this,
      mesh.clock,
      call,
      runtime,
      picked,
      { id, isMutualTls: transport.kind === 'mtls' },
      lease,
      retry.attempts,
      route.name,
    );
    this.#attempt = attempt;
    this.#lastAttempt = attempt;
    picked.load.onStart();
    this.#attemptStarted(runtime, picked.endpoint, transport);
    if (perTryMs !== undefined) attempt.startPerTryTimer(perTryMs);
    call.start(attemptMetadata(this.#metadata, route, runtime, id, this.#traceHeaders), attempt);
    if (this.#attempt !== attempt) return;
    this.#outgoing.startAttempt(call);
    if (this.#isReadPending) call.startRead();
  }

  /**
   * A signal that takes this call out of the pool's pending queue when it ends (deadline, cancel),
   * so a queue slot is never held by a call nobody waits for. Only a cluster with a connection
   * limit can queue, so only those pay for the AbortController.
   */
  #admissionSignal(runtime: ClusterRuntime): AbortSignal | undefined {
    if (runtime.pool.limits.maxConnections >= ISTIO_UNLIMITED) return undefined;
    this.#admissionAbort ??= new AbortController();
    return this.#admissionAbort.signal;
  }

  /** Retries the failed attempt, or runs `deliver` when the retry policy says no. */
  #decide(attempt: CallAttempt, outcome: AttemptOutcome, deliver: () => void): void {
    const retry = this.#retry;
    const route = this.#route;
    if (retry === undefined || route === undefined || this.#isDone) return;
    attempt.settle(false);
    const decision = retry.endAttempt(outcome);
    if (!decision.shouldRetry) {
      // Envoy logs URX when it delivers an answer it would have retried but for the limit.
      if (decision.reason === 'attempts-exhausted' && retry.attempts > 1)
        this.#telemetry?.addResponseFlag(ResponseFlags.retryLimitExceeded);
      deliver();
      return;
    }
    this.#waitTimer = this.#context.mesh.clock.setTimeout(() => {
      this.#waitTimer = undefined;
      this.#startAttempt(route);
    }, decision.delayMs);
  }

  #commit(attempt: CallAttempt): void {
    if (this.#isCommitted) return;
    this.#isCommitted = true;
    attempt.clearPerTryTimer();
    this.#attemptEnded(attempt, 200);
  }

  #attemptStarted(
    runtime: ClusterRuntime,
    endpoint: Parameters<TelemetryCall['attemptStarted']>[1],
    transport: EndpointTransport,
  ): void {
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return;
    telemetry.attemptStarted(runtime.cluster, endpoint);
    if (this.#context.isMeshTls) noteAttemptTransport(telemetry, this.#context.mesh, transport);
  }

  /** Reports how an attempt ended to telemetry (a span event, upstream_service_time). */
  #attemptEnded(attempt: CallAttempt, result: 200 | string): void {
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return;
    noteAttemptEnd(
      telemetry,
      this.#context.mesh,
      attempt.connectionId,
      this.#context.isMeshTls && attempt.isMutualTls,
      result,
    );
  }

  #onTotalTimeout(): void {
    this.#totalTimer = undefined;
    if (this.#isDone) return;
    const attempt = this.#attempt;
    if (attempt !== undefined && !this.#isCommitted)
      attempt.runtime.recordLocalOriginFailure(attempt.endpointKey);
    this.#abandonAttempt(Status.DEADLINE_EXCEEDED, 'deadline exceeded');
    const route = this.#route;
    this.#answer(
      MeshAnswers.deadline(
        this.#deadline?.source ?? 'route',
        route?.name ?? '',
        route?.timeoutMs ?? 0,
        this.#isInjectingDelay,
      ),
    );
  }

  #abandonAttempt(code: Status, details: string): void {
    const attempt = this.#attempt;
    if (attempt === undefined) return;
    this.#attempt = undefined;
    attempt.abandon(code, details);
    if (!this.#isCommitted) this.#attemptEnded(attempt, 'reset');
    emitAttemptEvent(this.#context, this.#method, attempt, code, 'abandoned');
  }

  /** A failure after attempts were made: flagged URX when the call was retried. */
  #answerFailure(status: MeshStatus): void {
    this.#answer((this.#retry?.attempts ?? 0) > 1 ? MeshAnswers.afterRetries(status) : status);
  }

  #answer(status: MeshStatus): void {
    if (this.#isDone) return;
    const telemetry = this.#telemetry;
    this.#telemetry = undefined;
    if (telemetry !== undefined) {
      telemetry.requestBytes = this.#outgoing.sentBytes;
      endWithMeshStatus(telemetry, status);
    }
    this.#deliverStatus(toStatusObject(status), status.flags, status.errorCode);
  }

  /**
   * Ends the call: the caller gets `status`, after a null message when no message came, as
   * grpc-js's own unary calls report it. A status decided inside start() is delivered on the next
   * tick: grpc-js's call objects emit it as an 'error' event, which would otherwise fire before
   * the application could attach a handler to the call it has not yet been returned.
   */
  #deliverStatus(status: StatusObject, flags: readonly string[], errorCode?: MeshStatus['errorCode']): void {
    if (this.#isDone) return;
    this.#finish(status.code);
    const telemetry = this.#telemetry;
    if (telemetry !== undefined) {
      // Not a mesh-made status (#answer ends those) nor a cancellation: the upstream's.
      this.#telemetry = undefined;
      telemetry.requestBytes = this.#outgoing.sentBytes;
      endWithUpstreamStatus(telemetry, status.code);
    }
    const listener = this.#listener;
    const isNullMessageOwed = this.#isUnaryResponse && !this.#hasDeliveredMessage;
    const deliver = () => {
      if (isNullMessageOwed) listener.onReceiveMessage?.(null);
      listener.onReceiveStatus?.(status);
    };
    if (this.#isStarting) process.nextTick(deliver);
    else deliver();
    if (!this.#context.events.call.hasListeners) return;
    emitCallEvent(this.#context, {
      method: this.#method,
      callType: callTypeOf(this.#options.method_definition),
      service: this.#service,
      route: this.#route,
      attempt: this.#lastAttempt,
      attempts: this.#retry?.attempts ?? 0,
      status,
      flags,
      errorCode,
      startedAtMs: this.#startedAtMs,
    });
  }

  #finish(code: Status): void {
    this.#isDone = true;
    const clock = this.#context.mesh.clock;
    if (this.#totalTimer !== undefined) clock.clearTimeout(this.#totalTimer);
    if (this.#waitTimer !== undefined) clock.clearTimeout(this.#waitTimer);
    this.#totalTimer = undefined;
    this.#waitTimer = undefined;
    this.#retry?.finish();
    this.#admissionAbort?.abort();
    this.#context.mesh.faults.release(this.#fault);
    const permit = this.#permit;
    if (permit !== undefined) {
      // A cancelled call says nothing about the upstream; a 5xx-equivalent status counts against it.
      if (this.#wasCancelled) permit.ignore();
      else if (grpcStatusToHttp(code) < 500) permit.success();
      else permit.failure();
    }
  }
}
