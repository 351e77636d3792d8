/**
 * Caps applied before and while parsing, so an operator's mistake or a hostile client cannot make
 * the agent or a workload run out of memory or stall (bad-inputs A2, A3). All are per call.
 */
export interface ParseLimits {
  /** Bytes of text in one call (one file). */
  readonly maxInputBytes: number;
  /** Bytes of one YAML document (one resource, or one `kind: List`). */
  readonly maxDocumentBytes: number;
  /** Resources in one call, counting the items of lists. */
  readonly maxResources: number;
  /** Nesting depth of any value. */
  readonly maxDepth: number;
  /** YAML aliases resolved per document; the `yaml` package's own guard against alias bombs. */
  readonly maxAliasCount: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = Object.freeze({
  maxInputBytes: 16 * 1024 * 1024,
  maxDocumentBytes: 2 * 1024 * 1024,
  maxResources: 20_000,
  maxDepth: 64,
  maxAliasCount: 100,
});
