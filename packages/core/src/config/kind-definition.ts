import type { z } from 'zod';
import type { NameContext } from './host.ts';

/**
 * A field, named by a path pattern relative to `spec`: dotted names, `[]` for "every element",
 * `{}` for "every value of a map". E.g. `http[].mirrorPercent`, `portLevelMtls{}.mode`.
 */
export interface FieldNote {
  readonly path: string;
  readonly reason: string;
}

export interface DeprecatedField extends FieldNote {
  /** The field that replaces it; the schema maps the old field onto it. */
  readonly replacement: string;
}

/**
 * Everything Weft knows about one Istio kind. The built-in kinds register through the same
 * registry a third party would use (see kind-registry.ts).
 */
export interface KindDefinition<Spec = unknown> {
  readonly kind: string;
  /** API group, e.g. `networking.istio.io`. */
  readonly group: string;
  /** Accepted versions, newest first, e.g. `['v1', 'v1beta1', 'v1alpha3']`. */
  readonly versions: readonly string[];
  /**
   * Security kinds fail closed: an unknown or unsupported field is an error, because ignoring it
   * could turn a DENY into nothing or an ALLOW into a wider one.
   */
  readonly isSecurity: boolean;
  /** Validates and normalizes `spec` (durations to ms, string matches to tagged unions, aliases). */
  readonly specSchema: z.ZodType<Spec>;
  /** Istio fields Weft accepts but does not implement yet; reported by name when present. */
  readonly unsupportedFields: readonly FieldNote[];
  /** Deprecated Istio fields (and spellings) that are still accepted; reported when present. */
  readonly deprecatedFields: readonly DeprecatedField[];
  /** Rewrites names relative to the resource's namespace (short hosts to FQDNs). Pure. */
  readonly resolveNames?: (spec: Spec, context: NameContext) => Spec;
}
