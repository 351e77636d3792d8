/**
 * Configuration text for the proxies that stand in for sidecars (S2, S3): haproxy and nginx as
 * plain HTTP/1.1 reverse proxies on 127.0.0.1, keep-alive on both sides, no access log, one
 * worker thread or process each (the cheapest setting per request, so the anchor errs in the
 * proxies' favour). Between the two proxies of a pair the hop may be mutual TLS: haproxy (the
 * client-side sidecar) presents a client certificate and verifies nginx's (the server-side
 * sidecar), which requires one. Pure: the caller writes the text to its temp directory.
 */

/** Where a proxy forwards to, and how. */
export interface Upstream {
  readonly port: number;
  /** TLS to the upstream, with a client certificate (haproxy only). */
  readonly tls?: {
    readonly caFile: string;
    readonly clientBundleFile: string;
    readonly serverName: string;
  };
}

/** Idle keep-alive connections must outlive a whole interleaved round. */
const IDLE_TIMEOUT_S = 120;

export function haproxyConfig(options: { readonly listenPort: number; readonly upstream: Upstream }): string {
  const { tls } = options.upstream;
  const server = [`server upstream 127.0.0.1:${options.upstream.port}`];
  if (tls !== undefined)
    server.push(
      'ssl verify required',
      `ca-file ${tls.caFile}`,
      `crt ${tls.clientBundleFile}`,
      `sni str(${tls.serverName})`,
      `verifyhost ${tls.serverName}`,
      'alpn http/1.1',
    );
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client ${IDLE_TIMEOUT_S}s
  timeout server ${IDLE_TIMEOUT_S}s
  timeout http-keep-alive ${IDLE_TIMEOUT_S}s

frontend sidecar
  bind 127.0.0.1:${options.listenPort}
  default_backend upstream

backend upstream
  ${server.join(' ')}
`;
}

export function nginxConfig(options: {
  /** nginx's prefix: its pid file, error log and temp directories go here. */
  readonly dir: string;
  readonly listenPort: number;
  readonly upstreamPort: number;
  /** Accept TLS only, and require a client certificate signed by `caFile`. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
  /** Run the worker as root (when the benchmark runs as root, nobody cannot read the temp dir). */
  readonly isRoot: boolean;
}): string {
  const { dir, tls } = options;
  const listen = `listen 127.0.0.1:${options.listenPort}${tls === undefined ? '' : ' ssl'};`;
  const tlsLines =
    tls === undefined
      ? ''
      : `
    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_client_certificate ${tls.caFile};
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:1m;`;
  return `daemon off;
master_process on;
worker_processes 1;
${options.isRoot ? 'user root root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events {
  worker_connections 4096;
}

http {
  access_log off;
  client_body_temp_path ${dir}/client-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout ${IDLE_TIMEOUT_S}s;
  keepalive_requests 100000000;

  upstream origin {
    server 127.0.0.1:${options.upstreamPort};
    keepalive 256;
    keepalive_requests 100000000;
    keepalive_timeout ${IDLE_TIMEOUT_S}s;
  }

  server {
    ${listen}${tlsLines}
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}
