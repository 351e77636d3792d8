/**
 * The variants of bench/proxies.ts (S0–S3): what each sends its requests through. The proxies
 * (support/proxy-config.ts, support/proxy-process.ts) are started here on free ports of 127.0.0.1,
 * with certificates for the TLS pair made in the caller's temp directory.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { haproxyConfig, nginxConfig } from './proxy-config.ts';
import { type ProxyProcess, type ProxyTools, startProxy } from './proxy-process.ts';
import { makeTlsMaterial, type TlsMaterial } from './tls-material.ts';
import { type BenchClient, VARIANTS } from './variants.ts';

export interface PathVariant {
  readonly id: string;
  readonly description: string;
  readonly baseline?: string;
  /** The proxies on the path, client side first. */
  readonly proxies: readonly ProxyProcess[];
  readonly client: BenchClient;
}

/** A client of support/variants.ts's variant `id` sending to 127.0.0.1:`port`: the origin, or a proxy. */
export function variantClient(id: string, port: number): BenchClient {
  const variant = VARIANTS.find((candidate) => candidate.id === id);
  if (variant === undefined) throw new Error(`support/variants.ts has no ${id}`);
  return variant.create([port]);
}

/** Starts one proxy on a free port with the config `config` makes for it, and records it in `proxies`. */
async function start(
  proxies: ProxyProcess[],
  tempDir: string,
  tools: ProxyTools,
  name: string,
  kind: 'haproxy' | 'nginx',
  config: (port: number, dir: string) => string,
): Promise<ProxyProcess> {
  const port = await freePort();
  const dir = join(tempDir, name);
  const proxy = await startProxy({ name, kind, tools, dir, port, config: config(port, dir) });
  proxies.push(proxy);
  return proxy;
}

/**
 * Starts the proxies of S2 and S3, each variant with its own processes, and their clients. Every
 * proxy started is pushed onto `proxies` as soon as it runs, so the caller can stop them all even
 * when a later one fails to start.
 */
export async function startProxyVariants(options: {
  readonly tools: ProxyTools;
  readonly tempDir: string;
  readonly originPort: number;
  readonly proxies: ProxyProcess[];
}): Promise<{ readonly variants: PathVariant[]; readonly tls: TlsMaterial }> {
  const { tools, tempDir, originPort, proxies } = options;
  const isRoot = process.getuid?.() === 0;
  const material = makeTlsMaterial(mkdtempSync(join(tempDir, 'tls-')));
  const haproxyTo = (upstreamPort: number, withTls: boolean) => (port: number) =>
    haproxyConfig({
      listenPort: port,
      upstream: {
        port: upstreamPort,
        ...(withTls
          ? {
              tls: {
                caFile: material.caFile,
                clientBundleFile: material.clientBundleFile,
                serverName: material.serverName,
              },
            }
          : {}),
      },
    });
  const nginxToOrigin = (withTls: boolean) => (port: number, dir: string) =>
    nginxConfig({
      dir,
      listenPort: port,
      upstreamPort: originPort,
      isRoot,
      ...(withTls
        ? {
            tls: {
              certFile: material.serverCertFile,
              keyFile: material.serverKeyFile,
              caFile: material.caFile,
            },
          }
        : {}),
    });
  const hopHaproxy = await start(proxies, tempDir, tools, 'haproxy', 'haproxy', haproxyTo(originPort, false));
  const hopNginx = await start(proxies, tempDir, tools, 'nginx', 'nginx', nginxToOrigin(false));
  const pairNginx = await start(proxies, tempDir, tools, 'nginx-pair', 'nginx', nginxToOrigin(false));
  const pairHaproxy = await start(
    proxies,
    tempDir,
    tools,
    'haproxy-pair',
    'haproxy',
    haproxyTo(pairNginx.port, false),
  );
  const tlsNginx = await start(proxies, tempDir, tools, 'nginx-pair-tls', 'nginx', nginxToOrigin(true));
  const tlsHaproxy = await start(
    proxies,
    tempDir,
    tools,
    'haproxy-pair-tls',
    'haproxy',
    haproxyTo(tlsNginx.port, true),
  );
  const via = (proxy: ProxyProcess) => variantClient('s0-request', proxy.port);
  const variants: PathVariant[] = [
    {
      id: 's2-haproxy',
      description: 'bare undici → haproxy → origin (one sidecar hop)',
      baseline: 's0-request',
      proxies: [hopHaproxy],
      client: via(hopHaproxy),
    },
    {
      id: 's2-nginx',
      description: 'bare undici → nginx → origin (one sidecar hop)',
      baseline: 's0-request',
      proxies: [hopNginx],
      client: via(hopNginx),
    },
    {
      id: 's3-pair',
      description: 'bare undici → haproxy → nginx → origin (sidecar pair, plaintext)',
      baseline: 's0-request',
      proxies: [pairHaproxy, pairNginx],
      client: via(pairHaproxy),
    },
    {
      id: 's3-pair-tls',
      description:
        'bare undici → haproxy =mTLS=> nginx → origin (sidecar pair, mutual TLS between the proxies)',
      baseline: 's0-request',
      proxies: [tlsHaproxy, tlsNginx],
      client: via(tlsHaproxy),
    },
  ];
  return { variants, tls: material };
}
