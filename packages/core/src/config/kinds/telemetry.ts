import { z } from 'zod';
import type { KindDefinition } from '../kind-definition.ts';
import { cappedArray, MAX_LIST_LENGTH, percentValue, positiveDurationMs } from '../schema-primitives.ts';
import { addProblem } from './custom-issue.ts';
import {
  checkTargeting,
  foldTargetRefs,
  policyTargetingFields,
  targetRefDeprecation,
} from './policy-targeting.ts';

/**
 * Telemetry (telemetry.istio.io): tracing, metrics and access-logging overrides for workloads.
 *
 * Normalized output: `metrics[].reportingInterval` is in milliseconds (the field keeps Istio's
 * name); wrapper values (`randomSamplingPercentage`, `disabled`, ...) are plain numbers and booleans,
 * left undefined when absent because absence means "inherit from the parent Telemetry"; every
 * `match.mode` is present (CLIENT_AND_SERVER by default) and a metric match without a metric means
 * ALL_METRICS; custom tags are a tagged union on `type`; tag overrides are a tagged union on
 * `operation`, and an UPSERT `value` says whether it is a CEL string literal Weft can use as is or
 * an expression; the hidden singular `targetRef` is folded into `targetRefs`.
 */

/** A map keyed by tag name. (`__proto__` and friends never get here: the parser refuses them first.) */
function namedMap<V extends z.ZodType>(what: string, value: V) {
  return z.record(z.string(), value).superRefine((map, context) => {
    const keys = Object.keys(map);
    if (keys.length > MAX_LIST_LENGTH) addProblem(context, `at most ${MAX_LIST_LENGTH} ${what} are allowed`);
    if (keys.includes('')) addProblem(context, `${what} names must not be empty: name the tag`, ['']);
  });
}

const WORKLOAD_MODES = ['CLIENT_AND_SERVER', 'CLIENT', 'SERVER'] as const;
const workloadMode = z
  .enum(WORKLOAD_MODES, { error: `mode must be one of ${WORKLOAD_MODES.join(', ')}` })
  .default('CLIENT_AND_SERVER');

export const providerRefSchema = z.strictObject({
  name: z.string().min(1, 'provider name must not be empty: name a provider, or remove the entry'),
});

const requiredText = (what: string) =>
  z.string({ error: `${what} is required` }).min(1, `${what} must not be empty`);

export const customTagSchema = z
  .strictObject({
    literal: z.strictObject({ value: requiredText('literal.value') }).optional(),
    environment: z
      .strictObject({ name: requiredText('environment.name'), defaultValue: z.string().optional() })
      .optional(),
    header: z
      .strictObject({ name: requiredText('header.name'), defaultValue: z.string().optional() })
      .optional(),
    formatter: z.strictObject({ value: requiredText('formatter.value') }).optional(),
  })
  .transform((tag, context) => {
    const set = (['literal', 'environment', 'header', 'formatter'] as const).filter(
      (type) => tag[type] !== undefined,
    );
    if (set.length !== 1) {
      addProblem(
        context,
        `a custom tag needs exactly one of literal, environment, header and formatter (found ${set.length === 0 ? 'none' : set.join(', ')})`,
      );
      return z.NEVER;
    }
    if (tag.literal) return { type: 'literal' as const, value: tag.literal.value };
    if (tag.environment) return { type: 'environment' as const, ...tag.environment };
    if (tag.header) return { type: 'header' as const, ...tag.header, name: tag.header.name.toLowerCase() };
    return { type: 'formatter' as const, value: tag.formatter?.value ?? '' };
  });

export const tracingSchema = z.strictObject({
  match: z.strictObject({ mode: workloadMode }).optional(),
  providers: cappedArray(providerRefSchema).optional(),
  randomSamplingPercentage: percentValue.optional(),
  disableSpanReporting: z.boolean().optional(),
  customTags: namedMap('custom tags', customTagSchema).optional(),
  useRequestIdForTraceSampling: z.boolean().optional(),
  enableIstioTags: z.boolean().optional(),
  disableContextPropagation: z.boolean().optional(),
});

const ISTIO_METRICS = [
  'ALL_METRICS',
  'REQUEST_COUNT',
  'REQUEST_DURATION',
  'REQUEST_SIZE',
  'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS',
  'TCP_CLOSED_CONNECTIONS',
  'TCP_SENT_BYTES',
  'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES',
  'GRPC_RESPONSE_MESSAGES',
] as const;

export const metricSelectorSchema = z
  .strictObject({
    metric: z
      .enum(ISTIO_METRICS, {
        error: `metric must be one of Istio's standard metrics (${ISTIO_METRICS.join(', ')}); use customMetric for others`,
      })
      .optional(),
    customMetric: z
      .string()
      .min(1, 'customMetric must not be empty: name the metric or remove the field')
      .optional(),
    mode: workloadMode,
  })
  .superRefine((selector, context) => {
    if (selector.metric !== undefined && selector.customMetric !== undefined) {
      addProblem(context, 'set only one of metric and customMetric', ['customMetric']);
    }
  })
  .transform((selector) =>
    selector.customMetric === undefined
      ? { ...selector, metric: selector.metric ?? 'ALL_METRICS' }
      : selector,
  );

/** A CEL string literal without escapes, `'v1'` or `"v1"`: the only tag value Weft can compute. */
const CEL_STRING_LITERAL = /^(?:'([^'\\]*)'|"([^"\\]*)")$/;

export type TagValue =
  | { readonly type: 'literal'; readonly value: string }
  /** A CEL expression over request attributes; Weft does not evaluate CEL. */
  | { readonly type: 'expression'; readonly expression: string };

function toTagValue(text: string): TagValue {
  const literal = CEL_STRING_LITERAL.exec(text.trim());
  if (literal === null) return { type: 'expression', expression: text };
  return { type: 'literal', value: literal[1] ?? literal[2] ?? '' };
}

export const tagOverrideSchema = z
  .strictObject({
    operation: z
      .enum(['UPSERT', 'REMOVE'], { error: 'operation must be UPSERT or REMOVE' })
      .default('UPSERT'),
    value: z.string().optional(),
  })
  .transform((override, context) => {
    if (override.operation === 'REMOVE') {
      if (override.value !== undefined) {
        addProblem(
          context,
          'value must not be set when operation is REMOVE: remove the value or use UPSERT',
          ['value'],
        );
        return z.NEVER;
      }
      return { operation: 'REMOVE' as const };
    }
    if (override.value === undefined || override.value === '') {
      addProblem(
        context,
        'value is required when operation is UPSERT (the default): give a CEL expression, e.g. "\'v1\'" or ' +
          '"request.host", or use operation REMOVE',
        ['value'],
      );
      return z.NEVER;
    }
    return { operation: 'UPSERT' as const, value: toTagValue(override.value) };
  });

export const metricsOverridesSchema = z.strictObject({
  match: metricSelectorSchema.optional(),
  disabled: z.boolean().optional(),
  tagOverrides: namedMap('tag overrides', tagOverrideSchema).optional(),
});

export const metricsSchema = z.strictObject({
  providers: cappedArray(providerRefSchema).optional(),
  overrides: cappedArray(metricsOverridesSchema).optional(),
  reportingInterval: positiveDurationMs.optional(),
});

export const accessLoggingSchema = z.strictObject({
  match: z.strictObject({ mode: workloadMode }).optional(),
  providers: cappedArray(providerRefSchema).optional(),
  disabled: z.boolean().optional(),
  filter: z.strictObject({ expression: z.string() }).optional(),
});

export const telemetrySpecSchema = z
  .strictObject({
    ...policyTargetingFields,
    tracing: cappedArray(tracingSchema).optional(),
    metrics: cappedArray(metricsSchema).optional(),
    accessLogging: cappedArray(accessLoggingSchema).optional(),
  })
  .superRefine(checkTargeting)
  .transform(foldTargetRefs);

export type TelemetrySpec = z.output<typeof telemetrySpecSchema>;

const PROVIDERS_REASON =
  'Weft exports through the OpenTelemetry API that the application configures, so provider names are not used';

export const telemetryKind: KindDefinition<TelemetrySpec> = {
  kind: 'Telemetry',
  group: 'telemetry.istio.io',
  versions: ['v1', 'v1alpha1'],
  isSecurity: false,
  specSchema: telemetrySpecSchema,
  unsupportedFields: [
    { path: 'tracing[].providers', reason: PROVIDERS_REASON },
    { path: 'metrics[].providers', reason: PROVIDERS_REASON },
    { path: 'accessLogging[].providers', reason: PROVIDERS_REASON },
    {
      path: 'accessLogging[].filter',
      reason: 'the filter is a CEL expression and Weft does not evaluate CEL, so the filter is ignored',
    },
    {
      path: 'tracing[].customTags{}.formatter',
      reason: 'formatter values are Envoy access-log command operators, which Weft does not have',
    },
    {
      path: 'tracing[].useRequestIdForTraceSampling',
      reason: "it tunes sampling on Envoy's x-request-id; Weft leaves sampling to the OpenTelemetry SDK",
    },
  ],
  deprecatedFields: [targetRefDeprecation],
};
