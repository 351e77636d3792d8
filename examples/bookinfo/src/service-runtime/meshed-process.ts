/**
 * What every Bookinfo process does around its handler: join the mesh under its own identity (its
 * SVID, `spiffe://cluster.local/ns/<namespace>/sa/<service account>`, from the agent's CA with
 * the join token the operator gave it), serve the handler behind Weft's inbound server
 * (PeerAuthentication, request authentication, authorization, telemetry, and the request's
 * context handed on to its outbound calls), listen on 127.0.0.1 (port 0), register that port with
 * the agent as service port 9080, and tell the launcher it is ready with one JSON line on
 * standard output. SIGTERM/SIGINT close it in the reverse order, deregistering before the process
 * exits.
 */
import { readFile } from 'node:fs/promises';
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
  /** The service it serves (`reviews`, `istio-ingressgateway`); undefined: it registers nothing. */
  readonly service?: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Builds the node:http request listener once the mesh exists (outbound calls need it). */
  readonly createHandler?: (mesh: Mesh) => RequestListener;
  /**
   * Instead of `createHandler` behind one MeshServer: the process serves its own listeners (the
   * ingress gateway, one per Gateway port). Resolves once they listen, with the port to register
   * and announce and what closes them.
   */
  readonly serve?: (mesh: Mesh) => Promise<ServedListeners>;
  /** The port to listen on; 0 (the default) picks a free one. */
  readonly listenPort?: number;
  /** What the operator handed this process to join with (readCredentialFiles). */
  readonly credentials: ProcessCredentials;
}

/**
 * A process's credential, as a deployment hands it over: its own join token (`weft token create`
 * for its namespace and service account). It is all the process holds: its SVID comes from it,
 * and its registration is authorized by its own identity (the SVID proof, or the join token
 * before the first SVID; packages/control-agent/PROTOCOL.md §4.2), so no process holds the
 * agent's admin token, which could rewrite all config and mint identities.
 */
export interface ProcessCredentials {
  readonly joinToken: string;
}

/** The command-line flag that names the credential file, for node:util's parseArgs. */
export const CREDENTIAL_FLAGS = {
  'join-token-file': { type: 'string' },
} as const;

/**
 * Reads the file `--join-token-file` names: a file rather than an argument or the environment,
 * so the token shows in no process listing (the launcher writes it 0600 in its temporary
 * directory, as a deployment would mount a secret).
 */
export async function readCredentialFiles(flags: {
  readonly 'join-token-file'?: string | undefined;
}): Promise<ProcessCredentials> {
  const joinTokenFile = flags['join-token-file'];
  if (joinTokenFile === undefined)
    throw new Error("--join-token-file FILE is required: the join token for this workload's identity");
  return { joinToken: (await readFile(joinTokenFile, 'utf8')).trim() };
}

export interface ServedListeners {
  readonly port: number;
  /** The service ports to register (declared → bound); `{ 9080: port }` when not given. */
  readonly servicePorts?: Readonly<Record<number, number>>;
  close(): Promise<void>;
}

export interface MeshedProcess {
  readonly mesh: Mesh;
  /** The MeshServer serving `createHandler`; undefined when the process serves its own (`serve`). */
  readonly server: MeshServer | undefined;
  readonly port: number;
  close(): Promise<void>;
}

/** The cluster every Bookinfo process is in, as Istio names a cluster by default. */
export const BOOKINFO_CLUSTER_ID = 'Kubernetes';

const LEASE_TTL_MS = 15_000;
/** Inside the launcher's 15 s start-up bound, so that its error carries the reason. */
const IDENTITY_TIMEOUT_MS = 10_000;

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
    // Istio's default cluster id: source_cluster and destination_cluster say it, as in Istio.
    telemetry: { clusterId: BOOKINFO_CLUSTER_ID },
  });
  const served = options.serve === undefined ? await serveHandler(mesh, options) : await options.serve(mesh);
  const { port } = served;
  // Registration needs the real port, so the client connects after the server listens. The
  // server takes mTLS connections from the moment the SVID arrives (it follows mesh.identity).
  const { joinToken } = options.credentials;
  const client: AgentClient = connectToAgent(mesh, {
    agents: [options.agentUrl],
    clientId: options.name,
    // Also what registers it: the agent lets this identity register only workloads running as it.
    identity: { joinToken },
    ...(options.service === undefined
      ? {}
      : {
          register: {
            address: '127.0.0.1',
            ports: served.servicePorts ?? { [BOOKINFO_SERVICE_PORT]: port },
            ttlMs: LEASE_TTL_MS,
          },
        }),
  });
  // Ready means able to serve and call as itself: a STRICT peer would refuse it before.
  await Promise.all([client.ready, firstCertificate(client)]);
  return {
    mesh,
    server: 'server' in served ? (served.server as MeshServer) : undefined,
    port,
    async close() {
      await client.close();
      await served.close();
      mesh.close();
    },
  };
}

/**
 * The first SVID, or an error that says why there is none: the client retries a refused join
 * token for as long as it runs, so a process that cannot get one would otherwise wait silently.
 */
async function firstCertificate(client: AgentClient): Promise<void> {
  const certificates = client.identity;
  if (certificates === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const reason = certificates.lastError === undefined ? 'no answer' : String(certificates.lastError);
      reject(new Error(`no SVID from the agent within ${IDENTITY_TIMEOUT_MS} ms: ${reason}`));
    }, IDENTITY_TIMEOUT_MS);
  });
  try {
    await Promise.race([certificates.ready, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function serveHandler(
  mesh: Mesh,
  options: MeshedProcessOptions,
): Promise<ServedListeners & { readonly server: MeshServer }> {
  if (options.createHandler === undefined) throw new Error('startMeshedProcess needs createHandler or serve');
  const server = createMeshServer(mesh, options.createHandler(mesh));
  const port = await listen(server, options.listenPort ?? 0);
  return {
    server,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
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
export function announceReady(name: string, port: number, ports?: Readonly<Record<number, number>>): void {
  // `ports` (declared → bound, the gateway's) comes after `port`, which the launcher reads first.
  const line = ports === undefined ? { ready: name, port } : { ready: name, port, ports };
  process.stdout.write(`${JSON.stringify(line)}\n`);
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
