/**
 * `npm start`: Bookinfo on this machine — an agent, every service, the ingress gateway and
 * destination-rule-all.yaml — until Ctrl-C (SIGINT) or SIGTERM, which stop the services, then the
 * agent. Set BOOKINFO_GATEWAY_PORT to choose the gateway's port (default: any free one). It prints
 * where to look: the product page, the agent, the trace collector and productpage's metrics.
 */
import { relative } from 'node:path';
import { ISTIO_SAMPLES_DIR, startBookinfo } from './launcher/bookinfo-launcher.ts';

const write = (line: string): void => void process.stdout.write(`${line}\n`);

write('Starting Bookinfo on Weft (agent, details, ratings, reviews v1/v2/v3, productpage, ingress gateway)…');
const bookinfo = await startBookinfo({
  gatewayPort: Number(process.env.BOOKINFO_GATEWAY_PORT ?? 0),
  log: (line) => process.stderr.write(`${line}\n`),
});
const samples = relative(process.env.INIT_CWD ?? process.cwd(), ISTIO_SAMPLES_DIR);
write(`
Product page:  ${bookinfo.productPageUrl}
Agent:         ${bookinfo.agentUrl}
Traces:        ${bookinfo.tracesUrl}/  (JSON: ${bookinfo.tracesUrl}/traces)
Metrics:       ${bookinfo.metricsUrls['productpage-v1'] ?? 'none'}  (productpage; every process serves its own)
Applied:       destination-rule-all.yaml, bookinfo-gateway.yaml

Writes to the agent need its admin token (weft reads WEFT_TOKEN):
  export WEFT_TOKEN=${bookinfo.adminToken}

Next, send every request to v1 (no stars):
  npx weft apply --agent ${bookinfo.agentUrl} -f ${samples}/virtual-service-all-v1.yaml

Ctrl-C stops everything.`);

let stopping = false;
const stop = (): void => {
  if (stopping) process.exit(1);
  stopping = true;
  write('\nStopping Bookinfo…');
  bookinfo.close().then(
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
