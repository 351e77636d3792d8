import { compileTagValue } from '../../telemetry/tag-value.ts';
import type { AnalysisCheck } from '../analysis-check.ts';

/**
 * Telemetry tag overrides whose value Weft cannot compute. Istio evaluates any CEL expression;
 * Weft computes string literals and `request.headers['name']` and refuses the rest: such an
 * override is not applied, and this says so before a dashboard misses the label.
 */
export const telemetryTagExpression: AnalysisCheck = {
  code: 'telemetry-tag-expression',
  severity: 'error',
  summary: "A Telemetry tag override's value is a CEL expression Weft does not evaluate; it is not applied.",
  *run({ snapshot }) {
    for (const telemetry of snapshot.resources.Telemetry) {
      for (const [metricsIndex, metrics] of (telemetry.spec.metrics ?? []).entries()) {
        for (const [overrideIndex, override] of (metrics.overrides ?? []).entries()) {
          for (const [tag, operation] of Object.entries(override.tagOverrides ?? {})) {
            if (operation.operation !== 'UPSERT') continue;
            const compiled = compileTagValue(operation.value);
            if (compiled.isSupported) continue;
            yield {
              resource: telemetry,
              path: `spec.metrics[${metricsIndex}].overrides[${overrideIndex}].tagOverrides.${tag}.value`,
              message: `${compiled.reason}; the override of "${tag}" is not applied`,
            };
          }
        }
      }
    }
  },
};
