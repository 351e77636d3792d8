import { z } from 'zod';
import type { DeprecatedField } from '../kind-definition.ts';
import { cappedArray, workloadSelector } from '../schema-primitives.ts';
import { addProblem, type RefinementContext } from './custom-issue.ts';

/**
 * How AuthorizationPolicy, RequestAuthentication and Telemetry pick what they apply to: a workload
 * `selector`, or `targetRefs` naming a Service, ServiceEntry, Gateway or GatewayClass. Istio still
 * accepts the hidden singular `targetRef`; Weft checks it like a `targetRefs` entry and then folds
 * it into `targetRefs`, so consumers read one list.
 */

/** Istio's `targetRef` / `targetRefs` entry (PolicyTargetReference). */
export const policyTargetReference = z.strictObject({
  group: z.string().optional(),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
});
export type TargetReference = z.output<typeof policyTargetReference>;

/** The targeting fields, to spread first into a policy's spec object. */
export const policyTargetingFields = {
  selector: workloadSelector.optional(),
  targetRef: policyTargetReference.optional(),
  targetRefs: cappedArray(policyTargetReference, 16).optional(),
};

interface PolicyTargeting {
  readonly selector?: unknown;
  readonly targetRef?: TargetReference;
  readonly targetRefs?: TargetReference[];
}

const ATTACHABLE_TARGETS = new Set([
  'core/Service',
  'networking.istio.io/ServiceEntry',
  'gateway.networking.k8s.io/Gateway',
  'gateway.networking.k8s.io/GatewayClass',
]);

/** Istio's validateOneOfSelectorType and validatePolicyTargetReference. */
export function checkTargeting(spec: PolicyTargeting, context: RefinementContext): void {
  const setFields = [
    spec.selector !== undefined ? 'selector' : undefined,
    spec.targetRef !== undefined ? 'targetRef' : undefined,
    (spec.targetRefs?.length ?? 0) > 0 ? 'targetRefs' : undefined,
  ].filter((field) => field !== undefined);
  if (setFields.length > 1) {
    addProblem(
      context,
      `only one of selector and targetRefs may be set (found ${setFields.join(' and ')}): keep one of them`,
      [setFields[1] ?? 'targetRefs'],
    );
  }
  const references: [readonly PropertyKey[], TargetReference][] = [
    ...(spec.targetRef === undefined
      ? []
      : [[['targetRef'], spec.targetRef] as [PropertyKey[], TargetReference]]),
    ...(spec.targetRefs ?? []).map(
      (ref, index) => [['targetRefs', index], ref] as [PropertyKey[], TargetReference],
    ),
  ];
  for (const [path, ref] of references) {
    if (ref.namespace !== undefined && ref.namespace !== '') {
      addProblem(context, 'namespace must not be set: cross-namespace targets are not supported', [
        ...path,
        'namespace',
      ]);
    }
    if (!ATTACHABLE_TARGETS.has(`${ref.group || 'core'}/${ref.kind}`)) {
      addProblem(
        context,
        `cannot attach to ${ref.group ?? ''}/${ref.kind}: target a Service, a ServiceEntry ` +
          '(networking.istio.io), a Gateway or a GatewayClass (gateway.networking.k8s.io)',
        [...path, 'kind'],
      );
    }
  }
}

/** The kind definition's note on `targetRef`, reported when a resource uses it. */
export const targetRefDeprecation: DeprecatedField = {
  path: 'targetRef',
  replacement: 'targetRefs',
  reason: 'Istio hides the single targetRef in favour of the targetRefs list; it is appended to targetRefs',
};

/** Drops `targetRef` and appends it to `targetRefs` (present only when either was given). */
export function foldTargetRefs<T extends PolicyTargeting>({ targetRef, targetRefs, ...spec }: T) {
  return {
    ...spec,
    ...(targetRef === undefined && targetRefs === undefined
      ? {}
      : { targetRefs: [...(targetRefs ?? []), ...(targetRef ? [targetRef] : [])] }),
  };
}
