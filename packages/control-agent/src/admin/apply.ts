import { isDeepStrictEqual } from 'node:util';
import {
  type ConfigIssue,
  DEFAULT_PARSE_LIMITS,
  parseConfig,
  type Resource,
  type RevisionMark,
  resourceKey,
  type StoredResource,
} from '@weft/core';
import { HttpError } from '../http/http-error.ts';
import { parseJson } from '../http/read-body.ts';
import type { ResourceWrite, Store } from '../store/store.ts';
import { rawResourceKey, rawResources } from './raw-documents.ts';
import type { StoredAnalysis } from './stored-analysis.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResultEntry {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly action: ApplyAction;
  /** After the write (absent in a dry run for what would be created or configured). */
  readonly resourceVersion?: string;
  readonly generation?: number;
}

export interface ApplyOutcome {
  readonly dryRun: boolean;
  /** The store's mark after the write (or now, when nothing was written). */
  readonly mark: RevisionMark;
  readonly results: readonly ApplyResultEntry[];
  /** Deprecated, unknown or unsupported fields, ignored kinds: applied anyway, worth fixing. */
  readonly warnings: readonly ConfigIssue[];
  /** `analyze` of the config as it is after this apply (or would be, in a dry run). */
  readonly findings: readonly ConfigIssue[];
}

export interface ApplyRequest {
  readonly text: string;
  readonly format: 'yaml' | 'json';
  readonly isDryRun: boolean;
  /** Namespace of resources that name none (`kubectl apply -n`). */
  readonly defaultNamespace: string;
}

export interface ApplyDeps {
  readonly store: Store;
  readonly analysis: StoredAnalysis;
  readonly domainSuffix: string;
  readonly maxInputBytes: number;
}

const FILE = 'request body';

/**
 * `POST /v1/apply`: the whole body is validated by @weft/core before anything is stored; any error
 * refuses all of it (422, every issue with file, line and field), so an apply never leaves half
 * a change behind. Otherwise the changed resources are written in one store transaction.
 */
export async function applyConfig(request: ApplyRequest, deps: ApplyDeps): Promise<ApplyOutcome> {
  if (request.format === 'json') parseJson(request.text);
  const parsed = parseConfig(request.text, {
    file: FILE,
    defaultNamespace: request.defaultNamespace,
    domainSuffix: deps.domainSuffix,
    limits: { maxInputBytes: deps.maxInputBytes },
  });
  refuseInvalid(parsed.issues, request.format);
  const warnings = parsed.issues.filter((issue) => issue.severity === 'warning');
  refuseDuplicates(parsed.resources);
  if (parsed.resources.length === 0 && warnings.length === 0) {
    throw new HttpError(400, 'bad-request', 'the body holds no resources');
  }

  const raws = new Map<string, unknown>();
  for (const raw of rawResources(request.text, request.format, DEFAULT_PARSE_LIMITS.maxAliasCount)) {
    const key = rawResourceKey(raw, request.defaultNamespace);
    if (key !== undefined) raws.set(key, raw);
  }
  const existing = await Promise.all(
    parsed.resources.map((resource) =>
      deps.store.getResource({
        kind: resource.kind,
        namespace: resource.metadata.namespace,
        name: resource.metadata.name,
      }),
    ),
  );
  const plans = parsed.resources.map((resource, index) =>
    planWrite(resource, raws.get(resourceKey(resource)), existing[index]),
  );

  let mark: RevisionMark;
  const stored = new Map<string, StoredResource>();
  const writes = plans.filter((plan) => plan.action !== 'unchanged').map((plan) => plan.write);
  if (!request.isDryRun && writes.length > 0) {
    const result = await deps.store.putResources(writes);
    if (!result.ok) throw conflict(result.conflict, result.actualResourceVersion);
    mark = result.mark;
    for (const resource of result.stored) stored.set(keyOfStored(resource), resource);
  } else {
    mark = await deps.store.mark();
  }

  const results = plans.map((plan, index): ApplyResultEntry => {
    const resource = parsed.resources[index] as Resource;
    const key = resourceKey(resource);
    const after = plan.action === 'unchanged' ? existing[index] : stored.get(key);
    return {
      kind: resource.kind,
      namespace: resource.metadata.namespace,
      name: resource.metadata.name,
      action: plan.action,
      ...(after === undefined
        ? {}
        : { resourceVersion: after.metadata.resourceVersion, generation: after.metadata.generation }),
    };
  });
  const overlay = parsed.resources.map((resource, index) =>
    withStoredMetadata(resource, stored.get(resourceKey(resource)) ?? existing[index]),
  );
  const findings = await analyzeAfter(deps.analysis, overlay, request.isDryRun);
  return { dryRun: request.isDryRun, mark, results, warnings, findings };
}

/**
 * Findings are advice: once the write is done, a failure to compute them (the store unreachable
 * for the list, a bug in a check) must not turn a successful apply into an error answer.
 */
async function analyzeAfter(
  analysis: StoredAnalysis,
  overlay: readonly Resource[],
  isDryRun: boolean,
): Promise<readonly ConfigIssue[]> {
  try {
    return await analysis.analyze(overlay);
  } catch (error) {
    if (isDryRun) throw error;
    return [
      {
        severity: 'warning',
        code: 'analysis-failed',
        resource: '<all>',
        path: '',
        message: `the config was stored, but could not be analysed: ${error instanceof Error ? error.message : String(error)}`,
        location: { file: FILE },
      },
    ];
  }
}

interface WritePlan {
  readonly action: ApplyAction;
  readonly write: ResourceWrite;
}

function planWrite(resource: Resource, raw: unknown, existing: StoredResource | undefined): WritePlan {
  const object = (raw ?? {}) as {
    metadata?: {
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      resourceVersion?: unknown;
    };
    spec?: unknown;
  };
  const labels = object.metadata?.labels;
  const annotations = object.metadata?.annotations;
  const expected = object.metadata?.resourceVersion;
  const write: ResourceWrite = {
    resource: {
      apiVersion: resource.apiVersion,
      kind: resource.kind,
      metadata: {
        name: resource.metadata.name,
        namespace: resource.metadata.namespace,
        ...(labels === undefined ? {} : { labels }),
        ...(annotations === undefined ? {} : { annotations }),
      },
      spec: object.spec ?? null,
    },
    ...(typeof expected === 'string' ? { expectedResourceVersion: expected } : {}),
  };
  // A resourceVersion in the body makes the apply conditional, as with kubectl (optimistic
  // concurrency): checked here too, so that a dry run reports the conflict a real run would meet.
  if (typeof expected === 'string' && existing?.metadata.resourceVersion !== expected) {
    throw conflict(
      { kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name },
      existing?.metadata.resourceVersion,
    );
  }
  if (existing === undefined) return { action: 'created', write };
  return { action: isSameContent(existing, write) ? 'unchanged' : 'configured', write };
}

function isSameContent(existing: StoredResource, write: ResourceWrite): boolean {
  const next = write.resource;
  return (
    existing.apiVersion === next.apiVersion &&
    isDeepStrictEqual(existing.metadata.labels ?? {}, next.metadata.labels ?? {}) &&
    isDeepStrictEqual(existing.metadata.annotations ?? {}, next.metadata.annotations ?? {}) &&
    isDeepStrictEqual(existing.spec ?? null, JSON.parse(JSON.stringify(next.spec ?? null)))
  );
}

/** The applied resource with its stored identity, so analysis orders it by creation as compile() does. */
function withStoredMetadata(resource: Resource, stored: StoredResource | undefined): Resource {
  if (stored === undefined) return resource;
  return {
    ...resource,
    metadata: {
      ...resource.metadata,
      creationTimestamp: stored.metadata.creationTimestamp,
      resourceVersion: stored.metadata.resourceVersion,
      generation: stored.metadata.generation,
      uid: stored.metadata.uid,
    },
  };
}

function refuseInvalid(issues: readonly ConfigIssue[], format: 'yaml' | 'json'): void {
  const syntax = issues.filter((issue) => issue.code === 'invalid-yaml');
  if (syntax.length > 0) {
    throw new HttpError(
      400,
      format === 'json' ? 'invalid-json' : 'invalid-yaml',
      `the body is not valid ${format === 'json' ? 'JSON' : 'YAML'}; nothing was stored`,
      { details: { issues: syntax } },
    );
  }
  const limits = issues.filter((issue) => issue.code === 'limit-exceeded');
  if (limits.length > 0) {
    throw new HttpError(
      413,
      'payload-too-large',
      `${limits[0]?.message ?? 'too large'}; nothing was stored`,
      {
        details: { issues: limits },
      },
    );
  }
  const errorCount = issues.filter((issue) => issue.severity === 'error').length;
  if (errorCount > 0) {
    throw new HttpError(422, 'invalid-config', `${errorCount} error(s) in the config; nothing was stored`, {
      details: { issues },
    });
  }
}

function refuseDuplicates(resources: readonly Resource[]): void {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const resource of resources) {
    const key = resourceKey(resource);
    if (seen.has(key)) {
      issues.push({
        severity: 'error',
        code: 'duplicate-resource',
        resource: key,
        path: '',
        message: 'the same resource appears more than once in one apply',
        location: resource.source,
      });
    }
    seen.add(key);
  }
  if (issues.length > 0) {
    throw new HttpError(
      422,
      'invalid-config',
      `${issues.length} error(s) in the config; nothing was stored`,
      {
        details: { issues },
      },
    );
  }
}

export function conflict(
  ref: { readonly kind: string; readonly namespace: string; readonly name: string },
  actualResourceVersion: string | undefined,
): HttpError {
  return new HttpError(
    409,
    'conflict',
    `${ref.kind}/${ref.namespace}/${ref.name} was changed by someone else (its resourceVersion is ${actualResourceVersion ?? 'absent: it does not exist'}); read it again and retry`,
    { details: { resource: ref, actualResourceVersion: actualResourceVersion ?? null } },
  );
}

function keyOfStored(resource: StoredResource): string {
  return `${resource.kind}/${resource.metadata.namespace}/${resource.metadata.name}`;
}
