/**
 * An ingress gateway on Weft: it serves every server of every Istio Gateway that selects this
 * workload (`mesh.outbound.gateways`) — one listener per declared port, plaintext HTTP or TLS
 * terminated with certificates read from files — and sends each admitted request through the
 * mesh by the VirtualServices bound to those Gateways. It follows the config: a snapshot that
 * adds, changes or removes servers adds, re-serves or closes listeners, and certificate files are
 * re-read on every change and periodically, so a rotation needs no restart. A server it cannot
 * serve (an unsupported mode, a missing or bad certificate) is refused by name while the rest
 * keep serving.
 */
import { type Disposer, hostMatches, type Mesh } from '@weft/core';
import { createMeshDispatcher, type MeshRequestListener, meshRequestListener } from '@weft/http';
import type { Dispatcher } from 'undici';
import { type GatewayRouting, gatewayRequestHandler } from './forwarding/gateway-request-handler.ts';
import type { GatewayLogEntry, IngressGatewayOptions } from './gateway-options.ts';
import type { GatewayStatus, ListenerStatus } from './gateway-status.ts';
import { PortListener, type PortServing } from './listeners/port-listener.ts';
import { describeRefusal, type GatewayServer, type ServerRefusal } from './servers/gateway-server.ts';
import { planServers } from './servers/plan-servers.ts';
import { CertificateStore } from './tls/certificate-store.ts';
import type { TerminatedServer } from './tls/tls-port-server.ts';

const DEFAULT_CERTIFICATE_CHECK_MS = 10_000;
const DEFAULT_DRAIN_MS = 30_000;
const HTTPS_PORT = 443;

interface PortGroup {
  readonly transport: PortServing['transport'];
  readonly servers: GatewayServer[];
  readonly terminated: TerminatedServer[];
  readonly versions: number[];
}

export class IngressGateway {
  readonly mesh: Mesh;
  readonly #host: string;
  readonly #listenPorts: ReadonlyMap<number, number>;
  readonly #credentialsDir: string | undefined;
  readonly #drainMs: number;
  readonly #log: (entry: GatewayLogEntry) => void;
  readonly #inbound: IngressGatewayOptions['inbound'];
  readonly #dispatcher: Dispatcher;
  readonly #routing: GatewayRouting;
  readonly #certificates = new CertificateStore();
  readonly #listeners = new Map<number, PortListener>();
  readonly #pipelines = new Map<PortListener, MeshRequestListener>();
  readonly #bindFailures = new Map<number, string>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #disposers: Disposer[] = [];
  #reported = new Set<string>();
  #status: GatewayStatus = { listeners: [], refused: [], staleCertificates: [] };
  #timer: NodeJS.Timeout | undefined;
  #isClosed = false;

  private constructor(mesh: Mesh, options: IngressGatewayOptions) {
    this.mesh = mesh;
    this.#host = options.host ?? '0.0.0.0';
    this.#listenPorts = new Map(
      Object.entries(options.listenPorts ?? {}).map(([declared, listen]) => [Number(declared), listen]),
    );
    this.#credentialsDir = options.credentialsDir;
    this.#drainMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_MS;
    this.#log = options.log ?? (() => {});
    this.#inbound = options.inbound;
    this.#dispatcher = createMeshDispatcher(mesh);
    this.#routing = {
      mesh,
      dispatcher: this.#dispatcher,
      httpsPortFor: (host) => this.#httpsPortFor(host),
    };
    const intervalMs = options.certificateCheckIntervalMs ?? DEFAULT_CERTIFICATE_CHECK_MS;
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.refresh(), intervalMs);
      this.#timer.unref();
    }
  }

  /** Binds the mapped ports, serves the current config, and follows the mesh's snapshots. */
  static async start(mesh: Mesh, options: IngressGatewayOptions = {}): Promise<IngressGateway> {
    const gateway = new IngressGateway(mesh, options);
    try {
      await gateway.#reserveMappedPorts();
    } catch (error) {
      await gateway.close();
      throw error;
    }
    gateway.#disposers.push(mesh.events.snapshot.on(() => gateway.refresh()));
    gateway.refresh();
    return gateway;
  }

  /** Declared port → the port bound for it, for every listener bound now. */
  get ports(): ReadonlyMap<number, number> {
    const ports = new Map<number, number>();
    for (const [declared, listener] of this.#listeners)
      if (listener.boundPort !== undefined) ports.set(declared, listener.boundPort);
    return ports;
  }

  status(): GatewayStatus {
    return this.#status;
  }

  /**
   * Serves what the current snapshot and certificate files say, now (the gateway also does this
   * on every snapshot and every certificate check). Listeners for new unmapped ports are bound
   * in the background: `settled()` waits for them.
   */
  refresh(): GatewayStatus {
    if (this.#isClosed) return this.#status;
    const snapshot = this.mesh.snapshot;
    const plan = planServers({
      gateways: snapshot.resources.Gateway,
      selected: this.mesh.outbound.gateways,
      virtualServices: snapshot.resources.VirtualService,
      credentialsDir: this.#credentialsDir,
    });
    const refused: ServerRefusal[] = [...plan.refusals];
    const stale: ServerRefusal[] = [];
    const groups = new Map<number, PortGroup>();
    const served: GatewayServer[] = [];
    for (const server of plan.servers) {
      const refuse = (reason: string, field?: string, path?: string): ServerRefusal => ({
        gateway: server.gateway,
        server: server.name,
        port: server.port,
        reason,
        ...(field === undefined ? {} : { field }),
        ...(path === undefined ? {} : { path }),
      });
      const group = groups.get(server.port);
      if (group !== undefined && group.transport !== server.transport) {
        refused.push(
          refuse(
            `port ${server.port} already serves ${group.transport} for ${group.servers[0]?.label}; a port carries one transport`,
            'port.protocol',
          ),
        );
        continue;
      }
      let terminated: TerminatedServer | undefined;
      if (server.tls !== undefined) {
        const load = this.#certificates.load(server);
        if (load.problem !== undefined) {
          const { field, path, reason } = load.problem;
          if (load.certificate === undefined) {
            refused.push(refuse(reason, field, path));
            continue;
          }
          stale.push(refuse(`${reason}; the previous certificate keeps serving`, field, path));
        }
        terminated = { server, certificate: load.certificate };
      }
      const target = group ?? { transport: server.transport, servers: [], terminated: [], versions: [] };
      target.servers.push(server);
      if (terminated !== undefined) {
        target.terminated.push(terminated);
        target.versions.push(terminated.certificate.version);
      }
      groups.set(server.port, target);
      served.push(server);
    }
    this.#certificates.retain(served);
    for (const [port, group] of groups) this.#servePort(port, group);
    for (const [port, listener] of [...this.#listeners])
      if (!groups.has(port)) this.#stopServing(port, listener);
    for (const [port, reason] of this.#bindFailures) {
      for (const server of groups.get(port)?.servers ?? [])
        refused.push({ gateway: server.gateway, server: server.name, port, reason, field: 'port.number' });
    }
    this.#status = { listeners: this.#listenerStatus(), refused, staleCertificates: stale };
    this.#report([...refused, ...stale]);
    return this.#status;
  }

  /** Waits until listeners being bound or drained are done. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Closes every listener (connections too), stops following the mesh; the mesh stays open. */
  async close(): Promise<void> {
    this.#isClosed = true;
    clearInterval(this.#timer);
    for (const dispose of this.#disposers.splice(0)) dispose();
    const listeners = [...this.#listeners.values()];
    this.#listeners.clear();
    await Promise.all(
      listeners.map((listener) => {
        const closing = listener.close(0);
        listener.destroyConnections();
        return closing;
      }),
    );
    await this.settled();
    for (const pipeline of this.#pipelines.values()) pipeline.close();
    this.#pipelines.clear();
    await this.#dispatcher.close();
  }

  async #reserveMappedPorts(): Promise<void> {
    for (const [declared, listenPort] of this.#listenPorts) {
      const listener = this.#newListener(declared, true);
      this.#listeners.set(declared, listener);
      const bound = await listener.listen(listenPort, this.#host);
      this.#log({ level: 'info', message: `gateway: port ${declared} is mapped to ${this.#host}:${bound}` });
    }
  }

  #servePort(port: number, group: PortGroup): void {
    const serving: PortServing = {
      transport: group.transport,
      servers: group.servers,
      terminated: group.terminated,
      signature: JSON.stringify([group.transport, group.servers, group.versions]),
    };
    let listener = this.#listeners.get(port);
    if (listener === undefined) {
      const created = this.#newListener(port, false);
      listener = created;
      this.#listeners.set(port, created);
      this.#track(
        created.listen(port, this.#host).then(
          (bound) => {
            this.#bindFailures.delete(port);
            this.#log({
              level: 'info',
              message: `gateway: listening on ${this.#host}:${bound} for port ${port}`,
            });
            this.#status = { ...this.#status, listeners: this.#listenerStatus() };
          },
          (error: unknown) => {
            if (this.#listeners.get(port) === created) this.#listeners.delete(port);
            const reason = `cannot listen on ${this.#host}:${port}: ${error instanceof Error ? error.message : String(error)}`;
            this.#bindFailures.set(port, reason);
            this.#log({ level: 'error', message: `gateway: ${reason}` });
            this.#status = { ...this.#status, listeners: this.#listenerStatus() };
          },
        ),
      );
    }
    const before = listener.serving?.signature;
    listener.serve(serving);
    if (before !== serving.signature) {
      const labels = group.servers.map((server) => server.label).join(', ');
      this.#log({ level: 'info', message: `gateway: port ${port} serves ${group.transport}: ${labels}` });
    }
  }

  #stopServing(port: number, listener: PortListener): void {
    if (listener.isReserved) {
      if (listener.serving !== undefined)
        this.#log({ level: 'info', message: `gateway: port ${port} serves nothing now` });
      listener.serve(undefined);
      return;
    }
    this.#listeners.delete(port);
    this.#log({
      level: 'info',
      message: `gateway: port ${port} is no longer declared; closing its listener`,
    });
    this.#track(
      listener.close(this.#drainMs).finally(() => {
        this.#pipelines.get(listener)?.close();
        this.#pipelines.delete(listener);
      }),
    );
  }

  #newListener(port: number, isReserved: boolean): PortListener {
    return new PortListener(port, isReserved, {
      createHandler: (listener) => {
        const pipeline = meshRequestListener(this.mesh, gatewayRequestHandler(listener, this.#routing), {
          ...this.#inbound,
          // Clients of an ingress are outside the mesh; its TLS is the Gateway's, not mesh mTLS.
          peerAuthentication: 'ignore',
        });
        this.#pipelines.set(listener, pipeline);
        return pipeline;
      },
      onConnectionRefused: () => {},
    });
  }

  #httpsPortFor(host: string): number {
    let found: number | undefined;
    for (const [port, listener] of this.#listeners) {
      const serving = listener.serving;
      if (serving?.transport !== 'tls') continue;
      if (!serving.servers.some((server) => server.hosts.some((entry) => hostMatches(entry.pattern, host))))
        continue;
      if (port === HTTPS_PORT) return port;
      found ??= port;
    }
    return found ?? HTTPS_PORT;
  }

  #listenerStatus(): ListenerStatus[] {
    return [...this.#listeners.values()]
      .map((listener) => ({
        port: listener.declaredPort,
        listenPort: listener.boundPort,
        transport: listener.serving?.transport,
        servers: (listener.serving?.servers ?? []).map((server) => server.label),
      }))
      .sort((a, b) => a.port - b.port);
  }

  /** Logs each refusal once, when it first appears, not at every certificate check. */
  #report(refusals: readonly ServerRefusal[]): void {
    const now = new Set(refusals.map(describeRefusal));
    for (const message of now)
      if (!this.#reported.has(message)) this.#log({ level: 'error', message: `gateway: ${message}` });
    this.#reported = now;
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }
}

/** Starts an ingress gateway for `mesh` (see IngressGateway); resolves once the mapped ports are bound. */
export function createIngressGateway(
  mesh: Mesh,
  options: IngressGatewayOptions = {},
): Promise<IngressGateway> {
  return IngressGateway.start(mesh, options);
}
