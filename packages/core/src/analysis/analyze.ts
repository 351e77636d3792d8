import { type CompileOptions, compile } from '../config/compile/compile.ts';
import { type Resource, resourceKey } from '../config/resource.ts';
import type { ConfigIssue } from '../errors/config-validation-error.ts';
import { EMPTY_REGISTRY, type Registry } from '../registry/workload.ts';
import { analysisChecks } from './check-registry.ts';
import './builtin-checks.ts';

export interface AnalyzeOptions extends CompileOptions {
  /** The workloads to check selectors and subsets against; without it those checks stay quiet. */
  readonly registry?: Registry;
  /** Codes to leave out, as `istioctl analyze --suppress`. */
  readonly suppress?: readonly string[];
}

/**
 * Cross-resource checks, as `istioctl analyze` runs, over resources that each parsed cleanly.
 * Returns every finding, errors first, each naming the resource, the field and the fix.
 */
export function analyze(resources: readonly Resource[], options: AnalyzeOptions = {}): ConfigIssue[] {
  const registry = options.registry ?? EMPTY_REGISTRY;
  const snapshot = compile(resources, registry, options);
  const suppressed = new Set(options.suppress ?? []);
  const issues: ConfigIssue[] = [];
  for (const check of analysisChecks()) {
    if (suppressed.has(check.code)) continue;
    for (const finding of check.run({ snapshot, hasRegistry: options.registry !== undefined })) {
      issues.push({
        severity: check.severity,
        code: check.code,
        resource: resourceKey(finding.resource),
        path: finding.path,
        message: finding.message,
        location: finding.resource.source,
      });
    }
  }
  return issues.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}
