// Builders for the Istio resources the adapter tests (@weft/http, @weft/grpc, @weft/gateway)
// configure most often. Each returns one YAML document ending in a newline; `joinDocuments` puts
// several in one config. Field text passed in is YAML written from column 0, flow or block style;
// the builder indents it into place. Other packages' test projects list this file in their
// tsconfig.test.json `include`.

/** A VirtualService for `host` whose `http:` list is `routes` (`- match: … route: …` items). */
export function virtualServiceRoutes(host: string, routes: string, annotations = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${host}
${annotations === '' ? '' : `  annotations:\n${indent(annotations, 4)}\n`}spec:
  hosts: [${host}]
  http:
${indent(routes, 2)}
`;
}

/** A VirtualService for `host` whose single http route goes to `host`, with `routeFields` (retries, timeout, fault…). */
export function singleRoute(host: string, routeFields = '', annotations = ''): string {
  return virtualServiceRoutes(
    host,
    `- route: [{ destination: { host: ${host} } }]\n${indent(routeFields, 2)}`,
    annotations,
  );
}

/** A DestinationRule for `host` with a trafficPolicy (none when blank) and, optionally, subsets by version. */
export function destinationRule(
  host: string,
  trafficPolicy: string,
  versions: readonly string[] = [],
): string {
  const subsets =
    versions.length === 0
      ? ''
      : `\n  subsets:\n${versions.map((version) => `  - { name: ${version}, labels: { version: ${version} } }`).join('\n')}`;
  const policy = trafficPolicy.trim() === '' ? '' : `\n  trafficPolicy:\n${indent(trafficPolicy, 4)}`;
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}${policy}${subsets}
`;
}

/** A DestinationRule for `host` with a subset per version, named after it: `{ name: v1, labels: { version: v1 } }`. */
export function subsetsByVersion(host: string, versions: readonly string[]): string {
  return destinationRule(host, '', versions);
}

/** A Gateway `name` in istio-system selecting the ingress gateway, with `servers` (YAML list items). */
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

/** A VirtualService in `namespace` for `hosts`, bound to `gateways`, sending everything to `destination`:9080. */
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

/** Several YAML documents as one config. */
export function joinDocuments(...documents: readonly string[]): string {
  return documents.map((document) => (document.endsWith('\n') ? document : `${document}\n`)).join('---\n');
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');
}
