import { ErrorCodes, WeftError } from './weft-error.ts';

/** Where a config problem is, as precisely as the input allows. */
export interface SourceLocation {
  /** The file name given to the parser, or `<input>` for objects passed in memory. */
  readonly file: string;
  /** 1-based line and column; absent for resources that did not come from text. */
  readonly line?: number;
  readonly column?: number;
}

/** One problem with one field of one resource. */
export interface ConfigIssue {
  readonly severity: 'error' | 'warning';
  /** A stable identifier of the kind of problem, e.g. `unknown-field`, `invalid-value`. */
  readonly code: string;
  /** `Kind/namespace/name`, or what could be read of it. */
  readonly resource: string;
  /** The field path inside the resource, e.g. `spec.http[0].route[1].weight`. */
  readonly path: string;
  readonly message: string;
  readonly location: SourceLocation;
}

/** Renders an issue as one line: `file:line:col: Kind/ns/name spec.x: reason`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const { file, line, column } = issue.location;
  const where = line === undefined ? file : `${file}:${line}:${column ?? 1}`;
  const field = issue.path === '' ? '' : ` ${issue.path}`;
  return `${where}: ${issue.severity}: ${issue.resource}${field}: ${issue.message}`;
}

/** Thrown when configuration is refused; carries every issue found, not just the first. */
export class ConfigValidationError extends WeftError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const errors = issues.filter((issue) => issue.severity === 'error');
    const lines = errors.map((issue) => `  ${formatConfigIssue(issue)}`).join('\n');
    super(
      ErrorCodes.configValidation,
      `invalid configuration (${errors.length} error(s)):\n${lines}`,
      options,
    );
    this.name = 'ConfigValidationError';
    this.issues = issues;
  }
}
