// Builders for the Istio resources the tests configure. Each returns one YAML document; field
// text passed in is YAML written from column 0, which the builder indents into place.

/** A VirtualService for `host` whose `http:` list is `routes` (`- match: … route: …` items). */
export function virtualService(host: string, routes: string, annotations = ''): string {
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

/** A VirtualService with one route to `host` carrying `routeFields` (retries, timeout, fault…). */
export function singleRoute(host: string, routeFields = '', annotations = ''): string {
  return virtualService(
    host,
    `- route: [{ destination: { host: ${host} } }]\n${indent(routeFields, 2)}`,
    annotations,
  );
}

/** A DestinationRule for `host` with a trafficPolicy and, optionally, subsets by version. */
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
