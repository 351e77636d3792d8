/**
 * For the security and telemetry tests: a meshed `reviews` server (a MeshServer on 127.0.0.1,
 * port 0, answering with the echo service) and meshed callers, each workload with its own mesh,
 * configuration and, optionally, an SVID of the test CA in its identity slot. `close()` ends all.
 */
import { createMesh, MESH_TLS_MODE, type Mesh, type RegisteredWorkload, TLS_MODE_LABEL } from '@weft/core';
import { createTestCa, type TestCa, TestIdentity } from '@weft/core/testing';
import {
  type CreateMeshClientOptions,
  createMeshClient,
  createMeshServer,
  type InboundCallInfo,
  type MeshServer,
  type MeshServerOptions,
} from '../../src/index.ts';
import { type EchoServer, startEchoServer } from './echo-server.ts';
import { type EchoClient, EchoClientConstructor } from './echo-service.ts';
import { grpcWorkload } from './mesh-scenario.ts';

export const TRUST_DOMAIN = 'cluster.local';
export const REVIEWS_ID = 'spiffe://cluster.local/ns/default/sa/reviews';
export const PRODUCTPAGE_ID = 'spiffe://cluster.local/ns/default/sa/productpage';

type Telemetry = Parameters<typeof createMesh>[0]['telemetry'];

export interface WorkloadOptions {
  /** The workload's service account; its SVID is issued for it. */
  readonly serviceAccount?: string;
  /** `null`: no identity at all; a TestIdentity given is used as is. Default: an SVID of the pair's CA. */
  readonly identity?: TestIdentity | null;
  readonly yaml?: string;
  readonly telemetry?: Telemetry;
}

export interface SecureServer {
  readonly mesh: Mesh;
  readonly echo: EchoServer;
  readonly server: MeshServer;
  readonly identity: TestIdentity | undefined;
  /** What the server's own policy was shown of each call (it allows every call). */
  readonly seen: InboundCallInfo[];
}

export interface SecureCaller {
  readonly mesh: Mesh;
  readonly client: EchoClient;
  readonly identity: TestIdentity | undefined;
}

export interface SecurePair {
  readonly ca: TestCa;
  /** The `reviews` server (workload `reviews-0`, service account `reviews` unless told). */
  server(options?: WorkloadOptions & { readonly serverOptions?: MeshServerOptions }): Promise<SecureServer>;
  /**
   * A caller (`productpage` unless told) whose registry has `reviews-0` on the server's port,
   * marked as taking mTLS (Istio's tlsMode label) unless `isMeshEndpoint` is false.
   */
  caller(
    server: SecureServer,
    options?: WorkloadOptions & {
      readonly name?: string;
      readonly isMeshEndpoint?: boolean;
      readonly client?: CreateMeshClientOptions;
    },
  ): SecureCaller;
  close(): Promise<void>;
}

export function createSecurePair(): SecurePair {
  const ca = createTestCa(TRUST_DOMAIN);
  let closers: (() => Promise<void> | void)[] = [];
  const identityOf = (options: WorkloadOptions, serviceAccount: string) =>
    options.identity === null
      ? undefined
      : (options.identity ?? new TestIdentity(ca.workload('default', serviceAccount)));
  return {
    ca,
    async server(options = {}) {
      const serviceAccount = options.serviceAccount ?? 'reviews';
      const identity = identityOf(options, serviceAccount);
      const mesh = createMesh({
        workload: {
          name: 'reviews-0',
          namespace: 'default',
          serviceAccount,
          service: 'reviews',
          labels: { app: 'reviews', version: 'v1' },
          address: '127.0.0.1',
        },
        ...(options.yaml === undefined ? {} : { config: { yaml: options.yaml } }),
        ...(identity === undefined ? {} : { identity }),
        ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
      });
      const seen: InboundCallInfo[] = [];
      const server = createMeshServer(mesh, {
        ...options.serverOptions,
        policy: (call) => {
          // A copy taken now: `authContext` is read while the call's connection is there.
          seen.push({ ...call });
          return { kind: 'allow' };
        },
      });
      const echo = await startEchoServer('reviews-0', { server });
      closers.push(async () => {
        await echo.close();
        mesh.close();
      });
      return { mesh, echo, server, identity, seen };
    },
    caller(server, options = {}) {
      const name = options.name ?? 'productpage';
      const serviceAccount = options.serviceAccount ?? name;
      const identity = identityOf(options, serviceAccount);
      const reviews: RegisteredWorkload = grpcWorkload('reviews', 'reviews-0', server.echo.port, {
        ...(options.isMeshEndpoint === false ? {} : { [TLS_MODE_LABEL]: MESH_TLS_MODE }),
      });
      const mesh = createMesh({
        workload: {
          name: `${name}-0`,
          namespace: 'default',
          serviceAccount,
          labels: { app: name, version: 'v1' },
          address: '127.0.0.1',
        },
        workloads: [reviews],
        ...(options.yaml === undefined ? {} : { config: { yaml: options.yaml } }),
        ...(identity === undefined ? {} : { identity }),
        ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
      });
      const client = createMeshClient(mesh, EchoClientConstructor, 'reviews:9080', options.client ?? {});
      // Clients close before servers: a call still open then fails rather than hangs.
      closers.unshift(() => {
        client.close();
        mesh.close();
      });
      return { mesh, client, identity };
    },
    async close() {
      for (const close of closers) await close();
      closers = [];
    },
  };
}

/** A PeerAuthentication for the whole `default` namespace. */
export function peerAuthentication(mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): string {
  return `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: default }
spec:
  mtls: { mode: ${mode} }
`;
}
