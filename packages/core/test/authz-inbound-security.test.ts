/**
 * InboundSecurity: what an inbound server gets per workload and snapshot — the mesh options' path
 * normalization, the RequestAuthentication rules and the AuthorizationPolicy engine with the mesh
 * options' extension providers — compiled once per snapshot.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMesh, InboundSecurity, type Mesh } from '../src/index.ts';
import { FakeClock } from '../src/testing.ts';
import { authorizationPolicy, request } from './authz-fixtures.ts';

const WORKLOAD = {
  name: 'httpbin-0',
  namespace: 'foo',
  serviceAccount: 'httpbin',
  labels: { app: 'httpbin' },
  service: 'httpbin',
};
const DESTINATION = { namespace: 'foo', labels: { app: 'httpbin' }, service: 'httpbin' };

let server: Server | undefined;
let security: InboundSecurity | undefined;

afterEach(async () => {
  security?.close();
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  server = undefined;
});

function meshWith(options: Parameters<typeof createMesh>[0]['mesh'], objects: object[]): Mesh {
  return createMesh({ workload: WORKLOAD, mesh: options, config: { objects } });
}

describe('InboundSecurity', () => {
  it("gives Istio's default path normalization unless the mesh options choose another", () => {
    security = new InboundSecurity({ clock: new FakeClock() });
    expect(security.forWorkload(meshWith({}, []).snapshot, DESTINATION).pathNormalization).toBe('BASE');
    const merging = meshWith({ pathNormalization: 'DECODE_AND_MERGE_SLASHES' }, []);
    expect(security.forWorkload(merging.snapshot, DESTINATION).pathNormalization).toBe(
      'DECODE_AND_MERGE_SLASHES',
    );
  });

  it('compiles once per snapshot and workload, and again for a new snapshot', () => {
    security = new InboundSecurity({ clock: new FakeClock() });
    const mesh = meshWith({}, [authorizationPolicy('allow-nothing', {})]);
    const first = security.forWorkload(mesh.snapshot, DESTINATION);
    expect(security.forWorkload(mesh.snapshot, DESTINATION)).toBe(first);
    expect(first.authorizer.authorize(request())).toMatchObject({ isAllowed: false });
    mesh.applyConfig({ objects: [authorizationPolicy('allow-all', { rules: [{}] })] });
    const second = security.forWorkload(mesh.snapshot, DESTINATION);
    expect(second).not.toBe(first);
    expect(second.authorizer.authorize(request())).toMatchObject({ isAllowed: true });
  });

  it("uses the mesh options' extension providers for CUSTOM policies", async () => {
    server = createServer((_, response) => response.writeHead(403).end('no'));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const mesh = meshWith(
      {
        extensionProviders: [
          { name: 'checker', envoyExtAuthzHttp: { service: '127.0.0.1', port, timeout: '1s' } },
        ],
      },
      [authorizationPolicy('ext', { action: 'CUSTOM', provider: { name: 'checker' }, rules: [{}] })],
    );
    security = new InboundSecurity();
    const { authorizer } = security.forWorkload(mesh.snapshot, DESTINATION);
    expect(await authorizer.authorize(request())).toMatchObject({
      isAllowed: false,
      reason: 'custom-denied',
      response: { status: 403, body: 'no' },
    });
  });

  it('gives an authenticator that lets requests without rules through untouched', () => {
    security = new InboundSecurity({ clock: new FakeClock() });
    const { authenticator } = security.forWorkload(meshWith({}, []).snapshot, DESTINATION);
    expect(authenticator.hasRules).toBe(false);
    expect(authenticator.authenticate({ header: () => 'Bearer x.y.z' })).toEqual({
      outcome: 'anonymous',
      headers: { remove: [], set: [] },
    });
  });
});
