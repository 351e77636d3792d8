import type { TagValue } from '../config/kinds/telemetry.ts';

/**
 * What a metric tag override's value computes to, once per request. Istio's values are CEL
 * expressions; Weft evaluates the two forms operators use most and refuses every other one by
 * name (an analysis finding and a policy issue), so an override never silently does something
 * else than it says.
 */
export type CompiledTagValue =
  | { readonly kind: 'literal'; readonly value: string }
  /** `request.headers['x-name']`: the request header's value, `unknown` when absent. */
  | { readonly kind: 'header'; readonly header: string };

export type TagValueCompilation =
  | { readonly isSupported: true; readonly value: CompiledTagValue }
  | { readonly isSupported: false; readonly reason: string };

/** `request.headers['name']` or `request.headers["name"]`, spaces allowed inside the brackets. */
const REQUEST_HEADER = /^request\.headers\[\s*(?:'([^'\\]+)'|"([^"\\]+)")\s*\]$/;

export function compileTagValue(value: TagValue): TagValueCompilation {
  if (value.type === 'literal') return { isSupported: true, value: { kind: 'literal', value: value.value } };
  const header = REQUEST_HEADER.exec(value.expression.trim());
  const name = header?.[1] ?? header?.[2];
  if (name !== undefined) return { isSupported: true, value: { kind: 'header', header: name.toLowerCase() } };
  return {
    isSupported: false,
    reason:
      `Weft does not evaluate the CEL expression ${JSON.stringify(value.expression)}: ` +
      `a tag override value is a string literal ('v1') or request.headers['name']`,
  };
}
