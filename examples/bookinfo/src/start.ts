/**
 * `npm start`: Bookinfo on this machine — an agent, every service, the ingress gateway (Gateway
 * port 8080, and 443 for the secure-ingress step, with demo certificates made here) and
 * destination-rule-all.yaml — until Ctrl-C (SIGINT) or SIGTERM, which stop the services, then the
 * agent. Set BOOKINFO_GATEWAY_PORT to choose the gateway's HTTP port (default: any free one). It
 * prints where to look, and one `export` line that sets the variables the README's commands use.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ISTIO_SAMPLES_DIR, startBookinfo } from './launcher/bookinfo-launcher.ts';
import { SECURE_INGRESS_HOST, writeSecureIngressFiles } from './launcher/demo-credentials.ts';

const write = (line: string): void => void process.stdout.write(`${line}\n`);

write('Starting Bookinfo on Weft (agent, details, ratings, reviews v1/v2/v3, productpage, ingress gateway)…');
const filesDir = await mkdtemp(join(tmpdir(), 'weft-bookinfo-demo-'));
const files = await writeSecureIngressFiles(filesDir);
const bookinfo = await startBookinfo({
  gatewayPort: Number(process.env.BOOKINFO_GATEWAY_PORT ?? 0),
  gatewayArgs: ['--listen', '443=0', '--credentials-dir', files.credentialsDir],
  log: (line) => process.stderr.write(`${line}\n`),
});
const samples = relative(process.env.INIT_CWD ?? process.cwd(), ISTIO_SAMPLES_DIR);
const httpsPort = bookinfo.gatewayPorts.get(443);
const metrics = Object.entries(bookinfo.metricsUrls).sort(([a], [b]) => a.localeCompare(b));
const variables = {
  AGENT: bookinfo.agentUrl,
  WEFT_TOKEN: bookinfo.adminToken,
  PRODUCTPAGE: bookinfo.productPageUrl,
  TRACES: bookinfo.tracesUrl,
  METRICS: bookinfo.metricsUrls['productpage-v1'] ?? '',
  REVIEWS_V2_METRICS: bookinfo.metricsUrls['reviews-v2'] ?? '',
  HTTPS_PORT: String(httpsPort ?? ''),
  CERTS: filesDir,
};
write(`
Product page:  ${bookinfo.productPageUrl}
Agent:         ${bookinfo.agentUrl}  (dashboard: ${bookinfo.agentUrl}/dashboard)
Traces:        ${bookinfo.tracesUrl}/  (JSON: ${bookinfo.tracesUrl}/traces)
Metrics:       ${metrics.map(([workload, url]) => `${workload.padEnd(21)} ${url}`).join('\n               ')}
HTTPS:         https://${SECURE_INGRESS_HOST}:${httpsPort} → 127.0.0.1:${httpsPort} (the gateway's port 443, once a TLS Gateway is applied)
Certificates:  ${filesDir} (credentials/bookinfo-credential: the gateway's; client.crt, client.key: a client's)
Applied:       destination-rule-all.yaml, bookinfo-gateway.yaml

For the commands in examples/bookinfo/README.md, in the shell you run them from:
  export ${Object.entries(variables)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')}

Next, send every request to v1 (no stars):
  npx weft apply --agent $AGENT -f ${samples}/virtual-service-all-v1.yaml

Ctrl-C stops everything.`);

let stopping = false;
const stop = (): void => {
  if (stopping) process.exit(1);
  stopping = true;
  write('\nStopping Bookinfo…');
  bookinfo
    .close()
    .then(() => rm(filesDir, { recursive: true, force: true }))
    .then(
      () => {
        write('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
