import {
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  LineCounter,
  type Node,
  parseAllDocuments,
} from 'yaml';
import type { FieldPath } from './field-path.ts';
import type { ParseLimits } from './limits.ts';

/** A position in the text, 1-based. */
export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

/** One YAML document turned into a plain value, with a way back from a field path to its text. */
export interface SourceDocument {
  readonly value: unknown;
  /** The position of the field at `path` (or of its nearest present ancestor). */
  readonly locate: (path: FieldPath) => TextPosition;
}

export interface TextProblem {
  readonly message: string;
  readonly position: TextPosition;
}

export interface SourceText {
  readonly documents: readonly SourceDocument[];
  /** Syntax problems: documents with any are left out of `documents`. */
  readonly problems: readonly TextProblem[];
}

/**
 * Reads multi-document YAML (JSON is a subset). Duplicate keys are refused (`uniqueKeys`), and
 * alias expansion is capped, both by the `yaml` package; document size is capped here.
 */
export function readYamlText(text: string, limits: ParseLimits): SourceText {
  const lineCounter = new LineCounter();
  const toPosition = (offset: number): TextPosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const documents: SourceDocument[] = [];
  const problems: TextProblem[] = [];
  const parsed = parseAllDocuments(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    // Config is JSON data: YAML 1.1's !!binary, !!set, !!omap and !!timestamp stay plain scalars.
    resolveKnownTags: false,
  });
  const list: readonly Document[] = Array.isArray(parsed) ? parsed : [];
  for (const document of list) {
    const [start = 0, , end = start] = document.range ?? [];
    const problemsBefore = problems.length;
    for (const error of document.errors)
      problems.push({ message: error.message, position: toPosition(error.pos[0]) });
    if (problems.length > problemsBefore) continue;
    if (document.contents === null) continue;
    if (end - start > limits.maxDocumentBytes) {
      problems.push({
        message: `document is ${end - start} bytes; the limit is ${limits.maxDocumentBytes}`,
        position: toPosition(start),
      });
      continue;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (error) {
      problems.push({
        message: error instanceof Error ? error.message : String(error),
        position: toPosition(start),
      });
      continue;
    }
    // A document with only comments or `---` holds nothing: skip it, as kubectl does.
    if (value === null || value === undefined) continue;
    documents.push({ value, locate: (path) => toPosition(offsetOf(document, path) ?? start) });
  }
  return { documents, problems };
}

/** The text offset of the node at `path`, or of its nearest ancestor that exists. */
function offsetOf(document: Document, path: FieldPath): number | undefined {
  let node: unknown = document.contents;
  let offset = isNode(node) ? node.range?.[0] : undefined;
  for (const segment of path) {
    if (!isNode(node)) break;
    const child = childOf(node, segment);
    if (child === undefined) break;
    offset = child.offset ?? offset;
    node = child.node;
  }
  return offset;
}

function childOf(
  node: Node,
  segment: PropertyKey,
): { node: unknown; offset: number | undefined } | undefined {
  if (!('items' in node) || !Array.isArray(node.items)) return undefined;
  if (isMap(node)) {
    const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === segment);
    if (!isPair(pair)) return undefined;
    // Point at the key, which is where a reader looks for the field.
    const key = pair.key;
    return { node: pair.value, offset: isNode(key) ? key.range?.[0] : undefined };
  }
  if (typeof segment !== 'number') return undefined;
  const item: unknown = node.items[segment];
  return isNode(item) ? { node: item, offset: item.range?.[0] } : undefined;
}
