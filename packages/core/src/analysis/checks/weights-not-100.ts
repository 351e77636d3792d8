import type { AnalysisCheck } from '../analysis-check.ts';

export const weightsNot100: AnalysisCheck = {
  code: 'weights-not-100',
  severity: 'warning',
  summary: "A route's destination weights do not add up to 100.",
  *run({ snapshot }) {
    for (const virtualService of snapshot.resources.VirtualService) {
      for (const [index, route] of (virtualService.spec.http ?? []).entries()) {
        const destinations = route.route ?? [];
        if (destinations.length < 2 && destinations.every((entry) => entry.weight === undefined)) continue;
        const total = destinations.reduce((sum, entry) => sum + (entry.weight ?? 0), 0);
        if (
          total === 100 ||
          (destinations.length > 1 && destinations.every((entry) => entry.weight === undefined))
        )
          continue;
        yield {
          resource: virtualService,
          path: `spec.http[${index}].route`,
          message: `weights add up to ${total}, not 100; Weft splits traffic in proportion to them, but set them to add up to 100 so the split reads as percentages`,
        };
      }
    }
  },
};
