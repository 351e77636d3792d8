/**
 * The protocol-neutral half of outbound mTLS (src/security/mtls/): which plan a cluster endpoint
 * gets from its DestinationRule `tls` or Istio's auto-mTLS, the SPIFFE identities a destination may
 * present, and the mesh's identity slot. The handshakes themselves are tested with real servers in
 * packages/http/test/outbound-mtls*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  clusterName,
  createMesh,
  type IdentityMaterial,
  type IdentitySource,
  MESH_TLS_MODE,
  parseSpiffeId,
  type RegisteredWorkload,
  TLS_MODE_LABEL,
  type UpstreamTlsPlan,
  upstreamTlsPlan,
  withMeshTlsLabel,
} from '../src/index.ts';

const MESH_LABELS = { app: 'reviews', [TLS_MODE_LABEL]: MESH_TLS_MODE };

function reviews(
  name: string,
  labels: Record<string, string>,
  serviceAccount = 'bookinfo-reviews',
): RegisteredWorkload {
  return {
    name,
    namespace: 'default',
    service: 'reviews',
    serviceAccount,
    labels,
    address: '10.0.0.1',
    ports: { 9080: 9080 },
  };
}

/** The plan of every endpoint of reviews:9080 (optionally a subset), under `yaml`. */
function plans(yaml: string, workloads: readonly RegisteredWorkload[], subset?: string): UpstreamTlsPlan[] {
  const mesh = createMesh({
    workload: { name: 'productpage', namespace: 'default', serviceAccount: 'productpage', labels: {} },
    config: { yaml },
    workloads,
  });
  const host = 'reviews.default.svc.cluster.local';
  const cluster = mesh.outbound.cluster({
    clusterName: clusterName(host, 9080, subset),
    host,
    port: 9080,
    weight: 1,
    ...(subset === undefined ? {} : { subset }),
  });
  mesh.close();
  if (cluster === undefined) throw new Error('no cluster');
  return cluster.endpoints.map((endpoint) => upstreamTlsPlan(cluster, endpoint, mesh.snapshot));
}

const tls = (fields: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy: { tls: ${fields} }
`;

describe('auto-mTLS (no DestinationRule tls)', () => {
  it('is mTLS to endpoints with the tlsMode label and plaintext to the others, endpoint by endpoint', () => {
    const [mesh, legacy] = plans('', [reviews('r-0', MESH_LABELS), reviews('r-1', { app: 'reviews' })]);
    expect(mesh).toMatchObject({
      kind: 'istio-mutual',
      isAuto: true,
      sni: 'outbound_.9080_._.reviews.default.svc.cluster.local',
    });
    expect(legacy).toEqual({ kind: 'plaintext', reason: 'not-mesh-workload' });
  });

  it("is plaintext where the destination's PeerAuthentication is DISABLE, port-level included", () => {
    const disable = (mtls: string) => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews, namespace: default }
spec: { selector: { matchLabels: { app: reviews } }, ${mtls} }
`;
    expect(plans(disable('mtls: { mode: DISABLE }'), [reviews('r-0', MESH_LABELS)])).toEqual([
      { kind: 'plaintext', reason: 'peer-authentication-disable' },
    ]);
    expect(
      plans(disable('mtls: { mode: STRICT }, portLevelMtls: { 9080: { mode: DISABLE } }'), [
        reviews('r-0', MESH_LABELS),
      ]),
    ).toEqual([{ kind: 'plaintext', reason: 'peer-authentication-disable' }]);
    expect(plans(disable('mtls: { mode: PERMISSIVE }'), [reviews('r-0', MESH_LABELS)])[0]?.kind).toBe(
      'istio-mutual',
    );
  });

  it('is plaintext to a MESH_EXTERNAL ServiceEntry whatever its endpoints say', () => {
    const mesh = createMesh({
      workload: { name: 'productpage', namespace: 'default', serviceAccount: 'productpage', labels: {} },
      config: {
        yaml: `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ext }
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.0.9, labels: { ${TLS_MODE_LABEL}: istio } }]
`,
      },
    });
    const cluster = mesh.outbound.cluster({
      clusterName: clusterName('api.example.com', 80, undefined),
      host: 'api.example.com',
      port: 80,
      weight: 1,
    });
    mesh.close();
    expect(cluster?.endpoints.map((endpoint) => upstreamTlsPlan(cluster, endpoint, mesh.snapshot))).toEqual([
      { kind: 'plaintext', reason: 'external' },
    ]);
  });
});

describe('DestinationRule tls', () => {
  it('ISTIO_MUTUAL applies to every endpoint, mesh workload or not; DISABLE to none', () => {
    const workloads = [reviews('r-0', MESH_LABELS), reviews('r-1', { app: 'reviews' })];
    expect(plans(tls('{ mode: ISTIO_MUTUAL }'), workloads).map((plan) => plan.kind)).toEqual([
      'istio-mutual',
      'istio-mutual',
    ]);
    expect(plans(tls('{ mode: DISABLE }'), workloads)).toEqual([
      { kind: 'plaintext', reason: 'disabled' },
      { kind: 'plaintext', reason: 'disabled' },
    ]);
  });

  it('SIMPLE and MUTUAL carry their files, SNI and names; credentialName is refused by name', () => {
    expect(
      plans(
        tls(
          '{ mode: SIMPLE, caCertificates: /etc/ca.pem, sni: reviews.example.com, subjectAltNames: [reviews.example.com] }',
        ),
        [reviews('r-0', MESH_LABELS)],
      ),
    ).toEqual([
      expect.objectContaining({
        kind: 'origination',
        mode: 'SIMPLE',
        caCertificates: '/etc/ca.pem',
        sni: 'reviews.example.com',
        subjectAltNames: ['reviews.example.com'],
        insecureSkipVerify: false,
      }),
    ]);
    const [refused] = plans(tls('{ mode: MUTUAL, credentialName: reviews-cert }'), [
      reviews('r-0', MESH_LABELS),
    ]);
    expect(refused).toMatchObject({
      kind: 'refused',
      message: expect.stringMatching(/credentialName \(reviews-cert\) is not supported/),
    });
  });
});

describe('the identities a destination may present', () => {
  const id = (text: string) => parseSpiffeId(text);

  it("are its endpoints' service accounts in their namespace, in any accepted trust domain", () => {
    const [plan] = plans(tls('{ mode: ISTIO_MUTUAL }'), [
      reviews('r-0', MESH_LABELS, 'bookinfo-reviews'),
      reviews('r-1', MESH_LABELS, 'reviews-canary'),
    ]);
    if (plan?.kind !== 'istio-mutual') throw new Error('expected mTLS');
    expect(plan.identities.allows(id('spiffe://cluster.local/ns/default/sa/bookinfo-reviews'))).toBe(true);
    expect(plan.identities.allows(id('spiffe://cluster.local/ns/default/sa/reviews-canary'))).toBe(true);
    expect(plan.identities.allows(id('spiffe://cluster.local/ns/default/sa/ratings'))).toBe(false);
    expect(plan.identities.allows(id('spiffe://cluster.local/ns/other/sa/bookinfo-reviews'))).toBe(false);
    expect(plan.identities.describe()).toBe('/ns/default/sa/bookinfo-reviews, /ns/default/sa/reviews-canary');
  });

  it("are the DestinationRule's subjectAltNames when it lists some, and nothing when none is a SPIFFE ID", () => {
    const [listed] = plans(
      tls('{ mode: ISTIO_MUTUAL, subjectAltNames: ["spiffe://cluster.local/ns/default/sa/special"] }'),
      [reviews('r-0', MESH_LABELS)],
    );
    const [dnsOnly] = plans(tls('{ mode: ISTIO_MUTUAL, subjectAltNames: [reviews.example.com] }'), [
      reviews('r-0', MESH_LABELS),
    ]);
    if (listed?.kind !== 'istio-mutual' || dnsOnly?.kind !== 'istio-mutual') throw new Error('expected mTLS');
    expect(listed.identities.allows(id('spiffe://cluster.local/ns/default/sa/special'))).toBe(true);
    expect(listed.identities.allows(id('spiffe://cluster.local/ns/default/sa/bookinfo-reviews'))).toBe(false);
    expect(dnsOnly.identities.allows(id('spiffe://cluster.local/ns/default/sa/bookinfo-reviews'))).toBe(
      false,
    );
  });

  it('a service account that cannot be an SVID allows nothing rather than anyone', () => {
    const [plan] = plans(tls('{ mode: ISTIO_MUTUAL }'), [reviews('r-0', MESH_LABELS, 'a/sa/b')]);
    if (plan?.kind !== 'istio-mutual') throw new Error('expected mTLS');
    expect(plan.identities.isAnyInTrustDomain).toBe(false);
    expect(plan.identities.allows(id('spiffe://cluster.local/ns/default/sa/a'))).toBe(false);
  });
});

describe("the mesh's identity slot", () => {
  const material = (notAfterMs: number): IdentityMaterial => ({
    spiffeId: 'spiffe://cluster.local/ns/default/sa/productpage',
    trustDomain: 'cluster.local',
    certChainPem: '',
    keyPem: '',
    trustBundlePem: [],
    trustBundleVersion: 'v1',
    serialNumber: '01',
    issuer: 'CN=test',
    notBefore: new Date(notAfterMs - 3_600_000),
    notAfter: new Date(notAfterMs),
  });

  it('adds a certificate readiness condition and tells adapters when it changes', () => {
    let current: IdentityMaterial | undefined;
    const source: IdentitySource = { current: () => current, onChange: () => () => {} };
    const mesh = createMesh({
      workload: { name: 'p', namespace: 'default', serviceAccount: 'productpage', labels: {} },
    });
    const changes: (IdentitySource | undefined)[] = [];
    mesh.events.identity.on((next) => changes.push(next));
    expect(mesh.readiness.evaluate().conditions.map((condition) => condition.name)).not.toContain(
      'certificate',
    );
    mesh.setIdentity(source);
    expect(mesh.identity).toBe(source);
    const certificate = () =>
      mesh.readiness.evaluate().conditions.find((condition) => condition.name === 'certificate');
    expect(certificate()).toMatchObject({ isReady: false, detail: 'no workload certificate yet' });
    current = material(Date.now() + 3_600_000);
    expect(certificate()).toMatchObject({ isReady: true });
    current = material(Date.now() - 1_000);
    expect(certificate()).toMatchObject({ isReady: false, detail: expect.stringMatching(/expired/) });
    mesh.setIdentity(undefined);
    expect(certificate()).toBeUndefined();
    expect(changes).toEqual([source, undefined]);
    mesh.close();
  });

  it('marks a registration as taking mTLS, unless the workload says otherwise', () => {
    expect(withMeshTlsLabel({ labels: { app: 'reviews' } }).labels).toEqual({
      app: 'reviews',
      [TLS_MODE_LABEL]: 'istio',
    });
    expect(withMeshTlsLabel({ labels: { [TLS_MODE_LABEL]: 'disabled' } }).labels).toEqual({
      [TLS_MODE_LABEL]: 'disabled',
    });
  });
});
