import { HttpError, notFound } from '../http/http-error.ts';
import { readTextBody } from '../http/read-body.ts';
import { sendJson } from '../http/respond.ts';
import type { Route, RouteContext } from '../http/router.ts';
import type { AdminDeps } from './admin-deps.ts';
import { applyConfig, conflict } from './apply.ts';
import { canonicalKind } from './kind-names.ts';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Apply, list, get and delete of config resources, and analysis of what is stored. */
export function resourceRoutes(deps: AdminDeps): Route[] {
  return [
    { method: 'POST', path: '/v1/apply', isWrite: true, handle: (context) => apply(context, deps) },
    { method: 'GET', path: '/v1/resources', isWrite: false, handle: (context) => list(context, deps) },
    {
      method: 'GET',
      path: '/v1/resources/{kind}/{namespace}/{name}',
      isWrite: false,
      handle: (context) => get(context, deps),
    },
    {
      method: 'DELETE',
      path: '/v1/resources/{kind}/{namespace}/{name}',
      isWrite: true,
      handle: (context) => remove(context, deps),
    },
    {
      method: 'GET',
      path: '/v1/analyze',
      isWrite: false,
      handle: async ({ response }) => {
        const findings = await deps.analysis.analyze();
        sendJson(response, 200, { mark: await deps.store.mark(), findings });
      },
    },
  ];
}

async function apply({ request, response, url }: RouteContext, deps: AdminDeps): Promise<void> {
  const dryRun = url.searchParams.get('dryRun');
  if (dryRun !== null && dryRun !== 'true' && dryRun !== 'false') {
    throw new HttpError(400, 'bad-request', 'dryRun must be "true" or "false"');
  }
  const format = formatOf(request.headers['content-type']);
  const namespace = url.searchParams.get('namespace') ?? 'default';
  if (!NAMESPACE.test(namespace))
    throw new HttpError(400, 'bad-request', 'namespace must be a DNS-1123 label');
  const text = await readTextBody(request, deps.maxApplyBytes);
  const outcome = await applyConfig(
    { text, format, isDryRun: dryRun === 'true', defaultNamespace: namespace },
    {
      store: deps.store,
      analysis: deps.analysis,
      domainSuffix: deps.domainSuffix,
      maxInputBytes: deps.maxApplyBytes,
    },
  );
  sendJson(response, 200, outcome);
}

/** JSON for `application/json` (and `+json`); YAML for YAML types, `text/plain` or none. */
function formatOf(contentType: string | undefined): 'yaml' | 'json' {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (
    ['', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'].includes(type)
  ) {
    return 'yaml';
  }
  throw new HttpError(
    415,
    'unsupported-media-type',
    `Content-Type ${type} is not accepted; send application/yaml or application/json`,
  );
}

async function list({ response, url }: RouteContext, deps: AdminDeps): Promise<void> {
  const kindParam = url.searchParams.get('kind');
  const kind = kindParam === null || kindParam === '' ? undefined : canonicalKind(kindParam);
  const namespace = url.searchParams.get('namespace') || undefined;
  const { mark, resources } = await deps.store.listResources();
  const items = resources.filter(
    (resource) =>
      (kind === undefined || resource.kind === kind) &&
      (namespace === undefined || resource.metadata.namespace === namespace),
  );
  sendJson(response, 200, { mark, items });
}

async function get({ response, params }: RouteContext, deps: AdminDeps): Promise<void> {
  const ref = refFrom(params);
  const resource = await deps.store.getResource(ref);
  if (resource === undefined) throw notFound(`${ref.kind}/${ref.namespace}/${ref.name} does not exist`);
  sendJson(response, 200, resource);
}

async function remove({ response, params, url }: RouteContext, deps: AdminDeps): Promise<void> {
  const ref = refFrom(params);
  const expected = url.searchParams.get('resourceVersion') ?? undefined;
  const result = await deps.store.deleteResource(ref, expected === '' ? undefined : expected);
  if (!result.ok) throw conflict(result.conflict, result.actualResourceVersion);
  if (!result.existed) throw notFound(`${ref.kind}/${ref.namespace}/${ref.name} does not exist`);
  sendJson(response, 200, { deleted: ref, mark: result.mark });
}

function refFrom(params: Readonly<Record<string, string>>): {
  kind: string;
  namespace: string;
  name: string;
} {
  return {
    kind: canonicalKind(params.kind ?? ''),
    namespace: params.namespace ?? '',
    name: params.name ?? '',
  };
}
