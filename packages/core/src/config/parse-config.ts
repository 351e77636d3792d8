import { type ConfigIssue, ConfigValidationError } from '../errors/config-validation-error.ts';
import type { FieldPath } from './field-path.ts';
import { DEFAULT_DOMAIN_SUFFIX } from './host.ts';
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from './limits.ts';
import type { Resource } from './resource.ts';
import { parseRawResource, type ResourceParseOptions } from './resource-parser.ts';
import { readYamlText, type TextPosition } from './yaml-source.ts';
// The built-in kinds register on import, so parsing always knows Istio's kinds.
import './builtin-kinds.ts';

export interface ParseConfigOptions {
  /** Named in every issue; `<input>` when absent. */
  readonly file?: string;
  /** Namespace of resources that name none, as `kubectl apply -n`; `default` when absent. */
  readonly defaultNamespace?: string;
  /** The cluster DNS suffix short hosts are expanded with; `cluster.local` when absent. */
  readonly domainSuffix?: string;
  readonly limits?: Partial<ParseLimits>;
}

/**
 * The outcome of parsing: every resource that is valid, and every issue found. A resource with
 * an error is left out and the others are kept (bad-inputs A7), so a caller decides whether to
 * refuse the whole input (`parseConfigStrict`, the admission path) or apply what is good.
 */
export interface ParsedConfig {
  readonly resources: readonly Resource[];
  readonly issues: readonly ConfigIssue[];
}

/** Parses multi-document YAML or JSON text; `kind: List` documents are expanded. Never throws. */
export function parseConfig(text: string, options: ParseConfigOptions = {}): ParsedConfig {
  const settings = settingsOf(options);
  const file = options.file ?? '<input>';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > settings.limits.maxInputBytes) {
    return {
      resources: [],
      issues: [limitIssue(file, `input is ${bytes} bytes; the limit is ${settings.limits.maxInputBytes}`)],
    };
  }
  const source = readYamlText(text, settings.limits);
  const issues: ConfigIssue[] = source.problems.map((problem) => ({
    severity: 'error',
    code: 'invalid-yaml',
    resource: '<unparsed document>',
    path: '',
    message: problem.message,
    location: { file, line: problem.position.line, column: problem.position.column },
  }));
  const resources: Resource[] = [];
  for (const document of source.documents) {
    collect(document.value, { file, locate: document.locate }, settings, resources, issues);
  }
  return { resources, issues };
}

/** Parses resources given as objects (e.g. from code or a JSON API); issues name `<input>[i]`. */
export function parseConfigObjects(
  values: readonly unknown[],
  options: ParseConfigOptions = {},
): ParsedConfig {
  const settings = settingsOf(options);
  const resources: Resource[] = [];
  const issues: ConfigIssue[] = [];
  values.forEach((value, index) => {
    collect(value, { file: `${options.file ?? '<input>'}[${index}]` }, settings, resources, issues);
  });
  return { resources, issues };
}

/** Parses and throws a ConfigValidationError listing every error if there is any. */
export function parseConfigStrict(text: string, options: ParseConfigOptions = {}): readonly Resource[] {
  const { resources, issues } = parseConfig(text, options);
  if (issues.some((issue) => issue.severity === 'error')) throw new ConfigValidationError(issues);
  return resources;
}

function settingsOf(options: ParseConfigOptions): ResourceParseOptions {
  return {
    defaultNamespace: options.defaultNamespace ?? 'default',
    domainSuffix: options.domainSuffix ?? DEFAULT_DOMAIN_SUFFIX,
    limits: { ...DEFAULT_PARSE_LIMITS, ...options.limits },
  };
}

interface DocumentOrigin {
  readonly file: string;
  readonly locate?: (path: FieldPath) => TextPosition;
}

function collect(
  value: unknown,
  origin: DocumentOrigin,
  settings: ResourceParseOptions,
  resources: Resource[],
  issues: ConfigIssue[],
): void {
  const entries = isList(value)
    ? value.items.map((item, index) => ({ item, path: ['items', index] as FieldPath }))
    : [{ item: value, path: [] as FieldPath }];
  for (const { item, path } of entries) {
    if (resources.length >= settings.limits.maxResources) {
      issues.push(
        limitIssue(origin.file, `more than ${settings.limits.maxResources} resources in one input`),
      );
      return;
    }
    const result = parseRawResource(item, { ...origin, pathInDocument: path }, settings);
    issues.push(...result.issues);
    if (result.resource !== undefined) resources.push(result.resource);
  }
}

function isList(value: unknown): value is { kind: 'List'; items: unknown[] } {
  if (value === null || typeof value !== 'object') return false;
  const object = value as Record<string, unknown>;
  return object.kind === 'List' && Array.isArray(object.items);
}

function limitIssue(file: string, message: string): ConfigIssue {
  return {
    severity: 'error',
    code: 'limit-exceeded',
    resource: '<input>',
    path: '',
    message,
    location: { file },
  };
}
