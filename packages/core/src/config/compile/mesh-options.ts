import type { ExtensionProvider } from '../../security/authz/external/extension-provider.ts';
import {
  DEFAULT_PATH_NORMALIZATION,
  type PathNormalization,
} from '../../security/request-path/path-normalization.ts';
import { DEFAULT_DOMAIN_SUFFIX } from '../host.ts';

/** Mesh-wide settings, Istio's MeshConfig equivalents that compile() needs. */
export interface MeshOptions {
  /** Namespace whose selector-less policies apply mesh-wide (Istio: `istio-system`). */
  readonly rootNamespace: string;
  readonly domainSuffix: string;
  /** `exportTo` of resources that set none; Istio's default is everywhere (`*`). */
  readonly defaultExportTo: readonly string[];
  /** What happens to calls to hosts the mesh does not know, unless a Sidecar says otherwise. */
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /**
   * Who a VirtualService in one namespace affects when it claims a host owned by another (a
   * service or ServiceEntry of that namespace). `caller-namespace-only` (the default) applies it
   * to callers in its own namespace only, so one team cannot redirect another team's traffic
   * (bad-inputs A17); `mesh-wide` is Istio's behaviour, bounded only by `exportTo`.
   */
  readonly crossNamespaceHostClaims: 'caller-namespace-only' | 'mesh-wide';
  /**
   * How inbound request paths are normalized before authorization and before the application sees
   * them (Istio's MeshConfig `pathNormalization`; BASE by default, as Istio). See
   * security/request-path/path-normalization.ts.
   */
  readonly pathNormalization: PathNormalization;
  /**
   * Istio's MeshConfig `extensionProviders`: the external authorizers (`envoyExtAuthzHttp`) that
   * CUSTOM AuthorizationPolicies name. Validated when a workload's policies are compiled; a CUSTOM
   * policy naming an invalid or missing provider denies what it matches.
   */
  readonly extensionProviders: readonly ExtensionProvider[];
}

export const DEFAULT_MESH_OPTIONS: MeshOptions = Object.freeze({
  rootNamespace: 'istio-system',
  domainSuffix: DEFAULT_DOMAIN_SUFFIX,
  defaultExportTo: Object.freeze(['*']),
  outboundTrafficPolicy: 'ALLOW_ANY',
  crossNamespaceHostClaims: 'caller-namespace-only',
  pathNormalization: DEFAULT_PATH_NORMALIZATION,
  extensionProviders: Object.freeze([]),
});
