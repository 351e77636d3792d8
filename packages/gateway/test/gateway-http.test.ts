import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  boundVirtualService,
  joinDocuments as documents,
  gatewayYaml,
} from '../../core/test/support/istio-yaml.ts';
import {
  eventually,
  get,
  startGatewayScene,
  startUpstream,
  type Upstream,
  workloadOf,
} from './support/gateway-scene.ts';

const HTTP_SERVER = `- port: { number: 8080, name: http, protocol: HTTP }
  hosts: ["*"]`;

describe('@weft/gateway over plain HTTP', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });

  async function scene(
    yaml: string,
    upstreams: readonly Upstream[],
    listenPorts: Record<number, number> = { 8080: 0 },
  ) {
    const started = await startGatewayScene(
      yaml,
      upstreams.map((upstream) => workloadOf(upstream.name, upstream)),
      { listenPorts },
    );
    open.push(started);
    return started;
  }

  async function upstream(name: string) {
    const started = await startUpstream(name);
    open.push(started);
    return started;
  }

  it('routes a request by the VirtualService bound to the Gateway, on the declared port mapped to a free one', async () => {
    const productpage = await upstream('productpage');
    const gw = await scene(
      documents(
        gatewayYaml('web', HTTP_SERVER),
        boundVirtualService('pages', ['*'], ['istio-system/web'], 'productpage'),
      ),
      [productpage],
    );
    expect(gw.port(8080)).not.toBe(8080);
    const answer = await get(gw.port(8080), 'bookinfo.example.com', '/productpage');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('productpage /productpage host=bookinfo.example.com proto=http');
    expect(gw.gateway.status().listeners).toEqual([
      {
        port: 8080,
        listenPort: gw.port(8080),
        transport: 'plaintext',
        servers: ['istio-system/web server "http" (port 8080)'],
      },
    ]);
  });

  it('serves a host only when both the Gateway server and a bound VirtualService list it', async () => {
    const productpage = await upstream('productpage');
    const gw = await scene(
      documents(
        gatewayYaml(
          'web',
          `- port: { number: 8080, name: http, protocol: HTTP }
  hosts: ["a.example.com", "*.shop.example.com"]`,
        ),
        boundVirtualService(
          'pages',
          ['a.example.com', 'b.example.com', '*.shop.example.com'],
          ['istio-system/web'],
          'productpage',
        ),
      ),
      [productpage],
    );
    const port = gw.port(8080);
    expect((await get(port, 'a.example.com', '/')).status).toBe(200);
    expect((await get(port, 'cart.shop.example.com', '/')).status).toBe(200);
    const outside = await get(port, 'b.example.com', '/');
    expect(outside.status).toBe(404);
    expect(outside.body).toBe('gateway: no Gateway server on port 8080 accepts host "b.example.com"\n');
    expect(productpage.served()).toBe(2);
  });

  it('answers 404 naming the Gateway when no VirtualService bound to it serves the host', async () => {
    const productpage = await upstream('productpage');
    const gw = await scene(
      documents(
        gatewayYaml('web', HTTP_SERVER),
        boundVirtualService('pages', ['a.example.com'], ['istio-system/web'], 'productpage'),
        // Bound to another Gateway, which selects nothing here: never served by this one.
        boundVirtualService('other', ['c.example.com'], ['istio-system/elsewhere'], 'productpage'),
      ),
      [productpage],
    );
    const answer = await get(gw.port(8080), 'c.example.com', '/');
    expect(answer.status).toBe(404);
    expect(answer.body).toBe(
      'gateway: no VirtualService bound to istio-system/web serves host "c.example.com" through istio-system/web server "http" (port 8080)\n',
    );
    expect(productpage.served()).toBe(0);
  });

  it('lets a server host bind only VirtualServices of the namespace it names ("prod/", "./")', async () => {
    const productpage = await upstream('productpage');
    const gw = await scene(
      documents(
        gatewayYaml(
          'web',
          `- port: { number: 8080, name: http, protocol: HTTP }
  hosts: ["prod/prod.example.com", "./own.example.com", "default/dev.example.com"]`,
        ),
        boundVirtualService(
          'pages',
          ['prod.example.com', 'own.example.com', 'dev.example.com'],
          ['istio-system/web'],
          'productpage',
        ),
      ),
      [productpage],
    );
    const port = gw.port(8080);
    // The VirtualService lives in default: only the server host that names default admits it.
    expect((await get(port, 'dev.example.com', '/')).status).toBe(200);
    expect((await get(port, 'prod.example.com', '/')).status).toBe(404);
    expect((await get(port, 'own.example.com', '/')).status).toBe(404);
  });

  it('redirects with 301 to https when the server sets tls.httpsRedirect', async () => {
    const productpage = await upstream('productpage');
    const gw = await scene(
      documents(
        gatewayYaml(
          'web',
          `- port: { number: 8080, name: http, protocol: HTTP }
  hosts: ["bookinfo.example.com"]
  tls: { httpsRedirect: true }`,
        ),
        boundVirtualService('pages', ['bookinfo.example.com'], ['istio-system/web'], 'productpage'),
      ),
      [productpage],
    );
    const answer = await get(gw.port(8080), 'bookinfo.example.com:8080', '/productpage?u=1');
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe('https://bookinfo.example.com/productpage?u=1');
    expect(productpage.served()).toBe(0);
  });

  it('refuses PASSTHROUGH, ISTIO_MUTUAL and TCP servers by name, and serves the others', async () => {
    const productpage = await upstream('productpage');
    const gw = await scene(
      documents(
        gatewayYaml(
          'web',
          `${HTTP_SERVER}
- port: { number: 443, name: passthrough, protocol: HTTPS }
  hosts: ["*"]
  tls: { mode: PASSTHROUGH }
- port: { number: 15443, name: mesh, protocol: HTTPS }
  hosts: ["*"]
  tls: { mode: ISTIO_MUTUAL }
- port: { number: 3306, name: mysql, protocol: TCP }
  hosts: ["*"]`,
        ),
        boundVirtualService('pages', ['*'], ['istio-system/web'], 'productpage'),
      ),
      [productpage],
    );
    const refused = gw.gateway.status().refused;
    expect(refused.map(({ server, port, field }) => ({ server, port, field }))).toEqual([
      { server: 'passthrough', port: 443, field: 'tls.mode' },
      { server: 'mesh', port: 15443, field: 'tls.mode' },
      { server: 'mysql', port: 3306, field: 'port.protocol' },
    ]);
    expect(refused[0]?.reason).toMatch(/PASSTHROUGH forwards TLS unterminated/);
    expect(gw.logs.map((entry) => entry.message)).toContain(
      'gateway: istio-system/web server "mesh" (port 15443) is not served [tls.mode]: tls.mode ISTIO_MUTUAL expects mesh workloads presenting Istio certificates (east-west traffic); this ingress gateway terminates with certificates from files: use SIMPLE or MUTUAL',
    );
    expect([...gw.gateway.ports.keys()]).toEqual([8080]);
    expect((await get(gw.port(8080), 'x.example.com', '/')).status).toBe(200);
  });

  it('follows the config: a new server starts serving on its port, a removed one stops', async () => {
    const productpage = await upstream('productpage');
    const route = boundVirtualService('pages', ['*'], ['istio-system/web'], 'productpage');
    const gw = await scene(documents(gatewayYaml('web', HTTP_SERVER), route), [productpage], {
      8080: 0,
      9090: 0,
    });
    const extra = gw.port(9090);
    await expect(get(extra, 'x.example.com', '/')).rejects.toThrow();
    gw.mesh.applyConfig({
      yaml: documents(
        gatewayYaml(
          'web',
          `${HTTP_SERVER}
- port: { number: 9090, name: http-extra, protocol: HTTP }
  hosts: ["*"]`,
        ),
        route,
      ),
    });
    expect((await get(extra, 'x.example.com', '/extra')).body).toBe(
      'productpage /extra host=x.example.com proto=http',
    );
    gw.mesh.applyConfig({ yaml: documents(gatewayYaml('web', HTTP_SERVER), route) });
    await expect(get(extra, 'x.example.com', '/')).rejects.toThrow();
    expect((await get(gw.port(8080), 'x.example.com', '/')).status).toBe(200);
  });

  it('listens on the declared port number itself when it is not mapped, and closes it when undeclared', async () => {
    const productpage = await upstream('productpage');
    const free = await freePort();
    const route = boundVirtualService('pages', ['*'], ['istio-system/web'], 'productpage');
    const gw = await scene(documents(gatewayYaml('web', HTTP_SERVER), route), [productpage]);
    gw.mesh.applyConfig({
      yaml: documents(
        gatewayYaml(
          'web',
          `${HTTP_SERVER}\n- port: { number: ${free}, name: http-direct, protocol: HTTP }\n  hosts: ["*"]`,
        ),
        route,
      ),
    });
    await gw.gateway.settled();
    expect(gw.gateway.ports.get(free)).toBe(free);
    expect((await get(free, 'x.example.com', '/direct')).status).toBe(200);
    gw.mesh.applyConfig({ yaml: documents(gatewayYaml('web', HTTP_SERVER), route) });
    await gw.gateway.settled();
    expect(gw.gateway.ports.has(free)).toBe(false);
    await expect(get(free, 'x.example.com', '/')).rejects.toThrow();
  });

  it('finishes a request in flight on an unchanged port across a Gateway change', async () => {
    const productpage = await upstream('productpage');
    const route = boundVirtualService('pages', ['*'], ['istio-system/web'], 'productpage');
    const gw = await scene(documents(gatewayYaml('web', HTTP_SERVER), route), [productpage], {
      8080: 0,
      9090: 0,
    });
    const slow = get(gw.port(8080), 'x.example.com', '/slow');
    await eventually(() => expect(productpage.holding()).toBe(1));
    gw.mesh.applyConfig({
      yaml: documents(
        gatewayYaml(
          'web',
          `${HTTP_SERVER}\n- port: { number: 9090, name: http-extra, protocol: HTTP }\n  hosts: ["*"]`,
        ),
        route,
      ),
    });
    expect(gw.gateway.status().listeners.find((listener) => listener.port === 9090)?.transport).toBe(
      'plaintext',
    );
    productpage.releaseSlow();
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('productpage /slow released');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
