import { findFieldsByPattern, formatFieldPath } from '../../config/field-path.ts';
import { findKind } from '../../config/kind-registry.ts';
import type { AnalysisCheck } from '../analysis-check.ts';

/**
 * Istio fields Weft accepts in traffic kinds but does not apply (security kinds refuse them at
 * parse time). The parser warns once per apply; this keeps them visible in every analysis.
 * Deprecated spellings are mapped onto their replacements when parsed, so the parser's warning
 * is where those are reported.
 */
export const unsupportedField: AnalysisCheck = {
  code: 'unsupported-field',
  severity: 'warning',
  summary: 'A field Weft does not implement is set; it has no effect.',
  *run({ snapshot }) {
    for (const resources of Object.values(snapshot.resources)) {
      for (const resource of resources) {
        const [group = ''] = resource.apiVersion.includes('/') ? resource.apiVersion.split('/') : [''];
        const definition = findKind(group, resource.kind);
        for (const note of definition?.unsupportedFields ?? []) {
          for (const path of findFieldsByPattern(resource.spec, note.path)) {
            yield {
              resource,
              path: formatFieldPath(['spec', ...path]),
              message: `not supported by Weft and ignored: ${note.reason}; remove it, or expect no effect`,
            };
          }
        }
      }
    }
  },
};
