/**
 * `exportTo`: whether a resource in `ownerNamespace` is visible to a workload in
 * `viewerNamespace`. `.` is the owner's namespace, `*` every namespace, `~` none.
 */
export function isExportedTo(
  exportTo: readonly string[] | undefined,
  ownerNamespace: string,
  viewerNamespace: string,
  defaultExportTo: readonly string[],
): boolean {
  const targets = exportTo === undefined || exportTo.length === 0 ? defaultExportTo : exportTo;
  for (const target of targets) {
    if (target === '*') return true;
    if (target === '~') continue;
    if (target === '.' ? ownerNamespace === viewerNamespace : target === viewerNamespace) return true;
  }
  return false;
}

/** Whether every label of `selector` is on `labels` (an empty selector selects everything). */
export function labelsMatch(
  selector: Readonly<Record<string, string>> | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined) return true;
  for (const key in selector) {
    if (labels[key] !== selector[key]) return false;
  }
  return true;
}
