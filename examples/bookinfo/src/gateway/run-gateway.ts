/**
 * The ingress gateway as its own process, with the identity of Istio's ingress gateway (labels
 * `istio: ingressgateway`, so bookinfo-gateway.yaml's selector picks it):
 *   node --conditions=@weft/source run-gateway.ts --agent URL [--port N]
 */
import { parseArgs } from 'node:util';
import { announceReady, closeOnSignals, startMeshedProcess } from '../service-runtime/meshed-process.ts';
import { createIngressGatewayHandler } from './ingress-gateway.ts';

const { values } = parseArgs({
  options: { agent: { type: 'string' }, port: { type: 'string', default: '0' } },
});
if (values.agent === undefined) throw new Error('--agent URL is required');

const name = 'istio-ingressgateway';
const running = await startMeshedProcess({
  agentUrl: values.agent,
  name,
  namespace: 'istio-system',
  serviceAccount: 'istio-ingressgateway-service-account',
  labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
  createHandler: (mesh) => createIngressGatewayHandler(mesh),
  listenPort: Number(values.port),
});
closeOnSignals(() => running.close());
announceReady(name, running.port);
