/** The calling side of a request: the workload whose view of the mesh is being compiled. */
export interface SourceWorkload {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount?: string;
}

/** A stable cache key: workloads with the same namespace and labels see the same mesh. */
export function sourceKey(source: SourceWorkload): string {
  const labels = Object.keys(source.labels)
    .sort()
    .map((key) => `${key}=${source.labels[key]}`)
    .join(',');
  return `${source.namespace}|${labels}`;
}
