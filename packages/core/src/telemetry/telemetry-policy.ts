import { labelsMatch } from '../config/compile/visibility.ts';
import type { TelemetrySpec } from '../config/kinds/telemetry.ts';
import { resourceKey } from '../config/resource.ts';
import type { TelemetryResource } from '../config/resources.ts';
import { ISTIO_METRICS, type IstioMetric } from './istio-metrics.ts';
import { type CompiledTagValue, compileTagValue } from './tag-value.ts';

/** The side of a request a policy part is for: Istio's CLIENT (outbound) and SERVER (inbound). */
export type TelemetryMode = 'client' | 'server';

/** A span tag from Telemetry `customTags`; environment tags are read once, when compiled. */
export type CustomTag =
  | { readonly name: string; readonly kind: 'literal'; readonly value: string }
  | {
      readonly name: string;
      readonly kind: 'header';
      readonly header: string;
      readonly defaultValue?: string;
    };

export interface TracingPolicy {
  /** Istio's randomSamplingPercentage; undefined leaves sampling to the SDK's sampler. */
  readonly samplingPercentage: number | undefined;
  readonly customTags: readonly CustomTag[];
  /** No spans are made; trace context is still propagated (Istio's disableSpanReporting). */
  readonly isSpanReportingDisabled: boolean;
  readonly isContextPropagationDisabled: boolean;
}

export type TagOperation =
  | { readonly tag: string; readonly kind: 'upsert'; readonly value: CompiledTagValue }
  | { readonly tag: string; readonly kind: 'remove' };

export interface MetricPolicy {
  readonly isDisabled: boolean;
  /** At most one operation per tag, in the order the overrides gave them. */
  readonly tagOperations: readonly TagOperation[];
}

/** Something in a Telemetry resource that Weft does not apply, said once per snapshot. */
export interface TelemetryPolicyIssue {
  readonly resource: string;
  readonly path: string;
  readonly message: string;
}

/** The Telemetry resources in force for one workload, merged as Istio merges them. */
export interface TelemetryPolicy {
  /** The resources that contributed, mesh level first. */
  readonly sources: readonly string[];
  readonly tracing: Readonly<Record<TelemetryMode, TracingPolicy>>;
  readonly metrics: Readonly<Record<TelemetryMode, Readonly<Record<IstioMetric, MetricPolicy>>>>;
  readonly accessLog: Readonly<Record<TelemetryMode, boolean>>;
  readonly issues: readonly TelemetryPolicyIssue[];
}

export interface TelemetryPolicyContext {
  /** The workload whose telemetry this is. */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly rootNamespace: string;
  /** Reads the process environment, for `environment` custom tags. */
  readonly environment: (name: string) => string | undefined;
  /** Whether access logs are on where no Telemetry says (Istio's meshConfig.accessLogFile). */
  readonly isAccessLogDefault: boolean;
}

const MODES: readonly TelemetryMode[] = ['client', 'server'];
const MODE_NAMES: Readonly<Record<TelemetryMode, string>> = { client: 'CLIENT', server: 'SERVER' };

/**
 * Merges the Telemetry resources that apply to a workload (see `appliesTo`), provider-less, as
 * Istio does: the root namespace's resource, then the namespace's, then the workload's
 * (selector or targetRefs). Tracing and access-logging fields set at a more specific level
 * replace the parent's (customTags as a whole); metric overrides accumulate, parent first, so a
 * later override of the same metric wins. At each level the oldest resource counts; Istio calls
 * several at one level invalid, and Weft reports the others as issues.
 */
export function resolveTelemetryPolicy(
  resources: readonly TelemetryResource[],
  context: TelemetryPolicyContext,
): TelemetryPolicy {
  const issues: TelemetryPolicyIssue[] = [];
  const levels = pickLevels(resources, context, issues);
  const tracing = {} as Record<TelemetryMode, TracingPolicy>;
  const metrics = {} as Record<TelemetryMode, Record<IstioMetric, MetricPolicy>>;
  const accessLog = {} as Record<TelemetryMode, boolean>;
  for (const mode of MODES) {
    tracing[mode] = mergeTracing(levels, mode, context);
    metrics[mode] = mergeMetrics(levels, mode, issues);
    accessLog[mode] = mergeAccessLog(levels, mode, context.isAccessLogDefault);
  }
  return {
    sources: levels.map(resourceKey),
    tracing,
    metrics,
    accessLog,
    issues: dedupe(issues),
  };
}

/** Mesh, namespace and workload level, each the oldest resource of its level. */
function pickLevels(
  resources: readonly TelemetryResource[],
  context: TelemetryPolicyContext,
  issues: TelemetryPolicyIssue[],
): TelemetryResource[] {
  const isScoped = (resource: TelemetryResource) =>
    resource.spec.selector !== undefined || (resource.spec.targetRefs?.length ?? 0) > 0;
  const mesh = resources.filter(
    (resource) => resource.metadata.namespace === context.rootNamespace && !isScoped(resource),
  );
  const namespace = resources.filter(
    (resource) =>
      resource.metadata.namespace === context.namespace &&
      resource.metadata.namespace !== context.rootNamespace &&
      !isScoped(resource),
  );
  const workload = resources.filter(
    (resource) =>
      resource.metadata.namespace === context.namespace &&
      isScoped(resource) &&
      (resource.spec.selector === undefined ||
        labelsMatch(resource.spec.selector.matchLabels, context.labels)),
  );
  const chosen: TelemetryResource[] = [];
  for (const [level, candidates] of [
    ['mesh', mesh],
    ['namespace', namespace],
    ['workload', workload],
  ] as const) {
    const [first, ...ignored] = candidates;
    if (first === undefined) continue;
    chosen.push(first);
    for (const resource of ignored) {
      issues.push({
        resource: resourceKey(resource),
        path: 'spec',
        message: `ignored: ${resourceKey(first)} already configures this ${level} level (Istio allows one Telemetry per level; the oldest wins)`,
      });
    }
  }
  return chosen;
}

type TracingSpec = NonNullable<TelemetrySpec['tracing']>[number];
type MetricsSpec = NonNullable<TelemetrySpec['metrics']>[number];

function appliesToMode(match: { readonly mode: string } | undefined, mode: TelemetryMode): boolean {
  const declared = match?.mode ?? 'CLIENT_AND_SERVER';
  return declared === 'CLIENT_AND_SERVER' || declared === MODE_NAMES[mode];
}

function mergeTracing(
  levels: readonly TelemetryResource[],
  mode: TelemetryMode,
  context: TelemetryPolicyContext,
): TracingPolicy {
  let samplingPercentage: number | undefined;
  let customTags: readonly CustomTag[] = [];
  let isSpanReportingDisabled = false;
  let isContextPropagationDisabled = false;
  for (const resource of levels) {
    for (const entry of resource.spec.tracing ?? []) {
      if (!appliesToMode(entry.match, mode)) continue;
      if (entry.randomSamplingPercentage !== undefined) samplingPercentage = entry.randomSamplingPercentage;
      if (entry.disableSpanReporting !== undefined) isSpanReportingDisabled = entry.disableSpanReporting;
      if (entry.disableContextPropagation !== undefined)
        isContextPropagationDisabled = entry.disableContextPropagation;
      if (entry.customTags !== undefined) customTags = compileCustomTags(entry.customTags, context);
    }
  }
  return { samplingPercentage, customTags, isSpanReportingDisabled, isContextPropagationDisabled };
}

function compileCustomTags(
  tags: NonNullable<TracingSpec['customTags']>,
  context: TelemetryPolicyContext,
): CustomTag[] {
  const compiled: CustomTag[] = [];
  for (const [name, tag] of Object.entries(tags)) {
    switch (tag.type) {
      case 'literal':
        compiled.push({ name, kind: 'literal', value: tag.value });
        break;
      case 'environment': {
        // Envoy reads the environment once, at configuration time; a tag with neither a value
        // nor a default is left off the span.
        const value = context.environment(tag.name) ?? tag.defaultValue;
        if (value !== undefined) compiled.push({ name, kind: 'literal', value });
        break;
      }
      case 'header':
        compiled.push({
          name,
          kind: 'header',
          header: tag.name,
          ...(tag.defaultValue === undefined ? {} : { defaultValue: tag.defaultValue }),
        });
        break;
      // `formatter` is reported unsupported by the parser and has no effect.
    }
  }
  return compiled;
}

function mergeMetrics(
  levels: readonly TelemetryResource[],
  mode: TelemetryMode,
  issues: TelemetryPolicyIssue[],
): Record<IstioMetric, MetricPolicy> {
  const disabled = new Map<IstioMetric, boolean>();
  const operations = new Map<IstioMetric, Map<string, TagOperation>>();
  for (const resource of levels) {
    (resource.spec.metrics ?? []).forEach((entry: MetricsSpec, entryIndex) => {
      (entry.overrides ?? []).forEach((override, overrideIndex) => {
        const path = `spec.metrics[${entryIndex}].overrides[${overrideIndex}]`;
        const match = override.match;
        if (!appliesToMode(match, mode)) return;
        if (match?.customMetric !== undefined) {
          issues.push({
            resource: resourceKey(resource),
            path: `${path}.match.customMetric`,
            message: `Weft produces no metric "${match.customMetric}"; the override has no effect`,
          });
          return;
        }
        const selected = selectMetrics(match?.metric ?? 'ALL_METRICS');
        for (const metric of selected) {
          disabled.set(metric, override.disabled ?? false);
          let tags = operations.get(metric);
          for (const [tag, operation] of Object.entries(override.tagOverrides ?? {})) {
            const compiled = compileOperation(tag, operation, issues, resourceKey(resource), path);
            if (compiled === undefined) continue;
            tags ??= new Map();
            // A later override of the same tag replaces the earlier one, wherever it came from.
            tags.delete(tag);
            tags.set(tag, compiled);
          }
          if (tags !== undefined) operations.set(metric, tags);
        }
      });
    });
  }
  const result = {} as Record<IstioMetric, MetricPolicy>;
  for (const metric of ISTIO_METRICS) {
    result[metric] = {
      isDisabled: disabled.get(metric) ?? false,
      tagOperations: [...(operations.get(metric)?.values() ?? [])],
    };
  }
  return result;
}

/** The request metrics an Istio metric selector names; TCP and gRPC message metrics are not made. */
function selectMetrics(selector: string): readonly IstioMetric[] {
  if (selector === 'ALL_METRICS') return ISTIO_METRICS;
  return (ISTIO_METRICS as readonly string[]).includes(selector) ? [selector as IstioMetric] : [];
}

type TagOverrideSpec = NonNullable<NonNullable<MetricsSpec['overrides']>[number]['tagOverrides']>[string];

function compileOperation(
  tag: string,
  operation: TagOverrideSpec,
  issues: TelemetryPolicyIssue[],
  resource: string,
  path: string,
): TagOperation | undefined {
  if (operation.operation === 'REMOVE') return { tag, kind: 'remove' };
  const compiled = compileTagValue(operation.value);
  if (compiled.isSupported) return { tag, kind: 'upsert', value: compiled.value };
  issues.push({
    resource,
    path: `${path}.tagOverrides.${tag}.value`,
    message: `${compiled.reason}; the override of "${tag}" is not applied`,
  });
  return undefined;
}

function mergeAccessLog(
  levels: readonly TelemetryResource[],
  mode: TelemetryMode,
  isDefault: boolean,
): boolean {
  let isEnabled = isDefault;
  for (const resource of levels) {
    for (const entry of resource.spec.accessLogging ?? []) {
      if (!appliesToMode(entry.match, mode)) continue;
      isEnabled = entry.disabled !== true;
    }
  }
  return isEnabled;
}

/** An issue found for both modes is one issue. */
function dedupe(issues: readonly TelemetryPolicyIssue[]): TelemetryPolicyIssue[] {
  const seen = new Map<string, TelemetryPolicyIssue>();
  for (const issue of issues) seen.set(`${issue.resource}|${issue.path}|${issue.message}`, issue);
  return [...seen.values()];
}
