import { registeredKinds } from '@weft/core';
import { UsageError } from './cli-errors.ts';

/** kubectl's and istioctl's short names for the kinds Weft ships. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  vs: 'VirtualService',
  dr: 'DestinationRule',
  se: 'ServiceEntry',
  we: 'WorkloadEntry',
  gw: 'Gateway',
  pa: 'PeerAuthentication',
  ra: 'RequestAuthentication',
  ap: 'AuthorizationPolicy',
  svc: 'Service',
};

/**
 * The kind a user typed, as the agent names it: `VirtualService`, `virtualservice`,
 * `virtualservices`, `vs` and `virtualservice.networking.istio.io` all name one kind. A kind the
 * CLI does not know (an extension registered in the agent only) passes through when spelled
 * exactly, with an upper-case first letter.
 */
export function resolveKind(typed: string, command: string): string {
  const lower = typed.toLowerCase();
  const short = SHORT_NAMES[lower];
  if (short !== undefined) return short;
  for (const definition of registeredKinds()) {
    const kind = definition.kind.toLowerCase();
    const group = definition.group === '' ? '' : `.${definition.group}`;
    for (const name of [kind, pluralOf(kind)]) {
      if (lower === name || lower === `${name}${group}`) return definition.kind;
    }
  }
  if (/^[A-Z][A-Za-z0-9]*$/.test(typed)) return typed;
  const known = [...new Set(registeredKinds().map((definition) => definition.kind))].sort().join(', ');
  throw new UsageError(`unknown kind "${typed}"; known kinds: ${known}`, command);
}

function pluralOf(kind: string): string {
  if (/[^aeiou]y$/.test(kind)) return `${kind.slice(0, -1)}ies`;
  if (kind.endsWith('s')) return `${kind}es`;
  return `${kind}s`;
}
