import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, parseConfig, pickWeighted, type SourceWorkload } from '../src/index.ts';
import {
  BOOKINFO_DIRECTORY,
  BOOKINFO_WORKLOADS,
  loadBookinfo,
  PRODUCTPAGE,
  REVIEWS_V2,
  readBookinfo,
  request,
} from './bookinfo-fixtures.ts';

const registry = { workloads: BOOKINFO_WORKLOADS };

/** Where a request from `source` to `host` lands: the subset and the endpoint ports. */
function land(
  resources: ReturnType<typeof loadBookinfo>,
  source: SourceWorkload,
  host: string,
  headers = {},
  draw = 0,
) {
  const view = compile(resources, registry).forWorkload(source);
  const fqdn = view.resolveHost(host);
  if (fqdn === undefined) throw new Error(`${host} did not resolve`);
  const route = view.routeTable(fqdn, 9080)?.match(request('/reviews/0', headers));
  if (route === undefined) return { route };
  const destination = pickWeighted(route, draw);
  const cluster = destination === undefined ? undefined : view.cluster(destination);
  return { route, subset: destination?.subset, ports: cluster?.endpoints.map((endpoint) => endpoint.port) };
}

describe('Istio Bookinfo YAMLs', () => {
  const files = [
    ...readdirSync(BOOKINFO_DIRECTORY).filter((file) => file.endsWith('.yaml')),
    ...['from-docs', 'tasks'].flatMap((folder) =>
      readdirSync(new URL(`${folder}/`, BOOKINFO_DIRECTORY))
        .filter((file) => file.endsWith('.yaml'))
        .map((file) => `${folder}/${file}`),
    ),
  ];

  it.each(files)('%s parses with no errors and compiles', (file) => {
    const parsed = parseConfig(readBookinfo(file), { file });
    expect(parsed.issues.filter((issue) => issue.severity === 'error')).toEqual([]);
    expect(parsed.resources.length).toBeGreaterThan(0);
    const view = compile(parsed.resources, registry).forWorkload(PRODUCTPAGE);
    expect([...view.routeTables()].length).toBeGreaterThan(0);
  });

  it('bookinfo.yaml declares the four services on port 9080, and skips Deployments and ServiceAccounts', () => {
    const parsed = parseConfig(readBookinfo('bookinfo.yaml'));
    expect(parsed.issues.map((issue) => issue.code)).toEqual(Array(10).fill('ignored-kind'));
    const snapshot = compile(parsed.resources, registry);
    expect([...snapshot.services.keys()].sort()).toEqual([
      'details.default.svc.cluster.local',
      'productpage.default.svc.cluster.local',
      'ratings.default.svc.cluster.local',
      'reviews.default.svc.cluster.local',
    ]);
    const reviews = snapshot.services.get('reviews.default.svc.cluster.local');
    expect(reviews?.ports).toEqual([{ number: 9080, name: 'http', protocol: 'HTTP' }]);
    expect(reviews?.endpoints.map((endpoint) => endpoint.targetPorts.get(9080))).toEqual([
      19003, 19004, 19005,
    ]);
    expect(reviews?.serviceAccounts).toEqual(['bookinfo-reviews']);
  });

  it('with no VirtualService, reviews is reached on every version', () => {
    const { route, subset, ports } = land(loadBookinfo('bookinfo.yaml'), PRODUCTPAGE, 'reviews');
    expect(route?.name).toBe('default');
    expect(subset).toBeUndefined();
    expect(ports).toEqual([19003, 19004, 19005]);
  });

  it('virtual-service-all-v1: every request goes to reviews v1', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all.yaml',
      'virtual-service-all-v1.yaml',
    );
    expect(land(resources, PRODUCTPAGE, 'reviews', { 'end-user': 'jason' })).toMatchObject({
      subset: 'v1',
      ports: [19003],
    });
    expect(land(resources, PRODUCTPAGE, 'reviews')).toMatchObject({ subset: 'v1', ports: [19003] });
  });

  it('virtual-service-reviews-test-v2: jason goes to reviews v2, everyone else to v1', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all.yaml',
      'virtual-service-all-v1.yaml',
      'virtual-service-reviews-test-v2.yaml',
    );
    expect(land(resources, PRODUCTPAGE, 'reviews', { 'end-user': 'jason' })).toMatchObject({
      subset: 'v2',
      ports: [19004],
    });
    expect(land(resources, PRODUCTPAGE, 'reviews', { 'end-user': 'jasonx' })).toMatchObject({
      subset: 'v1',
      ports: [19003],
    });
    expect(land(resources, PRODUCTPAGE, 'reviews.default')).toMatchObject({ subset: 'v1' });
    expect(land(resources, PRODUCTPAGE, 'reviews.default.svc.cluster.local')).toMatchObject({ subset: 'v1' });
  });

  it('virtual-service-reviews-50-v3: the weights split reviews between v1 and v3', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all.yaml',
      'virtual-service-reviews-50-v3.yaml',
    );
    expect(land(resources, PRODUCTPAGE, 'reviews', {}, 0.25)).toMatchObject({ subset: 'v1' });
    expect(land(resources, PRODUCTPAGE, 'reviews', {}, 0.75)).toMatchObject({ subset: 'v3', ports: [19005] });
    expect(land(resources, PRODUCTPAGE, 'reviews').route?.totalWeight).toBe(100);
  });

  it('virtual-service-reviews-v3: all traffic to v3', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all.yaml',
      'virtual-service-reviews-v3.yaml',
    );
    expect(land(resources, PRODUCTPAGE, 'reviews', { 'end-user': 'jason' })).toMatchObject({ subset: 'v3' });
  });

  it('virtual-service-ratings-test-delay: jason calling ratings gets a 7 s delay fault, others none', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all.yaml',
      'virtual-service-ratings-test-delay.yaml',
    );
    const jason = land(resources, REVIEWS_V2, 'ratings', { 'end-user': 'jason' });
    expect(jason.route?.spec?.fault?.delay).toMatchObject({ fixedDelay: 7000, percentage: { value: 100 } });
    expect(jason.subset).toBe('v1');
    expect(land(resources, REVIEWS_V2, 'ratings').route?.spec?.fault).toBeUndefined();
  });

  it('virtual-service-ratings-test-abort: jason gets an HTTP 500 abort fault', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all.yaml',
      'virtual-service-ratings-test-abort.yaml',
    );
    const jason = land(resources, REVIEWS_V2, 'ratings', { 'end-user': 'jason' });
    expect(jason.route?.spec?.fault?.abort).toMatchObject({ httpStatus: 500, percentage: { value: 100 } });
  });

  it('request-timeouts: the reviews route carries a 0.5 s timeout', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all.yaml',
      'from-docs/request-timeouts.yaml',
    );
    const snapshotRoutes = land(resources, PRODUCTPAGE, 'reviews');
    expect(snapshotRoutes.subset).toBe('v2');
    expect(snapshotRoutes.route?.timeoutMs).toBe(500);
  });

  it('destination-rule-all-mtls: every cluster asks for ISTIO_MUTUAL', () => {
    const resources = loadBookinfo(
      'bookinfo.yaml',
      'destination-rule-all-mtls.yaml',
      'virtual-service-all-v1.yaml',
    );
    const view = compile(resources, registry).forWorkload(PRODUCTPAGE);
    const route = view.routeTable('reviews.default.svc.cluster.local', 9080)?.match(request('/'));
    const destination = route === undefined ? undefined : pickWeighted(route, 0);
    const cluster = destination === undefined ? undefined : view.cluster(destination);
    expect(cluster?.name).toBe('outbound|9080|v1|reviews.default.svc.cluster.local');
    expect(cluster?.policy.tls?.mode).toBe('ISTIO_MUTUAL');
    expect(cluster?.destinationRules).toEqual(['DestinationRule/default/reviews']);
  });

  it('bookinfo-gateway binds its VirtualService to the gateway only, not to sidecars', () => {
    const resources = loadBookinfo('bookinfo.yaml', 'bookinfo-gateway.yaml');
    const view = compile(resources, registry).forWorkload(PRODUCTPAGE);
    expect(
      view.routeTable('productpage.default.svc.cluster.local', 9080)?.routes.map((route) => route.name),
    ).toEqual(['default']);
    // The gateway VirtualService's host `*` must not capture sidecar traffic to other hosts.
    expect(view.resolveHost('example.com')).toBeUndefined();
  });
});
