/**
 * What every Bookinfo process does around its handler: join the mesh under its own identity,
 * serve the handler behind Weft's inbound server (PeerAuthentication, request authentication,
 * authorization, telemetry, and the request's context handed on to its outbound calls), listen on
 * 127.0.0.1 (port 0), register that port with the agent as service port 9080, and tell
 * the launcher it is ready with one JSON line on standard output. SIGTERM/SIGINT close it in the
 * reverse order, deregistering before the process exits.
 */
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AgentClient, connectToAgent, createMesh, type Mesh } from '@weft/core';
import { createMeshServer, type MeshServer } from '@weft/http';

/** The port every Bookinfo service declares (bookinfo.yaml), whatever port the process listens on. */
export const BOOKINFO_SERVICE_PORT = 9080;

export interface MeshedProcessOptions {
  readonly agentUrl: string;
  /** Workload name, unique in the namespace: `reviews-v2`. */
  readonly name: string;
  readonly namespace: string;
  /** The service it serves (`reviews`); undefined for a process that serves none (a gateway). */
  readonly service?: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Builds the node:http request listener once the mesh exists (outbound calls need it). */
  readonly createHandler: (mesh: Mesh) => RequestListener;
  /** The port to listen on; 0 (the default) picks a free one. */
  readonly listenPort?: number;
}

export interface MeshedProcess {
  readonly mesh: Mesh;
  readonly server: MeshServer;
  readonly port: number;
  close(): Promise<void>;
}

const LEASE_TTL_MS = 15_000;

export async function startMeshedProcess(options: MeshedProcessOptions): Promise<MeshedProcess> {
  const mesh = createMesh({
    workload: {
      name: options.name,
      namespace: options.namespace,
      serviceAccount: options.serviceAccount,
      labels: options.labels,
      address: '127.0.0.1',
      ...(options.service === undefined ? {} : { service: options.service }),
    },
  });
  const server = createMeshServer(mesh, options.createHandler(mesh));
  const port = await listen(server, options.listenPort ?? 0);
  // Registration needs the real port, so the client connects after the server listens.
  const client: AgentClient = connectToAgent(mesh, {
    agents: [options.agentUrl],
    clientId: options.name,
    ...(options.service === undefined
      ? {}
      : {
          register: { address: '127.0.0.1', ports: { [BOOKINFO_SERVICE_PORT]: port }, ttlMs: LEASE_TTL_MS },
        }),
  });
  await client.ready;
  return {
    mesh,
    server,
    port,
    async close() {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      mesh.close();
    },
  };
}

function listen(server: MeshServer, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The line the launcher waits for; anything else the process prints is a log line. */
export function announceReady(name: string, port: number): void {
  process.stdout.write(`${JSON.stringify({ ready: name, port })}\n`);
}

/**
 * Closes the process on SIGTERM or SIGINT, once. Ctrl-C reaches the launcher and its children
 * alike and the launcher then sends SIGTERM, so later signals are ignored rather than cutting the
 * deregistration short (the launcher SIGKILLs a child that takes too long). A child started with
 * BOOKINFO_PARENT_LIFELINE=1 also closes when its standard input ends: its launcher is gone.
 */
export function closeOnSignals(close: () => Promise<void>): void {
  let closing = false;
  const closeOnce = (): void => {
    if (closing) return;
    closing = true;
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', closeOnce);
  process.on('SIGINT', closeOnce);
  if (process.env.BOOKINFO_PARENT_LIFELINE === '1') {
    process.stdin.on('end', closeOnce);
    process.stdin.resume();
  }
}
