/**
 * For the outbound mTLS tests: a test CA, TLS upstreams presenting SVIDs (node:https with the
 * identity module's serverTlsOptions, as a Weft inbound server would), mesh workloads marked as
 * mTLS-capable, and a productpage caller whose mesh holds an identity. `close()` ends all of it.
 */
import {
  createMesh,
  type IdentityMaterial,
  type IdentitySource,
  MESH_TLS_MODE,
  type Mesh,
  type RegisteredWorkload,
  seededRandom,
  serverTlsOptions,
  TLS_MODE_LABEL,
  type UpstreamTlsEvent,
} from '@weft/core';
import { createTestCa, type TestCa, TestIdentity } from '@weft/core/testing';
import type { Dispatcher } from 'undici';
import { createMeshDispatcher } from '../../src/index.ts';
import { type CallOptions, type CallResult, call } from './mesh-client.ts';
import { startTlsUpstream, type TlsUpstream } from './tls-upstream.ts';
import { closeAll, startUpstream, type Upstream } from './upstream.ts';

export const CALLER_ID = 'spiffe://cluster.local/ns/default/sa/productpage';

export interface MtlsClient {
  readonly mesh: Mesh;
  readonly dispatcher: Dispatcher;
  readonly identity: TestIdentity | undefined;
  /** TLS handshakes and failures the mesh reported. */
  readonly tlsEvents: UpstreamTlsEvent[];
  get(url: string, options?: CallOptions): Promise<CallResult>;
}

export interface ClientOptions {
  /** The caller's identity: its own SVID from the harness CA unless given; `null` for none. */
  readonly identity?: IdentitySource | null;
  readonly telemetry?: Parameters<typeof createMesh>[0]['telemetry'];
}

export interface MtlsHarness {
  readonly ca: TestCa;
  /** A TLS upstream presenting `material` (an SVID of the harness CA for `serviceAccount` by default). */
  tlsUpstream(name: string, serviceAccount: string, material?: IdentityMaterial): Promise<TlsUpstream>;
  /** A TLS upstream with explicit node:tls options (an external host's certificate…). */
  customUpstream(name: string, options: Parameters<typeof startTlsUpstream>[1]): Promise<TlsUpstream>;
  /** A plaintext HTTP upstream. */
  plainUpstream(name: string): Promise<Upstream>;
  client(yaml: string, workloads: readonly RegisteredWorkload[], options?: ClientOptions): MtlsClient;
  close(): Promise<void>;
}

/** A workload of `service` serving its port 9080 on `port`; marked as taking mTLS unless `isMesh` is false. */
export function meshWorkload(
  service: string,
  port: number,
  options: { serviceAccount?: string; isMesh?: boolean; labels?: Record<string, string>; name?: string } = {},
): RegisteredWorkload {
  return {
    name: options.name ?? `${service}-${port}`,
    namespace: 'default',
    service,
    serviceAccount: options.serviceAccount ?? service,
    labels: {
      app: service,
      version: 'v1',
      ...(options.isMesh === false ? {} : { [TLS_MODE_LABEL]: MESH_TLS_MODE }),
      ...options.labels,
    },
    address: '127.0.0.1',
    ports: { 9080: port },
  };
}

export function createMtlsHarness(): MtlsHarness {
  const ca = createTestCa();
  const tls: TlsUpstream[] = [];
  const plain: Upstream[] = [];
  const clients: { mesh: Mesh; dispatcher: Dispatcher }[] = [];
  return {
    ca,
    async tlsUpstream(name, serviceAccount, material) {
      const upstream = await startTlsUpstream(
        name,
        serverTlsOptions(material ?? ca.workload('default', serviceAccount)),
      );
      tls.push(upstream);
      return upstream;
    },
    async customUpstream(name, options) {
      const upstream = await startTlsUpstream(name, options);
      tls.push(upstream);
      return upstream;
    },
    async plainUpstream(name) {
      const upstream = await startUpstream(name);
      plain.push(upstream);
      return upstream;
    },
    client(yaml, workloads, options = {}) {
      const identity =
        options.identity === null
          ? undefined
          : (options.identity ?? new TestIdentity(ca.workload('default', 'productpage')));
      const mesh = createMesh({
        workload: {
          name: 'productpage-v1',
          namespace: 'default',
          serviceAccount: 'productpage',
          labels: { app: 'productpage', version: 'v1' },
        },
        config: { yaml },
        workloads,
        random: seededRandom(7),
        ...(identity === undefined ? {} : { identity }),
        ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
      });
      const tlsEvents: UpstreamTlsEvent[] = [];
      mesh.events.tls.on((event) => tlsEvents.push(event));
      const dispatcher = createMeshDispatcher(mesh);
      clients.push({ mesh, dispatcher });
      return {
        mesh,
        dispatcher,
        identity: identity instanceof TestIdentity ? identity : undefined,
        tlsEvents,
        get: (url, callOptions = {}) => call(dispatcher, url, callOptions),
      };
    },
    async close() {
      for (const upstream of tls.splice(0)) await upstream.close();
      await closeAll(plain.splice(0));
      for (const { mesh, dispatcher } of clients.splice(0)) {
        await dispatcher.close();
        mesh.close();
      }
    },
  };
}
