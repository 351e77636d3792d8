import { parseAllDocuments } from 'yaml';

/**
 * The resources of a request body as plain objects, exactly as written (`kind: List` expanded).
 * Only called after @weft/core's parser accepted the same text, with the same YAML settings, so
 * it cannot meet a syntax error, an alias bomb or a duplicate key here. What is stored is what
 * the operator wrote (not the normalized form): a client re-validates it with its own parser,
 * and a newer client may understand fields this agent only warned about.
 */
export function rawResources(text: string, format: 'yaml' | 'json', maxAliasCount: number): unknown[] {
  const values: unknown[] = [];
  if (format === 'json') {
    values.push(JSON.parse(text) as unknown);
  } else {
    const parsed = parseAllDocuments(text, {
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
      resolveKnownTags: false,
    });
    for (const document of Array.isArray(parsed) ? parsed : []) {
      if (document.contents === null) continue;
      const value: unknown = document.toJS({ maxAliasCount });
      if (value !== null && value !== undefined) values.push(value);
    }
  }
  return values.flatMap((value) => (isList(value) ? value.items : [value]));
}

function isList(value: unknown): value is { kind: 'List'; items: unknown[] } {
  if (value === null || typeof value !== 'object') return false;
  const object = value as Record<string, unknown>;
  return object.kind === 'List' && Array.isArray(object.items);
}

/** The `Kind/namespace/name` of a raw object, with the request's default namespace. */
export function rawResourceKey(raw: unknown, defaultNamespace: string): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const object = raw as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const namespace =
    typeof object.metadata?.namespace === 'string' ? object.metadata.namespace : defaultNamespace;
  if (typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') return undefined;
  return `${object.kind}/${namespace}/${object.metadata.name}`;
}
