/**
 * The ingress gateway as its own process, with the identity of Istio's ingress gateway (labels
 * `istio: ingressgateway`, so bookinfo-gateway.yaml's selector picks it), serving every Gateway
 * server that selects it with @weft/gateway:
 *   node --conditions=@weft/source run-gateway.ts --agent URL --join-token-file FILE
 *     [--listen DECLARED=LISTEN]... [--credentials-dir DIR]
 * `--listen 8080=0` serves the Gateway port 8080 on a free port (the launcher's way); without it,
 * a Gateway port is listened on under its own number. The ready line adds `ports` (declared →
 * bound); its `port` is the first `--listen` port, 8080 for the launcher.
 */
import { parseArgs } from 'node:util';
import { createIngressGateway, type IngressGateway, parseListenPorts } from '@weft/gateway';
import {
  announceReady,
  CREDENTIAL_FLAGS,
  closeOnSignals,
  readCredentialFiles,
  startMeshedProcess,
} from '../service-runtime/meshed-process.ts';
// Importing it starts the OpenTelemetry SDK: its module body runs before this one's, so before the mesh exists.
import { processTelemetry } from '../telemetry/register-telemetry.ts';

const { values } = parseArgs({
  options: {
    agent: { type: 'string' },
    listen: { type: 'string', multiple: true, default: [] },
    'credentials-dir': { type: 'string' },
    ...CREDENTIAL_FLAGS,
  },
});
if (values.agent === undefined) throw new Error('--agent URL is required');
const listenPorts = parseListenPorts(values.listen);
const firstDeclared = Number(values.listen[0]?.split('=')[0] ?? Number.NaN);

const name = 'istio-ingressgateway';
let gateway: IngressGateway | undefined;
const running = await startMeshedProcess({
  agentUrl: values.agent,
  name,
  namespace: 'istio-system',
  // Registered, as Istio's gateway is a workload behind its own Service: callers it reaches then
  // name it (source_workload, the dashboard's node) rather than seeing an unknown peer.
  service: 'istio-ingressgateway',
  serviceAccount: 'istio-ingressgateway-service-account',
  labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
  serve: async (mesh) => {
    const started = await createIngressGateway(mesh, {
      host: '127.0.0.1',
      listenPorts,
      ...(values['credentials-dir'] === undefined ? {} : { credentialsDir: values['credentials-dir'] }),
      log: (entry) => process.stdout.write(`${entry.message}\n`),
    });
    gateway = started;
    return {
      port: started.ports.get(firstDeclared) ?? 0,
      servicePorts: Object.fromEntries(started.ports),
      close: () => started.close(),
    };
  },
  credentials: await readCredentialFiles(values),
});
closeOnSignals(async () => {
  await running.close();
  // The spans of the last requests are still in the SDK's batch: flush them before exiting.
  await processTelemetry.shutdown();
});
announceReady(name, running.port, Object.fromEntries(gateway?.ports ?? []));
