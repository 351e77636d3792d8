import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_DOMAIN_SUFFIX,
  DEFAULT_MESH_OPTIONS,
  MAX_HEARTBEAT_MS,
  type RevisionMark,
  systemClock,
} from '@weft/core';
import type { AdminDeps } from '../admin/admin-deps.ts';
import { clientRoutes } from '../admin/client-routes.ts';
import { identityRoutes } from '../admin/identity-routes.ts';
import { resourceRoutes } from '../admin/resource-routes.ts';
import { StoredAnalysis } from '../admin/stored-analysis.ts';
import { workloadRoutes } from '../admin/workload-routes.ts';
import { openAgentIdentity } from '../ca/agent-identity.ts';
import { WorkloadCredentials } from '../ca/workload-credentials.ts';
import { ClientRegistry } from '../clients/client-registry.ts';
import { ConfigDumpRequests } from '../clients/config-dump-requests.ts';
import { createDashboard } from '../dashboard/dashboard.ts';
import { AdminAuth } from '../http/admin-auth.ts';
import { HttpError } from '../http/http-error.ts';
import { sendError, toHttpError } from '../http/respond.ts';
import { Router } from '../http/router.ts';
import { MeshCache } from '../mesh-view/mesh-cache.ts';
import { AgentAnnouncement } from '../peers/agent-announcement.ts';
import { type AgentRecord, checkAgentRecord, hasAgentDirectory } from '../peers/agent-directory.ts';
import { resolvePeerSettings } from '../peers/peer-options.ts';
import { WatchHub } from '../watch/watch-hub.ts';
import { silentLogger } from './agent-logger.ts';
import { type AgentOptions, type AgentSettings, DEFAULT_AGENT_LIMITS } from './agent-options.ts';

/** A running agent. */
export interface Agent {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The store mark the agent's view (and so every watch) is at. */
  mark(): RevisionMark;
  /** Ends every watch, stops listening and stops following the store; the store stays open. */
  close(): Promise<void>;
}

/**
 * Starts an agent on `options.store`: lists the store (so nothing is served before the agent is
 * warm), follows its changes, and listens. Resolves once the port is bound.
 */
export async function createAgent(options: AgentOptions): Promise<Agent> {
  const settings = resolveSettings(options);
  const peers = resolvePeerSettings(options.peers);
  const directory = hasAgentDirectory(settings.store) ? settings.store.agents : undefined;
  // The URL is known once the port is bound; peers see the record only after that.
  let self: AgentRecord = { id: randomUUID(), url: peers.advertiseUrl ?? '' };
  if (peers.advertiseUrl !== undefined) checkAgentRecord(self);
  const identity = await openAgentIdentity({
    store: settings.store,
    options: options.ca,
    clock: settings.clock,
    wallClock: settings.wallClock,
    logger: settings.logger,
  });
  const cache = await MeshCache.open(settings.store, {
    maxHistoryEntries: settings.limits.maxHistoryEntries,
    clock: settings.clock,
    logger: settings.logger,
    selfCheckIntervalMs: settings.selfCheckIntervalMs,
  }).catch((error: unknown) => {
    identity.close();
    throw error;
  });
  const clients = new ClientRegistry(settings.limits.maxKnownClients, settings.wallClock);
  const hub = new WatchHub(cache, clients, {
    clock: settings.clock,
    heartbeatMs: settings.heartbeatMs,
    coalesceWindowMs: settings.coalesceWindowMs,
    stalledClientMs: settings.limits.stalledClientMs,
    maxWatchClients: settings.limits.maxWatchClients,
    trustBundle: identity.bundleFeed,
    scope: {
      rootNamespace: settings.rootNamespace,
      defaultExportTo: settings.defaultExportTo,
      domainSuffix: settings.domainSuffix,
    },
  });
  const deps: AdminDeps = {
    store: settings.store,
    cache,
    hub,
    clients,
    configDumps: new ConfigDumpRequests(),
    analysis: new StoredAnalysis(settings.store, settings),
    domainSuffix: settings.domainSuffix,
    maxApplyBytes: settings.limits.maxApplyBytes,
    maxRequestBytes: settings.limits.maxRequestBytes,
    maxLeaseTtlMs: settings.limits.maxLeaseTtlMs,
  };
  // Registration routes also take a workload's own credential (PROTOCOL.md §4.2.1).
  const auth = new AdminAuth(
    settings.adminToken,
    new WorkloadCredentials({
      ca: identity.ca,
      tokens: identity.tokens,
      wallClock: settings.wallClock,
      backdateMs: identity.settings.backdateMs,
      maxRequestBytes: settings.limits.maxRequestBytes,
    }),
  );
  const dashboard = createDashboard({
    options: options.dashboard,
    cache,
    clients,
    hub,
    analysis: deps.analysis,
    adminToken: settings.adminToken,
    clock: settings.clock,
    wallClock: settings.wallClock,
    domainSuffix: settings.domainSuffix,
    maxKnownClients: settings.limits.maxKnownClients,
    maxRequestBytes: settings.limits.maxRequestBytes,
    self: () => self,
    directory,
    peers,
  });
  const router = new Router([
    ...resourceRoutes(deps),
    ...workloadRoutes(deps),
    ...clientRoutes(deps),
    ...dashboard.routes,
    ...identityRoutes({
      ca: identity.ca,
      tokens: identity.tokens,
      auth,
      wallClock: settings.wallClock,
      backdateMs: identity.settings.backdateMs,
      svidTtlMs: identity.settings.svidTtlMs,
      maxCertificateRequestBytes: 64 * 1024,
      maxRequestBytes: settings.limits.maxRequestBytes,
    }),
  ]);

  const server = createServer({
    requestTimeout: settings.limits.requestTimeoutMs,
    headersTimeout: Math.min(settings.limits.requestTimeoutMs, 60_000),
    // How often Node looks for requests past their timeout (its default, 30 s, would let a slow
    // sender hold a connection far longer than requestTimeoutMs says).
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, settings.limits.requestTimeoutMs / 4)),
    keepAliveTimeout: 5_000,
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      const refusal = toHttpError(error);
      if (refusal.status >= 500) settings.logger.warn('request failed', { error, url: request.url });
      if (!request.complete) {
        // The body was not read (refused before, or too large): do not read it just to discard it.
        response.setHeader('connection', 'close');
        response.on('finish', () => request.socket.destroySoon());
      }
      sendError(response, refusal);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = parseUrl(request.url);
    const match = router.match(request.method ?? 'GET', url.pathname);
    if (match.type === 'none') throw new HttpError(404, 'not-found', `no route ${url.pathname}`);
    if (match.type === 'wrong-method') {
      throw new HttpError(405, 'method-not-allowed', `${request.method} is not allowed on ${url.pathname}`, {
        headers: { allow: match.allow.join(', ') },
      });
    }
    const caller = match.route.isWrite
      ? await auth.authorizeWrite(request, url.pathname, match.route.writers)
      : await auth.authorizeRead(request, url.pathname, match.route.readers);
    await match.route.handle({ request, response, url, params: match.params, caller });
  }

  try {
    await listen(server, settings.host, settings.port);
  } catch (error) {
    dashboard.close();
    hub.close();
    identity.close();
    await cache.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const hostInUrl = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `http://${hostInUrl}:${port}`;
  self = checkAgentRecord({ id: self.id, url: peers.advertiseUrl ?? url });
  const announcement =
    directory === undefined
      ? undefined
      : new AgentAnnouncement({
          directory,
          record: self,
          ttlMs: peers.leaseTtlMs,
          clock: settings.clock,
          logger: settings.logger,
        });
  // Failures are logged and retried: an agent serves its clients whether or not peers find it.
  await announcement?.start();
  let closing: Promise<void> | undefined;
  return {
    url,
    host: settings.host,
    port,
    mark: () => cache.mark,
    close() {
      closing ??= (async () => {
        await announcement?.close();
        dashboard.close();
        hub.close();
        identity.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([closed, cache.close()]);
      })();
      return closing;
    },
  };
}

function parseUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'http://agent.invalid');
  } catch (error) {
    throw new HttpError(400, 'bad-request', 'the request target is not a valid URL', { cause: error });
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function resolveSettings(options: AgentOptions): AgentSettings {
  const limits = { ...DEFAULT_AGENT_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`limits.${name} must be a positive number`);
  }
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  if (!Number.isFinite(heartbeatMs) || heartbeatMs <= 0 || heartbeatMs > MAX_HEARTBEAT_MS) {
    throw new RangeError(`heartbeatMs must be positive and at most ${MAX_HEARTBEAT_MS}`);
  }
  const coalesceWindowMs = options.coalesceWindowMs ?? 5;
  if (!Number.isFinite(coalesceWindowMs) || coalesceWindowMs < 0) {
    throw new RangeError('coalesceWindowMs must be zero or positive');
  }
  const selfCheckIntervalMs = options.selfCheckIntervalMs ?? 60_000;
  if (!Number.isFinite(selfCheckIntervalMs) || selfCheckIntervalMs < 0) {
    throw new RangeError('selfCheckIntervalMs must be zero or positive');
  }
  if (options.adminToken !== undefined && options.adminToken.length < 16) {
    throw new RangeError('adminToken must be at least 16 characters');
  }
  return {
    store: options.store,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    adminToken: options.adminToken,
    clock: options.clock ?? systemClock,
    wallClock: options.wallClock ?? Date.now,
    heartbeatMs,
    coalesceWindowMs,
    selfCheckIntervalMs,
    limits,
    rootNamespace: options.mesh?.rootNamespace ?? DEFAULT_MESH_OPTIONS.rootNamespace,
    defaultExportTo: options.mesh?.defaultExportTo ?? DEFAULT_MESH_OPTIONS.defaultExportTo,
    domainSuffix: options.mesh?.domainSuffix ?? DEFAULT_DOMAIN_SUFFIX,
    logger: options.logger ?? silentLogger,
  };
}
