import type { z } from 'zod';
import type { ConfigIssue, SourceLocation } from '../errors/config-validation-error.ts';
import { deepFreeze } from './deep-freeze.ts';
import { envelopeSchema, FORBIDDEN_KEYS } from './envelope.ts';
import { type FieldPath, findFieldsByPattern, formatFieldPath } from './field-path.ts';
import type { NameContext } from './host.ts';
import type { KindDefinition } from './kind-definition.ts';
import { findKind, registeredKinds } from './kind-registry.ts';
import { IGNORED_KUBERNETES_KINDS } from './kinds/kubernetes-service.ts';
import type { ParseLimits } from './limits.ts';
import type { Resource } from './resource.ts';
import type { TextPosition } from './yaml-source.ts';

/** What the parser knows about where a raw object came from. */
export interface RawResourceOrigin {
  readonly file: string;
  /** The object's path inside its document (`['items', 3]` inside a List). */
  readonly pathInDocument: FieldPath;
  readonly locate?: (path: FieldPath) => TextPosition;
}

export interface ResourceParseOptions {
  readonly defaultNamespace: string;
  readonly domainSuffix: string;
  readonly limits: ParseLimits;
}

export interface ResourceParseResult {
  readonly resource?: Resource;
  readonly issues: readonly ConfigIssue[];
}

/** How many times unknown keys are stripped and the spec re-validated; nesting rarely needs two. */
const MAX_STRIP_PASSES = 8;

/** Validates one raw object as an Istio resource: envelope, kind, spec, notes; never throws. */
export function parseRawResource(
  raw: unknown,
  origin: RawResourceOrigin,
  options: ResourceParseOptions,
): ResourceParseResult {
  const issues: ConfigIssue[] = [];
  let resourceName = describeRaw(raw, options.defaultNamespace);
  const report = (
    severity: ConfigIssue['severity'],
    code: string,
    path: FieldPath,
    message: string,
  ): void => {
    issues.push({
      severity,
      code,
      resource: resourceName,
      path: formatFieldPath(path),
      message,
      location: locationOf(origin, path),
    });
  };

  const structural = checkStructure(raw, options.limits.maxDepth);
  if (structural !== undefined) {
    report('error', structural.code, structural.path, structural.message);
    return { issues };
  }

  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) {
    for (const issue of envelope.error.issues)
      report('error', 'invalid-envelope', issue.path, describeZodIssue(issue, raw));
    return { issues };
  }
  const { apiVersion, kind, metadata } = envelope.data;
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  if (IGNORED_KUBERNETES_KINDS.has(`${group}/${kind}`)) {
    report(
      'warning',
      'ignored-kind',
      ['kind'],
      `${apiVersion} ${kind} carries nothing Weft uses; it is skipped`,
    );
    return { issues };
  }
  const definition = findKind(group, kind);
  if (definition === undefined) {
    const known = registeredKinds()
      .map((entry) => `${entry.group}/${entry.kind}`)
      .join(', ');
    report(
      'error',
      'unknown-kind',
      ['kind'],
      `${group}/${kind} is not a kind Weft accepts (accepted: ${known})`,
    );
    return { issues };
  }
  if (!definition.versions.includes(version)) {
    report(
      'error',
      'unsupported-version',
      ['apiVersion'],
      `${apiVersion} is not supported for ${kind}; use one of ${definition.versions.map((v) => (group === '' ? v : `${group}/${v}`)).join(', ')}`,
    );
    return { issues };
  }
  const namespace = metadata.namespace ?? options.defaultNamespace;
  resourceName = `${kind}/${namespace}/${metadata.name}`;

  const rawSpec = (raw as { spec?: unknown }).spec ?? {};
  noteFields(definition, rawSpec, report);
  const spec = validateSpec(definition, rawSpec, report);
  if (issues.some((issue) => issue.severity === 'error') || spec === undefined) return { issues };

  const context: NameContext = { namespace, domainSuffix: options.domainSuffix };
  const resolved = definition.resolveNames === undefined ? spec : definition.resolveNames(spec, context);
  const resource: Resource = {
    apiVersion,
    kind,
    metadata: {
      name: metadata.name,
      namespace,
      labels: metadata.labels ?? {},
      annotations: metadata.annotations ?? {},
      ...(metadata.creationTimestamp === undefined ? {} : { creationTimestamp: metadata.creationTimestamp }),
      ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
      ...(metadata.generation === undefined ? {} : { generation: metadata.generation }),
      ...(metadata.uid === undefined ? {} : { uid: metadata.uid }),
    },
    spec: resolved,
    source: locationOf(origin, []),
  };
  return { resource: deepFreeze(resource), issues };
}

type Report = (severity: ConfigIssue['severity'], code: string, path: FieldPath, message: string) => void;

/** Reports deprecated and unsupported fields by name, wherever they occur in the spec. */
function noteFields(definition: KindDefinition, rawSpec: unknown, report: Report): void {
  for (const note of definition.deprecatedFields) {
    for (const path of findFieldsByPattern(rawSpec, note.path)) {
      report(
        'warning',
        'deprecated-field',
        ['spec', ...path],
        `deprecated; use ${note.replacement} (${note.reason})`,
      );
    }
  }
  const severity = definition.isSecurity ? 'error' : 'warning';
  for (const note of definition.unsupportedFields) {
    for (const path of findFieldsByPattern(rawSpec, note.path)) {
      const consequence = definition.isSecurity
        ? 'the resource is refused, because ignoring a security field could widen access'
        : 'the field is ignored';
      report(
        severity,
        'unsupported-field',
        ['spec', ...path],
        `not supported by Weft: ${note.reason}; ${consequence}`,
      );
    }
  }
}

/**
 * Runs the kind's schema. Unknown keys in traffic kinds are reported and dropped so that config
 * written for a newer Istio still applies (gRFC A27); in security kinds they are errors.
 */
function validateSpec(definition: KindDefinition, rawSpec: unknown, report: Report): unknown {
  let candidate = rawSpec;
  for (let pass = 0; pass < MAX_STRIP_PASSES; pass++) {
    const result = definition.specSchema.safeParse(candidate);
    if (result.success) return result.data;
    const unknownKeys = result.error.issues.filter((issue) => issue.code === 'unrecognized_keys');
    const others = result.error.issues.filter((issue) => issue.code !== 'unrecognized_keys');
    for (const issue of unknownKeys) {
      for (const key of issue.keys) {
        if (definition.isSecurity) {
          report(
            'error',
            'unknown-field',
            ['spec', ...issue.path, key],
            unknownSecurityFieldMessage(definition),
          );
        } else {
          report('warning', 'unknown-field', ['spec', ...issue.path, key], 'unknown field; it is ignored');
        }
      }
    }
    for (const issue of others)
      report(
        'error',
        'invalid-value',
        ['spec', ...issue.path],
        describeZodIssue(issue, { spec: candidate }, ['spec']),
      );
    if (others.length > 0 || definition.isSecurity || unknownKeys.length === 0) return undefined;
    candidate = withoutKeys(candidate, unknownKeys);
  }
  return undefined;
}

function unknownSecurityFieldMessage(definition: KindDefinition): string {
  return `unknown field; ${definition.kind} is a security resource, so Weft refuses what it does not understand rather than ignore it`;
}

function withoutKeys(value: unknown, issues: readonly z.core.$ZodIssueUnrecognizedKeys[]): unknown {
  const copy: unknown = structuredClone(value);
  for (const issue of issues) {
    const target = valueAt(copy, issue.path);
    if (target !== null && typeof target === 'object') {
      for (const key of issue.keys) delete (target as Record<string, unknown>)[key];
    }
  }
  return copy;
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** A zod issue in words; a missing value says "required" rather than zod's type message. */
function describeZodIssue(issue: z.core.$ZodIssue, root: unknown, prefix: FieldPath = []): string {
  if (issue.code === 'invalid_type' && valueAt(root, [...prefix, ...issue.path]) === undefined) {
    return 'required field is missing';
  }
  if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
  return issue.message;
}

/**
 * Rejects forbidden keys, non-JSON values and excessive depth before any schema sees the value
 * (bad-inputs A4).
 */
function checkStructure(
  raw: unknown,
  maxDepth: number,
): { code: string; path: FieldPath; message: string } | undefined {
  const stack: { value: unknown; path: FieldPath }[] = [{ value: raw, path: [] }];
  while (stack.length > 0) {
    const entry = stack.pop();
    if (entry === undefined) break;
    const { value, path } = entry;
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return { code: 'not-json', path, message: 'numbers must be finite' };
    }
    if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') {
      return { code: 'not-json', path, message: `a ${typeof value} is not a JSON value` };
    }
    if (value === null || typeof value !== 'object') continue;
    if (
      !Array.isArray(value) &&
      Object.getPrototypeOf(value) !== Object.prototype &&
      Object.getPrototypeOf(value) !== null
    ) {
      // YAML 1.1 tags (!!binary, !!set, !!timestamp…) or objects from code: config is JSON data.
      return {
        code: 'not-json',
        path,
        message: 'only JSON values (objects, arrays, strings, numbers, booleans, null) are allowed',
      };
    }
    if (path.length > maxDepth) {
      return { code: 'too-deep', path, message: `nested deeper than ${maxDepth} levels` };
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) {
        return {
          code: 'forbidden-key',
          path: [...path, key],
          message: `the key "${key}" is not allowed anywhere in config`,
        };
      }
      stack.push({
        value: (value as Record<string, unknown>)[key],
        path: [...path, Array.isArray(value) ? Number(key) : key],
      });
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      code: 'not-an-object',
      path: [],
      message: 'a resource must be a mapping with apiVersion, kind, metadata and spec',
    };
  }
  return undefined;
}

/** As much of `Kind/namespace/name` as a possibly broken object offers. */
function describeRaw(raw: unknown, defaultNamespace: string): string {
  const object = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const metadata =
    object.metadata !== null && typeof object.metadata === 'object'
      ? (object.metadata as Record<string, unknown>)
      : {};
  const text = (value: unknown, fallback: string): string =>
    typeof value === 'string' && value !== '' ? value : fallback;
  return `${text(object.kind, '<unknown kind>')}/${text(metadata.namespace, defaultNamespace)}/${text(metadata.name, '<unnamed>')}`;
}

function locationOf(origin: RawResourceOrigin, path: FieldPath): SourceLocation {
  if (origin.locate === undefined) return { file: origin.file };
  const { line, column } = origin.locate([...origin.pathInDocument, ...path]);
  return { file: origin.file, line, column };
}
