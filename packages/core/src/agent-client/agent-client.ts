import { ErrorCodes, WeftError } from '../errors/weft-error.ts';
import type { Mesh } from '../mesh/create-mesh.ts';
import type { Random } from '../randomness/random.ts';
import { backoffDelayMs } from '../resilience/retry/backoff.ts';
import { sleep } from '../resilience/retry/sleep.ts';
import { type AgentIdentity, createAgentIdentity } from '../security/identity/agent-identity-options.ts';
import type { TrustBundle } from '../security/identity/trust-bundle.ts';
import type { WorkloadCertificates } from '../security/identity/workload-certificates.ts';
import { withMeshTlsLabel } from '../security/mtls/mesh-tls-label.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';
import { AgentCalls } from './agent-calls.ts';
import {
  type AgentClientEvents,
  type AgentClientState,
  agentClientEvents,
  type ConfigSource,
  type ResyncReason,
} from './agent-client-events.ts';
import {
  type AgentClientOptions,
  type AgentClientSettings,
  resolveSettings,
} from './agent-client-options.ts';
import { agentUrl, describeAnswer } from './agent-http.ts';
import { ConfigApplier } from './config-applier.ts';
import { summarizeView } from './config-dump.ts';
import { type EdgeReport, edgeReportPath } from './edge-protocol.ts';
import { type EdgeReporting, startEdgeReporting } from './edge-reporting.ts';
import { LastGoodWriter, readLastGoodFile } from './last-good-file.ts';
import { LeaseKeeper, registrationOf } from './lease-keeper.ts';
import { PROTOCOL_VERSION, type RevisionMark, STREAM_TOKEN_HEADER, type WatchFrame } from './protocol.ts';
import { type ConfigRecord, markLabel, ReceivedConfig, sameMark } from './received-config.ts';
import { type PendingReport, StatusReporter } from './status-reporter.ts';
import { AgentProtocolError } from './watch-frame.ts';
import { runWatchStream } from './watch-stream.ts';
import { workloadCredential } from './workload-credential.ts';

/** What one watch stream has done so far. */
interface StreamContext {
  readonly agent: string;
  /** What the agent named this stream; its status reports carry it. */
  streamToken: string | undefined;
  /** Whether the stream resumed from a mark (its first frame may then be a heartbeat). */
  readonly isResume: boolean;
  /** Whether any frame arrived: the agent is healthy, and back-off starts over. */
  hasFrames: boolean;
  /** Revisions already NACKed on this stream (bad-inputs B6: one NACK per revision). */
  readonly nacked: Set<string>;
}

/**
 * The workload side of the watch protocol (packages/control-agent/PROTOCOL.md): keeps a mesh
 * serving the agent's configuration and registry. See docs/agent-client.md for the behaviour and
 * the state machine; `connectToAgent` is the way to make one.
 */
export class AgentClient {
  readonly clientId: string;
  readonly events: AgentClientEvents = agentClientEvents();
  /** Resolves once start-up is over: with `synced`, `stale` (last-good file) or `unavailable`. */
  readonly ready: Promise<AgentClientState>;
  /** The workload's SVID from the agents' CA, kept renewed, when `identity` was given (docs/identity.md). */
  readonly identity: WorkloadCertificates | undefined;

  readonly #mesh: Mesh;
  readonly #identity: AgentIdentity | undefined;
  readonly #agents: readonly string[];
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #settings: AgentClientSettings;
  readonly #heartbeatTimeoutMs: number | undefined;
  readonly #calls: AgentCalls;
  readonly #applier: ConfigApplier;
  readonly #reporter: StatusReporter;
  readonly #writer: LastGoodWriter | undefined;
  readonly #leaseKeeper: LeaseKeeper | undefined;
  /** Per-edge aggregates reported for the agent's dashboard (PROTOCOL.md §3.8), unless turned off. */
  readonly #edgeReporting: EdgeReporting | undefined;
  readonly #lastGood: Promise<ConfigRecord | undefined>;
  readonly #controller = new AbortController();
  readonly #loops: Promise<void>[] = [];
  #resolveReady: (state: AgentClientState) => void = () => {};
  #startupTimer: TimerHandle | undefined;
  #isStartupOver = false;
  #startupEnding: Promise<void> | undefined;
  #state: AgentClientState = 'connecting';
  /** The agent's truth on the current stream; ahead of what is applied after a NACK. */
  #received = ReceivedConfig.from(undefined);
  /** A stream is open and has delivered the agent's current revision. */
  #isStreamSynced = false;
  /** The latest revision received was refused. */
  #isLatestRefused = false;
  /** The next connect asks for a snapshot (after a protocol error). */
  #mustResync = false;
  #agentHeartbeatMs: number | undefined;
  #lastAgent: string | undefined;
  /** The stream open now, if any: where an unasked config dump goes after an identity change. */
  #openStream: StreamContext | undefined;
  #closing: Promise<void> | undefined;

  constructor(mesh: Mesh, options: AgentClientOptions) {
    if (options.agents.length === 0) throw new TypeError('connectToAgent: `agents` names no agent');
    for (const agent of options.agents) {
      if (!URL.canParse(agent)) throw new TypeError(`connectToAgent: ${JSON.stringify(agent)} is not a URL`);
    }
    this.#mesh = mesh;
    this.#agents = [...options.agents];
    this.#clock = options.clock ?? mesh.clock;
    this.#random = options.random ?? mesh.random;
    this.#settings = resolveSettings(options);
    if (options.heartbeatTimeoutMs !== undefined && !(options.heartbeatTimeoutMs > 0)) {
      throw new RangeError('connectToAgent: heartbeatTimeoutMs must be a positive number');
    }
    if (options.register !== undefined && !(options.register.ttlMs > 0)) {
      throw new RangeError('connectToAgent: register.ttlMs must be a positive number');
    }
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs;
    this.#calls = new AgentCalls({
      agents: this.#agents,
      clock: this.#clock,
      timeoutMs: this.#settings.requestTimeoutMs,
      adminToken: options.adminToken,
      // Read at call time: the identity below is created after the calls.
      workloadCredential:
        options.identity === undefined
          ? undefined
          : workloadCredential({
              svid: () => this.identity?.current(),
              joinToken: options.identity.joinToken,
              wallClock: options.identity.wallClock ?? Date.now,
            }),
    });
    const { workload } = mesh;
    this.clientId =
      options.clientId ?? `${workload.name}.${workload.namespace}-${randomSuffix(this.#random)}`;
    this.#reporter = new StatusReporter(
      (pending) => this.#sendReport(pending),
      (error) => {
        // Reports cut short by close() are not problems.
        if (!this.#controller.signal.aborted) this.events.problem.emit({ operation: 'status-report', error });
      },
    );
    const file = options.lastGoodFile;
    this.#writer =
      file === undefined
        ? undefined
        : new LastGoodWriter(file, (error) =>
            this.events.problem.emit({ operation: 'last-good-write', error }),
          );
    this.#applier = new ConfigApplier(mesh, this.events, this.#writer, options.emptyConfigPolicy);
    mesh.setControlPlaneUnavailable('connecting: no agent has answered yet');
    this.#lastGood =
      file === undefined
        ? Promise.resolve(undefined)
        : readLastGoodFile(file, this.#settings.maxFrameBytes).catch((error: unknown) => {
            this.events.problem.emit({ operation: 'last-good-read', error });
            return undefined;
          });
    this.#leaseKeeper =
      options.register === undefined
        ? undefined
        : new LeaseKeeper({
            // With an identity the workload can take mTLS: say so as Istio's injector does, so that
            // auto-mTLS callers use it (security/mtls/mesh-tls-label.ts).
            workload: registrationOf(
              options.identity === undefined ? workload : withMeshTlsLabel(workload),
              options.register,
            ),
            ttlMs: options.register.ttlMs,
            call: (method, path, body, signal) =>
              this.#calls.toAny(this.#lastAgent, method, path, body, signal),
            clock: this.#clock,
            random: this.#random,
            backoffBaseMs: this.#settings.backoffBaseMs,
            onEvent: (event) => this.events.registration.emit(event),
          });
    this.#identity =
      options.identity === undefined
        ? undefined
        : createAgentIdentity({
            options: options.identity,
            mesh,
            agents: this.#agents,
            clock: this.#clock,
            random: this.#random,
          });
    this.identity = this.#identity?.certificates;
    // The mesh's identity slot is where mTLS (outbound and inbound) reads the certificate. It stays
    // filled after close(): emptying it would turn auto-mTLS into plaintext silently, whereas an
    // SVID that is no longer renewed expires and fails loudly.
    if (this.identity !== undefined) mesh.setIdentity(this.identity);
    // A renewed certificate or a new trust bundle changes no revision, so the agent would not ask
    // for a new dump: post it unasked, so that `weft proxy-config secret` shows the current one.
    this.#edgeReporting =
      options.edges === false
        ? undefined
        : startEdgeReporting(mesh, {
            options: options.edges,
            clock: this.#clock,
            send: (report) => this.#sendEdgeReport(report),
            onError: (error) => {
              if (!this.#controller.signal.aborted)
                this.events.problem.emit({ operation: 'edge-report', error });
            },
          });
    this.identity?.onChange(() => {
      if (this.#openStream !== undefined) this.#sendConfigDump(this.#openStream);
    });
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    this.#startupTimer = this.#clock.setTimeout(() => {
      this.#startupTimer = undefined;
      void this.#endStartup(`no agent answered within ${this.#settings.startupTimeoutMs} ms`);
    }, this.#settings.startupTimeoutMs);
    const signal = this.#controller.signal;
    this.#loops.push(this.#watchLoop(signal));
    if (this.#leaseKeeper !== undefined) this.#loops.push(this.#leaseKeeper.run(signal));
  }

  get state(): AgentClientState {
    return this.#state;
  }

  /** The mark of the config the mesh serves; undefined while it serves none from the control plane. */
  get appliedMark(): RevisionMark | undefined {
    return this.#applier.applied?.mark;
  }

  /** The agent the client last streamed from. */
  get agent(): string | undefined {
    return this.#lastAgent;
  }

  /**
   * Aborts the stream and every pending call, stops the lease (deregistering the workload, with
   * a bounded wait), waits for the last-good file to be written, and clears every timer.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#startupTimer !== undefined) this.#clock.clearTimeout(this.#startupTimer);
    this.#startupTimer = undefined;
    this.#controller.abort(new WeftError(ErrorCodes.controlPlaneUnavailable, 'the agent client was closed'));
    await Promise.all(this.#loops);
    if (this.#leaseKeeper !== undefined) {
      try {
        // The client's own signal is aborted by now; each call is bounded by requestTimeoutMs.
        await this.#leaseKeeper.deregister(new AbortController().signal);
      } catch (error) {
        this.events.problem.emit({ operation: 'deregistration', error });
      }
    }
    await this.#reporter.idle();
    await this.#edgeReporting?.close();
    this.#identity?.close();
    this.#calls.close();
    await this.#writer?.flushed();
    this.#isStartupOver = true;
    this.#setState('closed', 'closed');
  }

  // ---- the watch loop -------------------------------------------------------------------------

  /**
   * Watches one agent at a time until closed. A failed attempt moves on to the next agent at once;
   * after a round in which every agent failed, the loop backs off (jittered, exponential). After a
   * stream that delivered frames ends, it starts again from the first agent after a short jittered
   * pause (so that a restarted agent is not hit by all its clients at the same instant).
   */
  async #watchLoop(signal: AbortSignal): Promise<void> {
    const { backoffBaseMs, backoffMaxMs } = this.#settings;
    let index = 0;
    let failedRounds = 0;
    while (!signal.aborted) {
      const agent = this.#agents[index] ?? this.#agents[0] ?? '';
      const isHealthy = await this.#watch(agent, signal);
      if (signal.aborted) return;
      let delayMs: number | undefined;
      if (isHealthy) {
        index = 0;
        failedRounds = 0;
        delayMs = backoffDelayMs(1, backoffBaseMs, backoffMaxMs, this.#random);
      } else {
        index = (index + 1) % this.#agents.length;
        if (index === 0) {
          failedRounds += 1;
          void this.#endStartup('no agent answered');
          delayMs = backoffDelayMs(failedRounds, backoffBaseMs, backoffMaxMs, this.#random);
        }
      }
      if (delayMs === undefined) continue;
      try {
        await sleep(this.#clock, delayMs, signal);
      } catch {
        return; // closed while waiting
      }
    }
  }

  /** One stream with one agent; resolves (never rejects) when it ends, with whether it was healthy. */
  async #watch(agent: string, signal: AbortSignal): Promise<boolean> {
    const resume = this.#mustResync ? undefined : this.#applier.applied;
    this.#mustResync = false;
    // Deltas build on what the client asked to resume from: its applied config.
    this.#received = ReceivedConfig.from(resume);
    const stream: StreamContext = {
      agent,
      streamToken: undefined,
      isResume: resume !== undefined,
      hasFrames: false,
      nacked: new Set(),
    };
    const { workload } = this.#mesh;
    const query: Record<string, string> = {
      clientId: this.clientId,
      namespace: workload.namespace,
      workload: workload.name,
      protocolVersion: String(PROTOCOL_VERSION),
      ...(this.#identity === undefined ? {} : { trustBundle: 'true' }),
      ...(resume === undefined ? {} : { epoch: resume.mark.epoch, revision: String(resume.mark.revision) }),
    };
    try {
      // Made for each connection: an SVID proof is timestamped, and the SVID renews.
      const headers = await this.#calls.authorization('GET', '/v1/watch', undefined);
      await runWatchStream({
        url: agentUrl(agent, '/v1/watch', query),
        headers,
        clock: this.#clock,
        signal,
        connectTimeoutMs: this.#settings.connectTimeoutMs,
        maxFrameBytes: this.#settings.maxFrameBytes,
        stallTimeoutMs: () => this.#stallTimeoutMs(),
        onOpen: (streamToken) => {
          stream.streamToken = streamToken;
          this.#openStream = stream;
          this.#lastAgent = agent;
          this.events.connection.emit({ type: 'connected', agent });
        },
        onFrames: (frames) => this.#onFrames(frames, stream),
      });
    } catch (error) {
      if (this.#openStream === stream) this.#openStream = undefined;
      if (signal.aborted) return stream.hasFrames;
      if (error instanceof AgentProtocolError) this.#mustResync = true;
      this.events.connection.emit({ type: stream.hasFrames ? 'disconnected' : 'failed', agent, error });
      if (this.#isStreamSynced) {
        this.#isStreamSynced = false;
        this.#updateState(`stream from ${agent} ended: ${describe(error)}`);
      }
    }
    return stream.hasFrames;
  }

  #stallTimeoutMs(): number {
    if (this.#heartbeatTimeoutMs !== undefined) return this.#heartbeatTimeoutMs;
    const heartbeatMs = this.#agentHeartbeatMs;
    return heartbeatMs === undefined
      ? this.#settings.initialHeartbeatTimeoutMs
      : heartbeatMs * this.#settings.heartbeatMultiplier;
  }

  /**
   * The frames one chunk of the stream completed. All are folded into the received config first,
   * then the result is validated and applied once: a burst costs one compile, not one per frame.
   * A frame that does not fit (a delta on another epoch…) throws, which ends the stream.
   */
  #onFrames(frames: readonly WatchFrame[], stream: StreamContext): void {
    let source: ConfigSource | undefined;
    let resync: ResyncReason | undefined;
    for (const frame of frames) {
      if (frame.type === 'heartbeat') {
        this.#agentHeartbeatMs = frame.heartbeatMs;
        if (frame.trustBundle !== undefined) this.#takeTrustBundle(frame.trustBundle);
        if (frame.configDumpRequested === true) this.#sendConfigDump(stream);
        if (source === undefined) this.#advanceTo(frame.mark);
      } else if (frame.type === 'snapshot') {
        resync = resyncReason(this.#applier.applied?.mark, frame.mark) ?? resync;
        this.#received.replace(frame);
        source = 'snapshot';
      } else {
        this.#received.applyDelta(frame);
        source ??= 'delta';
      }
    }
    const wasFirst = !stream.hasFrames;
    stream.hasFrames = true;
    if (source !== undefined) {
      this.#applyReceived(source, resync, stream);
    } else if (wasFirst && !stream.isResume) {
      return; // a heartbeat before the first snapshot says nothing about the config yet
    }
    if (!this.#isStreamSynced) {
      this.#isStreamSynced = true;
      // A first revision that was refused leaves nothing from the agent to serve: the last-good
      // file, if any, serves meanwhile.
      void this.#endStartup('an agent answered');
    }
    this.#updateState(
      this.#isLatestRefused ? 'the latest revision was refused' : `in sync with ${stream.agent}`,
    );
  }

  /**
   * A heartbeat carries the mark the agent counts this client current to: when nothing the client
   * can see changed, the mark moves on without a frame. Adopting it keeps resumes short.
   */
  #advanceTo(mark: RevisionMark): void {
    const applied = this.#applier.applied;
    const current = this.#received.mark;
    if (applied === undefined || current === undefined || !sameMark(applied.mark, current)) return;
    if (mark.epoch !== current.epoch || mark.revision <= current.revision) return;
    this.#received.advanceTo(mark);
    this.#applier.advanceTo(mark);
  }

  /** Validates and applies the received config, then reports ACK or NACK for its revision. */
  #applyReceived(source: ConfigSource, resync: ResyncReason | undefined, stream: StreamContext): void {
    const record = this.#received.toRecord();
    const label = markLabel(record.mark);
    const outcome = this.#applier.apply(record, source, resync);
    if (outcome === undefined) {
      this.#isLatestRefused = false;
      this.#reporter.report({
        agent: stream.agent,
        streamToken: stream.streamToken,
        report: { clientId: this.clientId, mark: record.mark, status: 'ack' },
      });
      return;
    }
    this.#isLatestRefused = true;
    this.#applier.announceRefusal(record.mark, outcome);
    if (stream.nacked.has(label)) return;
    stream.nacked.add(label);
    this.#reporter.report({
      agent: stream.agent,
      streamToken: stream.streamToken,
      report: { clientId: this.clientId, mark: record.mark, status: 'nack', error: outcome.message },
    });
  }

  /** A trust bundle from the watch, for the workload's certificates (a root rotation, PROTOCOL.md §3.2). */
  #takeTrustBundle(bundle: TrustBundle): void {
    try {
      this.#identity?.certificates.updateTrustBundle(bundle);
    } catch (error) {
      this.events.problem.emit({ operation: 'trust-bundle', error });
    }
  }

  /** Posts the compiled view the agent asked for; a failure is a `problem`, and the agent times out. */
  #sendConfigDump(stream: StreamContext): void {
    const applied = this.#applier.applied;
    if (applied === undefined) return;
    const body = {
      mark: applied.mark,
      configDump: {
        ...summarizeView(this.#mesh.outbound, markLabel(applied.mark)),
        ...this.#identity?.dumpSection(),
      },
    };
    const path = `/v1/clients/${encodeURIComponent(this.clientId)}/config`;
    const headers =
      stream.streamToken === undefined ? undefined : { [STREAM_TOKEN_HEADER]: stream.streamToken };
    this.#calls.to(stream.agent, 'POST', path, body, this.#controller.signal, headers).then(
      (answer) => {
        if (answer.status < 200 || answer.status >= 300) {
          const error = new WeftError(
            ErrorCodes.controlPlaneUnavailable,
            `${stream.agent} refused the config dump: HTTP ${answer.status}`,
          );
          this.events.problem.emit({ operation: 'config-dump', error });
        }
      },
      (error: unknown) => {
        if (!this.#controller.signal.aborted) this.events.problem.emit({ operation: 'config-dump', error });
      },
    );
  }

  /** Posts an edge report on the open stream, with its token; false when no stream is open. */
  async #sendEdgeReport(report: EdgeReport): Promise<boolean> {
    const stream = this.#openStream;
    if (stream === undefined || stream.streamToken === undefined) return false;
    const answer = await this.#calls.to(
      stream.agent,
      'POST',
      edgeReportPath(this.clientId),
      report,
      this.#controller.signal,
      { [STREAM_TOKEN_HEADER]: stream.streamToken },
    );
    if (answer.status < 200 || answer.status >= 300) {
      throw new WeftError(
        ErrorCodes.controlPlaneUnavailable,
        `${stream.agent} refused the edge report: ${describeAnswer(answer)}`,
      );
    }
    return true;
  }

  async #sendReport(pending: PendingReport): Promise<void> {
    const answer = await this.#calls.to(
      pending.agent,
      'POST',
      '/v1/status',
      pending.report,
      this.#controller.signal,
      pending.streamToken === undefined ? undefined : { [STREAM_TOKEN_HEADER]: pending.streamToken },
    );
    if (answer.status < 200 || answer.status >= 300) {
      throw new WeftError(
        ErrorCodes.controlPlaneUnavailable,
        `${pending.agent} refused the ${pending.report.status} of ${markLabel(pending.report.mark)}: HTTP ${answer.status}`,
      );
    }
  }

  // ---- start-up ---------------------------------------------------------------------------------

  #clearStartupTimer(): void {
    if (this.#startupTimer !== undefined) this.#clock.clearTimeout(this.#startupTimer);
    this.#startupTimer = undefined;
  }

  /**
   * Start-up is over: an agent answered, or the wait ran out, or every agent failed once. When
   * nothing from an agent is being served, serve the last-good file if there is one and it is
   * valid; with neither, the control plane is unavailable. The watch loop keeps trying regardless.
   */
  #endStartup(reason: string): Promise<void> {
    this.#clearStartupTimer();
    this.#startupEnding ??= this.#serveLastGood(reason);
    return this.#startupEnding;
  }

  async #serveLastGood(reason: string): Promise<void> {
    const record = this.#applier.applied === undefined ? await this.#lastGood : undefined;
    let why = reason;
    if (record !== undefined && this.#applier.applied === undefined && !this.#controller.signal.aborted) {
      const refusal = this.#applier.apply(record, 'last-good-file');
      if (refusal === undefined) why = `${reason}; serving the last-good file`;
      else this.events.problem.emit({ operation: 'last-good-read', error: refusal });
    }
    this.#isStartupOver = true;
    this.#updateState(why);
  }

  // ---- state --------------------------------------------------------------------------------------

  #updateState(reason: string): void {
    if (this.#state === 'closed') return;
    this.#setState(this.#currentState(), reason);
  }

  #currentState(): AgentClientState {
    if (this.#isStreamSynced) return this.#isLatestRefused ? 'stale' : 'synced';
    if (this.#applier.applied !== undefined) return 'stale';
    return this.#isStartupOver ? 'unavailable' : 'connecting';
  }

  #setState(state: AgentClientState, reason: string): void {
    const previous = this.#state;
    const servesNothing = this.#applier.applied === undefined && state !== 'synced' && state !== 'stale';
    this.#mesh.setControlPlaneUnavailable(servesNothing ? `${state}: ${reason}` : undefined);
    if (state !== 'connecting') this.#resolveReady(state);
    if (state === previous) return;
    this.#state = state;
    this.events.state.emit({ state, previous, reason });
  }
}

/** Keeps the mesh serving the control agent's configuration and registry; see AgentClient. */
export function connectToAgent(mesh: Mesh, options: AgentClientOptions): AgentClient {
  return new AgentClient(mesh, options);
}

/** Why a snapshot replaces an applied config, if it is more than an ordinary first snapshot. */
function resyncReason(applied: RevisionMark | undefined, next: RevisionMark): ResyncReason | undefined {
  if (applied === undefined) return undefined;
  if (applied.epoch !== next.epoch) return 'new-epoch';
  if (next.revision < applied.revision) return 'revision-went-backwards';
  return 'full-resync';
}

function randomSuffix(random: Random): string {
  return Math.floor(random.next() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
