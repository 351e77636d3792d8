/**
 * The clients bench/mtls.ts compares, all sending `GET /` (200 `ok`) to one origin process:
 * bare undici in plaintext and doing mTLS itself (the identity module's clientTlsOptions: the SVID,
 * the bundle, the SPIFFE check of the server), and Weft's dispatcher to `http://reviews:9080/` with
 * DestinationRule `tls.mode` DISABLE or ISTIO_MUTUAL. Each variant owns its dispatcher. The
 * `-fresh` variants open a connection (and a TLS handshake, resumed from undici's session cache as
 * both clients do) for every request.
 */
import { Agent, type Dispatcher, request } from 'undici';
import {
  clientTlsOptions,
  createMesh,
  type IdentityMaterial,
  MESH_TLS_MODE,
  type Mesh,
  TLS_MODE_LABEL,
} from '../../packages/core/src/index.ts';
import { createMeshDispatcher } from '../../packages/http/src/index.ts';
import type { Send } from './load.ts';
import type { BenchIdentities } from './mtls-identities.ts';

export interface MtlsBenchClient {
  readonly send: Send;
  close(): Promise<void>;
}

export interface MtlsVariant {
  readonly id: string;
  readonly description: string;
  readonly baseline?: string;
  /** Every request opens a connection: the origin must count one connection per request. */
  readonly isFresh: boolean;
  create(origin: OriginPorts, identities: BenchIdentities): MtlsBenchClient;
}

export interface OriginPorts {
  readonly plainPort: number;
  readonly mtlsPort: number;
}

const OK = 'ok';
const MESH_URL = 'http://reviews:9080/';
const SNI = 'outbound_.9080_._.reviews.default.svc.cluster.local';

async function readRequest(url: string, dispatcher: Dispatcher): Promise<boolean> {
  const response = await request(url, { dispatcher });
  const body = await response.body.text();
  return response.statusCode === 200 && body === OK;
}

function bare(id: string, description: string, tls: boolean, isFresh: boolean): MtlsVariant {
  return {
    id,
    description,
    isFresh,
    create(origin, identities) {
      const connect = tls
        ? {
            ...clientTlsOptions(identities.client, { allowedIds: [identities.origin.spiffeId] }),
            servername: SNI,
          }
        : undefined;
      const agent = new Agent({
        allowH2: false,
        ...(connect === undefined ? {} : { connect }),
        // pipelining 0: undici closes each connection after its request.
        ...(isFresh ? { pipelining: 0 } : {}),
      });
      const url = tls ? `https://127.0.0.1:${origin.mtlsPort}/` : `http://127.0.0.1:${origin.plainPort}/`;
      return { send: () => readRequest(url, agent), close: () => agent.close() };
    },
  };
}

function weft(
  id: string,
  description: string,
  baseline: string,
  mode: 'DISABLE' | 'ISTIO_MUTUAL',
  isFresh: boolean,
): MtlsVariant {
  return {
    id,
    description,
    baseline,
    isFresh,
    create(origin, identities) {
      const client: IdentityMaterial = identities.client;
      const mesh: Mesh = createMesh({
        workload: {
          name: 'productpage-v1',
          namespace: 'default',
          serviceAccount: 'productpage',
          labels: { app: 'productpage', version: 'v1' },
        },
        identity: { current: () => client, onChange: () => () => {} },
        config: {
          yaml: [
            'apiVersion: networking.istio.io/v1',
            'kind: DestinationRule',
            'metadata: { name: reviews }',
            'spec:',
            '  host: reviews',
            '  trafficPolicy:',
            `    tls: { mode: ${mode} }`,
            ...(isFresh ? ['    connectionPool: { http: { maxRequestsPerConnection: 1 } }'] : []),
          ].join('\n'),
        },
        workloads: [
          {
            name: 'reviews-v1-0',
            namespace: 'default',
            service: 'reviews',
            serviceAccount: 'reviews',
            labels: { app: 'reviews', version: 'v1', [TLS_MODE_LABEL]: MESH_TLS_MODE },
            address: '127.0.0.1',
            ports: { 9080: mode === 'DISABLE' ? origin.plainPort : origin.mtlsPort },
          },
        ],
      });
      const dispatcher = createMeshDispatcher(mesh);
      return {
        send: () => readRequest(MESH_URL, dispatcher),
        async close() {
          await dispatcher.close();
          mesh.close();
        },
      };
    },
  };
}

export const MTLS_VARIANTS: readonly MtlsVariant[] = [
  bare('bare-plain', 'bare undici.request, plaintext, keep-alive', false, false),
  bare(
    'bare-mtls',
    'bare undici.request doing mTLS itself (SVID, bundle, SPIFFE check), keep-alive',
    true,
    false,
  ),
  weft('weft-plain', 'Weft, DestinationRule tls DISABLE, keep-alive', 'bare-plain', 'DISABLE', false),
  weft('weft-mtls', 'Weft, ISTIO_MUTUAL, keep-alive — vs bare mTLS', 'bare-mtls', 'ISTIO_MUTUAL', false),
  weft(
    'weft-mtls-vs-plain',
    'Weft, ISTIO_MUTUAL, keep-alive — vs bare plaintext',
    'bare-plain',
    'ISTIO_MUTUAL',
    false,
  ),
  bare('bare-mtls-fresh', 'bare undici mTLS, a new connection per request', true, true),
  weft(
    'weft-mtls-fresh',
    'Weft, ISTIO_MUTUAL, maxRequestsPerConnection 1 — vs bare mTLS fresh',
    'bare-mtls-fresh',
    'ISTIO_MUTUAL',
    true,
  ),
];
