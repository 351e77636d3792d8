/**
 * VirtualServices bound to Gateways (`gateways: [bookinfo-gateway]`): a workload that a Gateway's
 * selector picks (an ingress gateway) sees those and only those; sidecars never do.
 */
import { describe, expect, it } from 'vitest';
import {
  compile,
  parseConfigObjects,
  pickWeighted,
  type Resource,
  type SourceWorkload,
} from '../src/index.ts';
import { BOOKINFO_WORKLOADS, loadBookinfo, PRODUCTPAGE, request } from './bookinfo-fixtures.ts';

const registry = { workloads: BOOKINFO_WORKLOADS };
const INGRESS: SourceWorkload = { namespace: 'istio-system', labels: { istio: 'ingressgateway' } };
const UNSELECTED: SourceWorkload = { namespace: 'istio-system', labels: { istio: 'egressgateway' } };

function routeAt(resources: readonly Resource[], source: SourceWorkload, host: string, path: string) {
  const view = compile(resources, registry).forWorkload(source);
  const resolved = view.resolveHost(host);
  if (resolved === undefined) return { resolved };
  const route = view.routeTable(resolved, 8080)?.match(request(path));
  const destination = route === undefined ? undefined : pickWeighted(route, 0);
  return { resolved, route: route?.name, cluster: destination?.clusterName };
}

describe('gateway-bound VirtualServices', () => {
  const bookinfo = loadBookinfo('bookinfo.yaml', 'destination-rule-all.yaml', 'bookinfo-gateway.yaml');

  it("routes the gateway's paths to productpage for any host the client sends", () => {
    for (const host of ['127.0.0.1', 'bookinfo.example.com', 'localhost']) {
      expect(routeAt(bookinfo, INGRESS, host, '/productpage')).toEqual({
        resolved: '*',
        route: 'VirtualService/default/bookinfo#0',
        cluster: 'outbound|9080||productpage.default.svc.cluster.local',
      });
    }
    expect(routeAt(bookinfo, INGRESS, '127.0.0.1', '/static/app.css').cluster).toBe(
      'outbound|9080||productpage.default.svc.cluster.local',
    );
  });

  it('leaves paths the gateway VirtualService does not match without a route', () => {
    expect(routeAt(bookinfo, INGRESS, '127.0.0.1', '/admin').route).toBeUndefined();
  });

  it('does not route mesh VirtualServices or plain service names at the gateway', () => {
    const resources = [...bookinfo, ...loadBookinfo('virtual-service-all-v1.yaml')];
    const view = compile(resources, registry).forWorkload(INGRESS);
    expect(view.gateways).toEqual(new Set(['default/bookinfo-gateway']));
    // `reviews` is claimed by a mesh VirtualService only: at the gateway, the `*` table serves it.
    expect(view.resolveHost('reviews')).toBe('*');
    expect(view.routeTable('*', 8080)?.routes.map((route) => route.name)).toEqual([
      'VirtualService/default/bookinfo#0',
    ]);
  });

  it('gives workloads no Gateway selects (and sidecars) the mesh view only', () => {
    for (const source of [UNSELECTED, PRODUCTPAGE]) {
      const view = compile(bookinfo, registry).forWorkload(source);
      expect(view.gateways.size).toBe(0);
      expect(view.resolveHost('example.com')).toBeUndefined();
    }
  });

  it('binds a qualified gateway name across namespaces and a bare one in the VirtualService namespace', () => {
    const { resources, issues } = parseConfigObjects([
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'edge', namespace: 'istio-system' },
        spec: {
          selector: { istio: 'ingressgateway' },
          servers: [{ port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'qualified', namespace: 'default' },
        spec: {
          hosts: ['shop.example.com'],
          gateways: ['istio-system/edge'],
          http: [{ route: [{ destination: { host: 'productpage' } }] }],
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'bare', namespace: 'default' },
        spec: {
          hosts: ['books.example.com'],
          gateways: ['edge'],
          http: [{ route: [{ destination: { host: 'details' } }] }],
        },
      },
    ]);
    expect(issues.filter((issue) => issue.severity === 'error')).toEqual([]);
    expect(routeAt(resources, INGRESS, 'shop.example.com', '/').cluster).toBe(
      'outbound|9080||productpage.default.svc.cluster.local',
    );
    // `edge` in namespace default names default/edge, which does not exist.
    expect(routeAt(resources, INGRESS, 'books.example.com', '/').resolved).toBeUndefined();
  });
});
