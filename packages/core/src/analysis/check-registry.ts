import type { AnalysisCheck } from './analysis-check.ts';

/** String-keyed registry of analysis checks; the built-ins register through the same call. */
const checks = new Map<string, AnalysisCheck>();

export function registerAnalysisCheck(check: AnalysisCheck): void {
  checks.set(check.code, check);
}

export function analysisChecks(): readonly AnalysisCheck[] {
  return [...checks.values()];
}
