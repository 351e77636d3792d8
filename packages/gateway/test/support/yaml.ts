/** YAML builders for the gateway tests: a Gateway in istio-system and VirtualServices in default. */

/** A Gateway `name` in istio-system selecting the test gateway, with `servers` (YAML list items). */
export function gatewayYaml(name: string, servers: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers:
${indent(servers, 2)}
`;
}

/** A VirtualService in `default` for `hosts`, bound to `gateways`, sending everything to `destination`. */
export function boundVirtualService(
  name: string,
  hosts: readonly string[],
  gateways: readonly string[],
  destination: string,
  namespace = 'default',
): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [${hosts.map((host) => `"${host}"`).join(', ')}]
  gateways: [${gateways.join(', ')}]
  http:
  - route: [{ destination: { host: ${destination}.default.svc.cluster.local, port: { number: 9080 } } }]
`;
}

export function documents(...parts: readonly string[]): string {
  return parts.join('---\n');
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');
}
