import type { KindDefinition } from './kind-definition.ts';

/**
 * The string-keyed registry of resource kinds the parser accepts. Weft's own kinds register
 * through `registerKind` like any extension would; registering a kind twice replaces it.
 */
const kinds = new Map<string, KindDefinition>();

function registryKey(group: string, kind: string): string {
  return `${group}/${kind}`;
}

export function registerKind<Spec>(definition: KindDefinition<Spec>): void {
  kinds.set(registryKey(definition.group, definition.kind), definition as KindDefinition);
}

export function findKind(group: string, kind: string): KindDefinition | undefined {
  return kinds.get(registryKey(group, kind));
}

/** Every registered kind, for messages that list what is accepted. */
export function registeredKinds(): readonly KindDefinition[] {
  return [...kinds.values()];
}
