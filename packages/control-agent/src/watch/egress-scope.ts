import { hostMatches, type StoredResource, toFqdn } from '@weft/core';
import type { ScopeOptions } from './visibility.ts';

/** The `namespace/host` entries a Sidecar's egress imports, as Istio writes them. */
interface ImportEntry {
  readonly namespace: string;
  readonly host: string;
}

/**
 * What the Sidecar that applies to every client of one namespace imports: only VirtualServices,
 * DestinationRules and ServiceEntries for imported hosts are sent to those clients (PROTOCOL.md
 * §3.6). Clients scope by their Sidecar again when they compile; the agent's part is only to not
 * send what no client of the namespace can use.
 */
export interface EgressScope {
  readonly sidecar: string;
  imports(resource: StoredResource): boolean;
}

/**
 * The egress scope of clients in `namespace`: its selector-less Sidecar, else the root
 * namespace's; undefined (everything is sent) when there is none, when it has no egress
 * listeners (Istio's default egress imports everything), or when the namespace also has a Sidecar
 * with a workloadSelector — the agent cannot tell which of its clients that one selects.
 */
export function egressScopeFor(
  resources: Iterable<StoredResource>,
  namespace: string,
  scope: ScopeOptions,
): EgressScope | undefined {
  let own: StoredResource | undefined;
  let root: StoredResource | undefined;
  for (const resource of resources) {
    if (resource.kind !== 'Sidecar') continue;
    const owner = resource.metadata.namespace;
    const hasSelector = specOf(resource).workloadSelector !== undefined;
    if (owner === namespace) {
      if (hasSelector) return undefined;
      own ??= resource;
    } else if (owner === scope.rootNamespace && !hasSelector) {
      root ??= resource;
    }
  }
  const chosen = own ?? root;
  if (chosen === undefined) return undefined;
  const entries = importEntriesOf(chosen);
  if (entries === undefined) return undefined;
  return {
    sidecar: `Sidecar/${chosen.metadata.namespace}/${chosen.metadata.name}`,
    imports: (resource) => {
      const owner = resource.metadata.namespace;
      const context = { namespace: owner, domainSuffix: scope.domainSuffix };
      const hosts = hostsOf(resource).map((host) => toFqdn(host, context));
      return entries.some(
        (entry) =>
          importsNamespace(entry.namespace, owner, namespace) &&
          hosts.some((host) => hostMatches(entry.host, host) || hostMatches(host, entry.host)),
      );
    },
  };
}

function importsNamespace(entryNamespace: string, owner: string, clientNamespace: string): boolean {
  if (entryNamespace === '*') return true;
  if (entryNamespace === '.') return owner === clientNamespace;
  return entryNamespace === owner; // `~` names no namespace, so it matches none
}

function importEntriesOf(sidecar: StoredResource): ImportEntry[] | undefined {
  const egress = specOf(sidecar).egress;
  if (!Array.isArray(egress) || egress.length === 0) return undefined;
  const entries: ImportEntry[] = [];
  for (const listener of egress) {
    const hosts = (listener as { hosts?: unknown } | null)?.hosts;
    if (!Array.isArray(hosts)) continue;
    for (const value of hosts) {
      if (typeof value !== 'string') continue;
      const slash = value.indexOf('/');
      entries.push(
        slash === -1
          ? { namespace: '*', host: value.toLowerCase() }
          : { namespace: value.slice(0, slash), host: value.slice(slash + 1).toLowerCase() },
      );
    }
  }
  return entries;
}

function hostsOf(resource: StoredResource): string[] {
  const spec = specOf(resource);
  const hosts = resource.kind === 'DestinationRule' ? [spec.host] : spec.hosts;
  const list = Array.isArray(hosts) ? hosts : [];
  return list.filter((host): host is string => typeof host === 'string');
}

function specOf(resource: StoredResource): Record<string, unknown> {
  const spec = resource.spec;
  return spec !== null && typeof spec === 'object' ? (spec as Record<string, unknown>) : {};
}
