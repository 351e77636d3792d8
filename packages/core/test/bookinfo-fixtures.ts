import { readFileSync } from 'node:fs';
import type { RegisteredWorkload, Resource, SourceWorkload } from '../src/index.ts';
import { parseConfig } from '../src/index.ts';

/** Istio's Bookinfo YAMLs, unmodified, from the shared reference folder. */
export const BOOKINFO_DIRECTORY = new URL('../../../examples/bookinfo/istio/', import.meta.url);

export function readBookinfo(file: string): string {
  return readFileSync(new URL(file, BOOKINFO_DIRECTORY), 'utf8');
}

/** Parses Bookinfo files and fails the test on any error-level issue. */
export function loadBookinfo(...files: string[]): Resource[] {
  const resources: Resource[] = [];
  for (const file of files) {
    const parsed = parseConfig(readBookinfo(file), { file });
    const errors = parsed.issues.filter((issue) => issue.severity === 'error');
    if (errors.length > 0) throw new Error(`${file}: ${errors.map((issue) => issue.message).join('; ')}`);
    resources.push(...parsed.resources);
  }
  return resources;
}

/** The Bookinfo deployments as registered workloads, each on its own loopback port. */
export const BOOKINFO_WORKLOADS: readonly RegisteredWorkload[] = [
  ['details', 'v1', 19001],
  ['ratings', 'v1', 19002],
  ['reviews', 'v1', 19003],
  ['reviews', 'v2', 19004],
  ['reviews', 'v3', 19005],
  ['productpage', 'v1', 19006],
].map(([service, version, port]) => ({
  name: `${service}-${version}`,
  namespace: 'default',
  service: String(service),
  serviceAccount: `bookinfo-${service}`,
  labels: { app: String(service), version: String(version) },
  address: '127.0.0.1',
  ports: { 9080: Number(port) },
}));

export const PRODUCTPAGE: SourceWorkload = {
  namespace: 'default',
  labels: { app: 'productpage', version: 'v1' },
};
export const REVIEWS_V2: SourceWorkload = { namespace: 'default', labels: { app: 'reviews', version: 'v2' } };

/** A request as routing sees it. */
export function request(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return {
    path,
    method,
    authority: 'reviews:9080',
    scheme: 'http',
    port: 9080,
    header: (name: string) => headers[name],
  };
}
