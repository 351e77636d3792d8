import { CertificateReportSlot } from '../admin/certificate-report.ts';
import { ReadinessConditions } from '../admin/readiness.ts';
import {
  startWorkloadAdmin,
  type WorkloadAdmin,
  type WorkloadAdminOptions,
} from '../admin/workload-admin.ts';
import { compile } from '../config/compile/compile.ts';
import type { MeshOptions } from '../config/compile/mesh-options.ts';
import type { MeshSnapshot } from '../config/compile/mesh-snapshot.ts';
import type { WorkloadView } from '../config/compile/workload-view.ts';
import type { Resource } from '../config/resource.ts';
import { type ConfigIssue, ConfigValidationError } from '../errors/config-validation-error.ts';
import { EventChannel } from '../events/event-channel.ts';
import { type Random, systemRandom } from '../randomness/random.ts';
import type { RegisteredWorkload } from '../registry/workload.ts';
import type { CallBreakerConfig } from '../resilience/breaker/breaker-config.ts';
import type { BreakerEvent } from '../resilience/breaker/breaker-state.ts';
import type { FaultEvent } from '../resilience/fault/fault-events.ts';
import { FaultInjector } from '../resilience/fault/fault-injector.ts';
import type { OutlierEvent } from '../resilience/outlier/outlier-events.ts';
import type { PoolOverflowEvent } from '../resilience/pool/pool-admission.ts';
import type { RetryEvent } from '../resilience/retry/retry-events.ts';
import type { IdentitySource } from '../security/identity/identity-material.ts';
import type { UpstreamTlsEvent } from '../security/mtls/upstream-tls-events.ts';
import { MeshTelemetry } from '../telemetry/mesh-telemetry.ts';
import type { TelemetryOptions } from '../telemetry/telemetry-options.ts';
import { type Clock, systemClock } from '../time/clock.ts';
import { ClusterRuntimes } from './cluster-runtimes.ts';
import { loadStaticConfig, type StaticConfig } from './config-source.ts';
import { RouteBreakers } from './route-breakers.ts';
import type { WorkloadIdentity } from './workload-identity.ts';
import { attachIdentity } from './workload-identity-slot.ts';

/** The revision of the snapshot a mesh starts with, before any configuration arrives. */
const EMPTY_REVISION = 'empty';

export interface CreateMeshOptions {
  /** Who this process is. */
  readonly workload: WorkloadIdentity;
  /** Static configuration; the control agent, when used, replaces it through `applyResources`. */
  readonly config?: StaticConfig;
  /** Workloads known without an agent (the registry in static mode). */
  readonly workloads?: readonly RegisteredWorkload[];
  readonly mesh?: Partial<MeshOptions>;
  readonly clock?: Clock;
  readonly random?: Random;
  /**
   * The load balancer for DestinationRules that name none (`simple` unset): Istio's
   * `least_request` by default; `peak_ewma` enables latency-aware balancing mesh-wide.
   */
  readonly defaultLoadBalancer?: string;
  /**
   * Weft's call-level circuit breakers (opossum), by route name: fail fast with 503 (flag UO)
   * while a route's upstream keeps failing. Istio has no equivalent field.
   */
  readonly circuitBreakers?: Readonly<Record<string, CallBreakerConfig>>;
  /** Spans, metrics, access logs and trace propagation (docs/telemetry.md); on by default, no-op until an SDK. */
  readonly telemetry?: TelemetryOptions;
  /** Starts the workload's admin endpoint (docs/workload-admin.md); off unless given. */
  readonly admin?: WorkloadAdminOptions | boolean;
  /**
   * The workload's identity, for mTLS: its SVID and trust bundle, kept current. Usually left out:
   * `connectToAgent(mesh, { identity })` fills it. Give one to bring your own (any IdentitySource).
   */
  readonly identity?: IdentitySource;
}

export interface SnapshotEvent {
  readonly snapshot: MeshSnapshot;
  /** Warnings of the accepted configuration (unknown, deprecated, unsupported fields…). */
  readonly warnings: readonly ConfigIssue[];
}

export interface RejectionEvent {
  readonly revision: string;
  readonly error: ConfigValidationError;
}

/**
 * The one object a service holds: its identity, the current snapshot, and the events of
 * everything the mesh does. Configuration changes are validated whole and swapped atomically;
 * a rejected change leaves the last good snapshot serving and is reported, never half-applied.
 */
export class Mesh {
  readonly workload: WorkloadIdentity;
  readonly clock: Clock;
  readonly random: Random;
  readonly events = {
    /** A new snapshot is serving. */
    snapshot: new EventChannel<SnapshotEvent>(),
    /** A configuration was refused; the previous snapshot keeps serving. */
    rejected: new EventChannel<RejectionEvent>(),
    /** Retries scheduled and refused, with the reason. */
    retry: new EventChannel<RetryEvent>(),
    /** Endpoints ejected and returned by outlier detection. */
    outlier: new EventChannel<OutlierEvent>(),
    /** Requests refused by connection-pool limits (Envoy's overflow, flag UO). */
    overflow: new EventChannel<PoolOverflowEvent>(),
    /** Faults injected by routes. */
    fault: new EventChannel<FaultEvent>(),
    /** Call-level circuit breakers opening, half-opening and closing. */
    breaker: new EventChannel<BreakerEvent>(),
    /** TLS handshakes with upstreams, and their failures (one event per connection). */
    tls: new EventChannel<UpstreamTlsEvent>(),
    /** The identity slot was filled, replaced or emptied (`mesh.identity`). */
    identity: new EventChannel<IdentitySource | undefined>(),
  };
  /** The call-level circuit breakers configured per route. */
  readonly breakers: RouteBreakers;
  /** Live per-cluster state (balancers, outlier detectors, limits, budgets), shared by adapters. */
  readonly clusters: ClusterRuntimes;
  /** Decides and counts injected faults for every adapter of this mesh. */
  readonly faults: FaultInjector;
  /** What must hold before the workload takes traffic; the mesh adds `config`. */
  readonly readiness = new ReadinessConditions();
  /** Where /certs and the certificate-expiry gauge read the workload's certificates from. */
  readonly certificateReport = new CertificateReportSlot();
  /** Spans, Istio's metrics, access logs and trace propagation for every adapter of this mesh. */
  readonly telemetry: MeshTelemetry;
  /** The admin endpoint, when `admin` was given. */
  readonly admin: WorkloadAdmin | undefined;
  readonly #meshOptions: Partial<MeshOptions>;
  #resources: readonly Resource[] = [];
  #workloads: readonly RegisteredWorkload[];
  #snapshot: MeshSnapshot;
  #outbound: WorkloadView | undefined;
  #revision = 0;
  #controlPlaneUnavailable: string | undefined;
  #identity: IdentitySource | undefined;
  #detachIdentity: (() => void) | undefined;

  constructor(options: CreateMeshOptions) {
    this.workload = options.workload;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.#meshOptions = options.mesh ?? {};
    this.#workloads = options.workloads ?? [];
    this.clusters = new ClusterRuntimes({
      clock: this.clock,
      random: this.random,
      sourceLocality: options.workload.locality,
      sourceLabels: options.workload.labels,
      defaultBalancer: options.defaultLoadBalancer,
      onOutlierEvent: (event) => this.events.outlier.emit(event),
      onOverflow: (event) => this.events.overflow.emit(event),
    });
    this.breakers = new RouteBreakers(options.circuitBreakers ?? {}, this.clock, (event) =>
      this.events.breaker.emit(event),
    );
    this.faults = new FaultInjector({ clock: this.clock, random: this.random, events: this.events.fault });
    this.#snapshot = compile(
      [],
      { workloads: this.#workloads },
      { ...this.#meshOptions, revision: EMPTY_REVISION },
    );
    this.telemetry = new MeshTelemetry({
      workload: options.workload,
      snapshot: () => this.#snapshot,
      clock: this.clock,
      random: this.random,
      environment: (name) => process.env[name],
      events: this.events,
      certificateExpiries: () =>
        (this.certificateReport.read()?.certificates ?? []).map((certificate) => ({
          certificate: certificate.name,
          notAfterMs: certificate.notAfterMs,
        })),
      ...(options.telemetry === undefined ? {} : { options: options.telemetry }),
    });
    this.readiness.add('config', () =>
      this.#snapshot.revision === EMPTY_REVISION
        ? { isReady: false, detail: 'no configuration received yet' }
        : { isReady: true, detail: `serving revision ${this.#snapshot.revision}` },
    );
    if (options.config !== undefined) this.applyConfig(options.config);
    if (options.identity !== undefined) this.setIdentity(options.identity);
    this.admin =
      options.admin === undefined || options.admin === false
        ? undefined
        : startWorkloadAdmin(this, options.admin === true ? {} : options.admin);
  }

  get snapshot(): MeshSnapshot {
    return this.#snapshot;
  }

  /**
   * Why the mesh serves nothing from its control plane, while that is so (its agent client is
   * still connecting, or no agent answered and there was no last-good file); else undefined.
   * Adapters then answer requests for hosts the mesh does not know with
   * WEFT_ERR_CONTROL_PLANE_UNAVAILABLE at once, rather than passing them to DNS (bad-inputs B1).
   */
  get controlPlaneUnavailable(): string | undefined {
    return this.#controlPlaneUnavailable;
  }

  /** Called by whatever feeds the mesh from a control plane: `reason`, or undefined once it serves. */
  setControlPlaneUnavailable(reason: string | undefined): void {
    this.#controlPlaneUnavailable = reason;
  }

  /**
   * The workload's identity: where mTLS, outbound and inbound, reads the current SVID, key and
   * trust bundle (`current()`), and learns of renewals (`onChange`). Undefined when the workload has
   * none: it then sends plaintext where auto-mTLS would have used mTLS, and refuses requests a
   * DestinationRule says ISTIO_MUTUAL for. Read it per connection, never once at start: the agent
   * client fills it after the mesh exists, and renewals replace the material inside it.
   */
  get identity(): IdentitySource | undefined {
    return this.#identity;
  }

  /**
   * Fills (or replaces, or with undefined empties) the identity slot. The mesh then reports the
   * certificate on /certs and its expiry gauge, and adds a `certificate` readiness condition (ready
   * while it holds a certificate that has not expired). `events.identity` tells adapters.
   */
  setIdentity(source: IdentitySource | undefined): void {
    if (source === this.#identity) return;
    this.#detachIdentity?.();
    this.#detachIdentity = source === undefined ? undefined : attachIdentity(this, source);
    this.#identity = source;
    this.events.identity.emit(source);
  }

  /** This workload's outbound view of the current snapshot. */
  get outbound(): WorkloadView {
    this.#outbound ??= this.#snapshot.forWorkload(this.workload);
    return this.#outbound;
  }

  /**
   * Parses and applies a whole configuration (files, text or objects). Any error refuses all of
   * it: the previous snapshot keeps serving and a ConfigValidationError names every problem.
   */
  applyConfig(config: StaticConfig, revision?: string): MeshSnapshot {
    const domainSuffix = this.#meshOptions.domainSuffix;
    const loaded = loadStaticConfig(config, {
      defaultNamespace: this.workload.namespace,
      ...(domainSuffix === undefined ? {} : { domainSuffix }),
    });
    const errors = loaded.issues.filter((issue) => issue.severity === 'error');
    if (errors.length > 0) {
      const error = new ConfigValidationError(loaded.issues);
      this.events.rejected.emit({ revision: revision ?? this.#nextRevision(), error });
      throw error;
    }
    return this.#swap(loaded.resources, this.#workloads, revision, loaded.issues);
  }

  /** Replaces the configuration with resources that were already validated (by the parser). */
  applyResources(resources: readonly Resource[], revision?: string): MeshSnapshot {
    return this.#swap(resources, this.#workloads, revision, []);
  }

  /** Replaces the set of known workloads (the registry) and recompiles. */
  setWorkloads(workloads: readonly RegisteredWorkload[]): MeshSnapshot {
    return this.#swap(this.#resources, workloads, undefined, []);
  }

  /**
   * Replaces configuration and registry together, as one snapshot: what the agent client does
   * with each revision, so that no request ever sees new routes with old endpoints or the
   * reverse. Resources must already be valid (from the parser); `warnings` are theirs.
   */
  applyResourcesAndWorkloads(
    resources: readonly Resource[],
    workloads: readonly RegisteredWorkload[],
    options: { readonly revision?: string; readonly warnings?: readonly ConfigIssue[] } = {},
  ): MeshSnapshot {
    return this.#swap(resources, workloads, options.revision, options.warnings ?? []);
  }

  #swap(
    resources: readonly Resource[],
    workloads: readonly RegisteredWorkload[],
    revision: string | undefined,
    warnings: readonly ConfigIssue[],
  ): MeshSnapshot {
    const label = revision ?? this.#nextRevision();
    let snapshot: MeshSnapshot;
    try {
      snapshot = compile(resources, { workloads }, { ...this.#meshOptions, revision: label });
    } catch (cause) {
      // compile() is pure and total over valid resources; reaching this is a Weft bug, and the
      // last good snapshot must keep serving while it is reported.
      const error = new ConfigValidationError(
        [
          {
            severity: 'error',
            code: 'compile-failed',
            resource: '<snapshot>',
            path: '',
            message: cause instanceof Error ? cause.message : String(cause),
            location: { file: '<compile>' },
          },
        ],
        { cause },
      );
      this.events.rejected.emit({ revision: label, error });
      throw error;
    }
    this.#resources = resources;
    this.#workloads = workloads;
    this.#snapshot = snapshot;
    this.#outbound = undefined;
    this.clusters.prune(snapshot);
    this.events.snapshot.emit({ snapshot, warnings });
    return snapshot;
  }

  /** Stops timers and releases per-cluster state; the mesh must not be used afterwards. */
  close(): void {
    this.clusters.dispose();
    this.breakers.dispose();
    this.telemetry.dispose();
    // Closing stops accepting at once; the returned promise is for callers of admin.close().
    void this.admin?.close();
  }

  #nextRevision(): string {
    this.#revision += 1;
    return `local-${this.#revision}`;
  }
}

export function createMesh(options: CreateMeshOptions): Mesh {
  return new Mesh(options);
}
