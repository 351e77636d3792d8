// Builders for the Istio resources tests configure most often. Each returns one YAML document
// ending in a newline; `joinDocuments` puts several in one config. Field text passed in is YAML
// written from column 0, flow or block style; the builder indents it into place.

/** A VirtualService for `host` whose `http:` list is `routes` (`- match: … route: …` items). */
export function virtualServiceRoutes(host: string, routes: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  http:
${indent(routes, 2)}
`;
}

/** A VirtualService for `host` whose single http route goes to `host`, with extra route fields. */
export function virtualService(host: string, routeFields = ''): string {
  return virtualServiceRoutes(
    host,
    `- route: [{ destination: { host: ${host} } }]\n${indent(routeFields, 2)}`,
  );
}

/** A DestinationRule for `host` with the given trafficPolicy. */
export function destinationRule(host: string, trafficPolicy: string): string {
  return destinationRuleSpec(host, `trafficPolicy:\n${indent(trafficPolicy, 2)}`);
}

/** A DestinationRule for `host` with a subset per version, named after it: `{ name: v1, labels: { version: v1 } }`. */
export function subsetsByVersion(host: string, versions: readonly string[]): string {
  const subsets = versions.map((version) => `- { name: ${version}, labels: { version: ${version} } }`);
  return destinationRuleSpec(host, `subsets:\n${subsets.join('\n')}`);
}

/** Several YAML documents as one config. */
export function joinDocuments(...documents: readonly string[]): string {
  return documents.map((document) => (document.endsWith('\n') ? document : `${document}\n`)).join('---\n');
}

function destinationRuleSpec(host: string, fields: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
${indent(fields, 2)}
`;
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `${' '.repeat(spaces)}${line}`)
    .join('\n');
}
