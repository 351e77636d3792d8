import { resourceKey } from '../resource.ts';
import type {
  AuthorizationPolicyResource,
  PeerAuthenticationResource,
  RequestAuthenticationResource,
  TelemetryResource,
} from '../resources.ts';
import type { MeshIndex } from './mesh-index.ts';
import { labelsMatch } from './visibility.ts';

/** The workload that receives requests, as inbound policy selection needs it. */
export interface DestinationWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The service it serves (short name), for policies that target a Service by `targetRef`. */
  readonly service?: string;
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** The mTLS mode in force for a workload, and per port where `portLevelMtls` says otherwise. */
export interface EffectivePeerAuthentication {
  readonly mode: MtlsMode;
  readonly portModes: ReadonlyMap<number, MtlsMode>;
  /** Mesh, namespace and workload policies that contributed, outermost first. */
  readonly sources: readonly string[];
  modeForPort(port: number): MtlsMode;
}

/** Istio's default when no PeerAuthentication says anything: accept both, for migration. */
const MESH_DEFAULT_MODE: MtlsMode = 'PERMISSIVE';

/**
 * PeerAuthentication, resolved as Istio does: the root namespace's selector-less policy (mesh),
 * then the workload namespace's selector-less one, then the oldest policy whose selector matches
 * the workload; each level's UNSET inherits from the one above, and `portLevelMtls` applies
 * only on a selector policy. Where several compete at one level, the oldest wins.
 */
export function resolvePeerAuthentication(
  policies: readonly PeerAuthenticationResource[],
  workload: DestinationWorkload,
  rootNamespace: string,
): EffectivePeerAuthentication {
  const mesh = policies.find(
    (policy) => policy.metadata.namespace === rootNamespace && policy.spec.selector === undefined,
  );
  const namespace = policies.find(
    (policy) =>
      policy.metadata.namespace === workload.namespace &&
      policy.spec.selector === undefined &&
      policy !== mesh,
  );
  const selected = policies.find(
    (policy) =>
      policy.metadata.namespace === workload.namespace &&
      policy.spec.selector !== undefined &&
      labelsMatch(policy.spec.selector.matchLabels, workload.labels),
  );
  let mode: MtlsMode = MESH_DEFAULT_MODE;
  const sources: string[] = [];
  for (const policy of [mesh, namespace, selected]) {
    if (policy === undefined) continue;
    sources.push(resourceKey(policy));
    const declared = policy.spec.mtls?.mode;
    if (declared !== undefined && declared !== 'UNSET') mode = declared;
  }
  const portModes = new Map<number, MtlsMode>();
  for (const [port, setting] of Object.entries(selected?.spec.portLevelMtls ?? {})) {
    const declared = setting.mode;
    portModes.set(Number(port), declared === undefined || declared === 'UNSET' ? mode : declared);
  }
  const workloadMode = mode;
  return { mode, portModes, sources, modeForPort: (port) => portModes.get(port) ?? workloadMode };
}

/** A selector- or targetRef-scoped policy: does it apply to this workload? */
interface ScopedPolicy {
  readonly metadata: { readonly namespace: string };
  readonly spec: {
    readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> };
    readonly targetRef?: { readonly kind: string; readonly name: string };
    readonly targetRefs?: readonly { readonly kind: string; readonly name: string }[];
  };
}

/**
 * Istio's scoping for AuthorizationPolicy, RequestAuthentication and Telemetry: a policy in the
 * root namespace without selector applies mesh-wide; one in the workload's namespace applies
 * when it has no selector, when its selector matches, or when a targetRef names the workload's
 * Service. For authorization and request authentication, a root-namespace policy with a
 * selector applies to matching workloads in every namespace (`selectorsReachAcrossMesh`), as
 * Istio's AuthorizationPolicy reference says.
 */
export function appliesTo(
  policy: ScopedPolicy,
  workload: DestinationWorkload,
  rootNamespace: string,
  selectorsReachAcrossMesh = false,
): boolean {
  const { spec, metadata } = policy;
  const targets = [...(spec.targetRef === undefined ? [] : [spec.targetRef]), ...(spec.targetRefs ?? [])];
  const inRoot = metadata.namespace === rootNamespace;
  if (inRoot && spec.selector === undefined && targets.length === 0) return true;
  if (inRoot && selectorsReachAcrossMesh && spec.selector !== undefined && targets.length === 0) {
    return labelsMatch(spec.selector.matchLabels, workload.labels);
  }
  if (metadata.namespace !== workload.namespace) return false;
  if (targets.length > 0) {
    return targets.some((target) => target.kind === 'Service' && target.name === workload.service);
  }
  return spec.selector === undefined || labelsMatch(spec.selector.matchLabels, workload.labels);
}

/** The authorization policies for a workload, split by action in evaluation order. */
export interface WorkloadAuthorization {
  readonly custom: readonly AuthorizationPolicyResource[];
  readonly deny: readonly AuthorizationPolicyResource[];
  readonly allow: readonly AuthorizationPolicyResource[];
  readonly audit: readonly AuthorizationPolicyResource[];
}

/** Everything inbound that applies to one workload, resolved once per snapshot. */
export interface InboundPolicies {
  readonly peerAuthentication: EffectivePeerAuthentication;
  readonly requestAuthentications: readonly RequestAuthenticationResource[];
  readonly authorization: WorkloadAuthorization;
  readonly telemetry: readonly TelemetryResource[];
}

const KNOWN_ACTIONS: ReadonlySet<string> = new Set(['CUSTOM', 'DENY', 'ALLOW', 'AUDIT']);

export function resolveInboundPolicies(index: MeshIndex, workload: DestinationWorkload): InboundPolicies {
  const { resources, options } = index;
  const root = options.rootNamespace;
  const authorization = resources.AuthorizationPolicy.filter((policy) =>
    appliesTo(policy, workload, root, true),
  );
  const byAction = (action: string) =>
    authorization.filter((policy) => (policy.spec.action ?? 'ALLOW') === action);
  // An action this version does not know (a resource from a newer agent) must not vanish: it goes
  // with the DENY policies, and the authorization engine denies every request for it (fail closed).
  const isUnknownAction = (policy: AuthorizationPolicyResource) =>
    !KNOWN_ACTIONS.has(policy.spec.action ?? 'ALLOW');
  return {
    peerAuthentication: resolvePeerAuthentication(resources.PeerAuthentication, workload, root),
    requestAuthentications: resources.RequestAuthentication.filter((policy) =>
      appliesTo(policy, workload, root),
    ),
    authorization: {
      custom: byAction('CUSTOM'),
      deny: [...byAction('DENY'), ...authorization.filter(isUnknownAction)],
      allow: byAction('ALLOW'),
      audit: byAction('AUDIT'),
    },
    telemetry: resources.Telemetry.filter((policy) => appliesTo(policy, workload, root)),
  };
}
