/**
 * Which endpoints can take mTLS with a workload identity. Istio cannot know whether a pod has a
 * sidecar from its address, so the sidecar injector labels the pods it injects, and auto-mTLS sends
 * mTLS only to endpoints carrying `security.istio.io/tlsMode: istio`. Weft uses the same label for
 * the same reason: a workload that registers without an identity (not migrated yet) serves
 * plaintext, and sending it mTLS would break it. The agent client adds the label to the
 * registration of a workload that has an identity; WorkloadEntries and statically declared
 * workloads carry it as in Istio.
 */

export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/** The label's value for an endpoint that speaks Istio mTLS (`disabled` is the other one Istio writes). */
export const MESH_TLS_MODE = 'istio';

export function isMeshTlsEndpoint(labels: Readonly<Record<string, string>>): boolean {
  return labels[TLS_MODE_LABEL] === MESH_TLS_MODE;
}

/**
 * A workload's labels with the mTLS marker added, for its registration. A label the workload set
 * itself wins, so `security.istio.io/tlsMode: disabled` keeps callers on plaintext (a workload
 * whose server does not accept mTLS yet).
 */
export function withMeshTlsLabel<T extends { readonly labels: Readonly<Record<string, string>> }>(
  workload: T,
): T {
  if (workload.labels[TLS_MODE_LABEL] !== undefined) return workload;
  return { ...workload, labels: { ...workload.labels, [TLS_MODE_LABEL]: MESH_TLS_MODE } };
}
