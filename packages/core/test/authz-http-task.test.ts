/**
 * Istio's "HTTP Traffic" authorization task on Bookinfo, step by step, at the engine level: a
 * namespace-wide allow-nothing, then GET to productpage for everyone, then per-principal policies
 * for details, reviews and ratings. After each step, every call of the application is checked.
 */
import { describe, expect, it } from 'vitest';
import { AuthorizationEngine, compile, type DestinationWorkload } from '../src/index.ts';
import { authorizationPolicy, load, peer, request } from './authz-fixtures.ts';

type Service = 'productpage' | 'details' | 'reviews' | 'ratings';
const SERVICES: readonly Service[] = ['productpage', 'details', 'reviews', 'ratings'];

const workload = (app: Service): DestinationWorkload => ({
  namespace: 'default',
  labels: { app },
  service: app,
});
const bookinfo = (name: string, spec: object) => authorizationPolicy(name, spec, 'default');

/** The calls Bookinfo makes: the ingress to productpage, productpage to details and reviews, reviews to ratings. */
const CALLS: readonly { readonly from: string; readonly to: Service }[] = [
  { from: 'istio-ingressgateway', to: 'productpage' },
  { from: 'bookinfo-productpage', to: 'details' },
  { from: 'bookinfo-productpage', to: 'reviews' },
  { from: 'bookinfo-reviews', to: 'ratings' },
];

const denyAll = bookinfo('allow-nothing', {});
const productpageViewer = bookinfo('productpage-viewer', {
  selector: { matchLabels: { app: 'productpage' } },
  action: 'ALLOW',
  rules: [{ to: [{ operation: { methods: ['GET'] } }] }],
});
const viewerFrom = (app: Service, serviceAccount: string) =>
  bookinfo(`${app}-viewer`, {
    selector: { matchLabels: { app } },
    action: 'ALLOW',
    rules: [
      {
        from: [{ source: { principals: [`cluster.local/ns/default/sa/${serviceAccount}`] } }],
        to: [{ operation: { methods: ['GET'] } }],
      },
    ],
  });

/** Which calls succeed with these policies, `from → to` for those that do. */
function reachable(policies: readonly object[], method = 'GET'): string[] {
  const snapshot = compile(load(...policies));
  const engines = new Map(
    SERVICES.map((service) => [
      service,
      new AuthorizationEngine(snapshot.inboundFor(workload(service)).authorization),
    ]),
  );
  return CALLS.filter(({ from, to }) => {
    const namespace = from === 'istio-ingressgateway' ? 'istio-system' : 'default';
    const decision = engines.get(to)?.authorize(
      request({
        method,
        path: '/',
        authority: `${to}:9080`,
        peer: peer(namespace, from),
        destinationPort: 9080,
      }),
    );
    if (decision === undefined || decision instanceof Promise) throw new Error('expected a local decision');
    return decision.isAllowed;
  }).map(({ from, to }) => `${from} → ${to}`);
}

describe('Istio task: authorization for HTTP traffic (Bookinfo)', () => {
  it('before any policy, every call succeeds', () => {
    expect(reachable([])).toHaveLength(4);
  });

  it('step 1: allow-nothing in the namespace denies every call ("RBAC: access denied")', () => {
    expect(reachable([denyAll])).toEqual([]);
  });

  it('step 2: productpage-viewer lets GET reach productpage, nothing else', () => {
    expect(reachable([denyAll, productpageViewer])).toEqual(['istio-ingressgateway → productpage']);
    expect(reachable([denyAll, productpageViewer], 'POST')).toEqual([]);
  });

  it('step 3: details-viewer lets productpage read details', () => {
    const policies = [denyAll, productpageViewer, viewerFrom('details', 'bookinfo-productpage')];
    expect(reachable(policies)).toEqual([
      'istio-ingressgateway → productpage',
      'bookinfo-productpage → details',
    ]);
  });

  it('step 4: reviews-viewer lets productpage read reviews; ratings stays closed', () => {
    const policies = [
      denyAll,
      productpageViewer,
      viewerFrom('details', 'bookinfo-productpage'),
      viewerFrom('reviews', 'bookinfo-productpage'),
    ];
    expect(reachable(policies)).toEqual([
      'istio-ingressgateway → productpage',
      'bookinfo-productpage → details',
      'bookinfo-productpage → reviews',
    ]);
  });

  it('step 5: ratings-viewer lets reviews read ratings: the whole page works', () => {
    const policies = [
      denyAll,
      productpageViewer,
      viewerFrom('details', 'bookinfo-productpage'),
      viewerFrom('reviews', 'bookinfo-productpage'),
      viewerFrom('ratings', 'bookinfo-reviews'),
    ];
    expect(reachable(policies)).toHaveLength(4);
    // Only the named principals: productpage cannot read ratings directly, and writes stay closed.
    const snapshot = compile(load(...policies));
    const ratings = new AuthorizationEngine(snapshot.inboundFor(workload('ratings')).authorization);
    const asProductpage = ratings.authorize(request({ peer: peer('default', 'bookinfo-productpage') }));
    expect(asProductpage).toMatchObject({ isAllowed: false, reason: 'no-allow-matched' });
    const post = ratings.authorize(request({ method: 'POST', peer: peer('default', 'bookinfo-reviews') }));
    expect(post).toMatchObject({ isAllowed: false, response: { status: 403, body: 'RBAC: access denied' } });
  });
});
