import type { Cluster } from '../config/compile/cluster.ts';
import type { SourceWorkload } from '../config/compile/source-workload.ts';
import { labelsMatch } from '../config/compile/visibility.ts';
import { type HttpRouteSpec, MESH_GATEWAY, type WorkloadView } from '../config/compile/workload-view.ts';
import type { StringMatch } from '../config/schema-primitives.ts';
import { compileHttpMatch, type HttpMatchConditions } from '../routing/http-match.ts';
import type { RetryPolicy } from '../routing/retry-policy.ts';
import { pathOnly, queryParameter, type RouteRequest } from '../routing/route-request.ts';
import type { CompiledRoute } from '../routing/route-table.ts';

/** The request /debug/route is asked about. */
export interface RouteQuestion {
  /** As the caller would write it: `reviews`, `reviews.default`, or a FQDN; no port. */
  readonly host: string;
  readonly port: number;
  /** Path, possibly with a query string. */
  readonly path: string;
  readonly method: string;
  readonly scheme: string;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
}

/** One condition of a match block: what it wanted, what the request had, whether it held. */
export interface ConditionVerdict {
  readonly field: string;
  readonly wants: unknown;
  readonly got: string | number | null;
  readonly isMatched: boolean;
}

export interface BlockVerdict {
  readonly index: number;
  readonly name?: string;
  /** Why the block can never apply to this workload (gateways, port, source), if so. */
  readonly notForThisWorkload?: string;
  readonly conditions: readonly ConditionVerdict[];
  readonly isMatched: boolean;
}

export interface RouteVerdict {
  readonly name: string;
  /** The VirtualService it came from, or `default`. */
  readonly source: string;
  readonly isMatched: boolean;
  /** No match blocks: the route takes every request that reaches it. */
  readonly isCatchAll: boolean;
  readonly blocks: readonly BlockVerdict[];
}

export interface RouteExplanation {
  readonly request: RouteQuestion;
  /** The mesh host the name resolves to for this workload; null when the mesh does not know it. */
  readonly resolvedHost: string | null;
  readonly outcome:
    | 'routed'
    | 'no-route'
    | 'redirect'
    | 'direct-response'
    | 'passthrough'
    | 'refused-registry-only';
  /** One sentence saying what happens to the request, and why. */
  readonly summary: string;
  /** Routes tried in order, up to and including the one that matched. */
  readonly evaluated: readonly RouteVerdict[];
  readonly route?: {
    readonly name: string;
    readonly source: string;
    readonly destinations: readonly {
      readonly cluster: string;
      readonly host: string;
      readonly port: number;
      readonly subset?: string;
      readonly weight: number;
      /** Share of traffic, in percent of the route's total weight. */
      readonly percent: number;
    }[];
    readonly timeoutMs?: number;
    readonly retry: ReturnType<typeof describeRetry>;
    /** The route's other policies, as configured (normalized). */
    readonly policies: Readonly<Record<string, unknown>>;
  };
  readonly clusters?: readonly {
    readonly name: string;
    readonly endpoints: number;
    readonly destinationRules: readonly string[];
    readonly missingSubset?: true;
    readonly policy: Cluster['policy'];
  }[];
}

const ROUTE_POLICIES = [
  'fault',
  'mirror',
  'mirrors',
  'mirrorPercentage',
  'rewrite',
  'redirect',
  'directResponse',
  'headers',
  'corsPolicy',
] as const;

/**
 * Explains which route a request would take from this workload, and why: the host resolution,
 * each route tried in order with each condition of each match block, the destination chosen
 * (with its weights, subsets and clusters) and the policies the route applies. Evaluates the
 * same compiled route table the request path uses, so the answer is what would happen.
 */
export function explainRoute(
  view: WorkloadView,
  source: SourceWorkload,
  question: RouteQuestion,
): RouteExplanation {
  const resolved = view.resolveHost(question.host);
  if (resolved === undefined) {
    const isRegistryOnly = view.outboundTrafficPolicy === 'REGISTRY_ONLY';
    return {
      request: question,
      resolvedHost: null,
      outcome: isRegistryOnly ? 'refused-registry-only' : 'passthrough',
      summary: isRegistryOnly
        ? `${question.host} is not in the mesh registry and the outbound traffic policy is REGISTRY_ONLY: answered 502 (flag NR)`
        : `${question.host} is not a mesh host: the request passes through unchanged (outbound traffic policy ALLOW_ANY)`,
      evaluated: [],
    };
  }
  const table = view.routeTable(resolved, question.port);
  const request: RouteRequest = {
    path: question.path,
    method: question.method,
    authority: `${question.host}:${question.port}`,
    scheme: question.scheme,
    port: question.port,
    header: (name) => question.headers[name],
  };
  const path = pathOnly(question.path);
  const evaluated: RouteVerdict[] = [];
  let matched: CompiledRoute<HttpRouteSpec> | undefined;
  for (const route of table?.routes ?? []) {
    const isMatched = route.matches(request, path);
    evaluated.push({
      name: route.name,
      source: route.source,
      isMatched,
      isCatchAll: (route.spec?.match ?? []).length === 0,
      blocks: (route.spec?.match ?? []).map((block, index) =>
        explainBlock(block, index, request, path, source, question.port),
      ),
    });
    if (isMatched) {
      matched = route;
      break;
    }
  }
  const base = { request: question, resolvedHost: resolved, evaluated };
  if (matched === undefined) {
    return {
      ...base,
      outcome: 'no-route',
      summary: `no route of ${resolved}:${question.port} matches: answered 404 (flag NR)`,
    };
  }
  const spec = matched.spec;
  const outcome =
    spec?.redirect !== undefined
      ? 'redirect'
      : spec?.directResponse !== undefined
        ? 'direct-response'
        : 'routed';
  const total = matched.totalWeight;
  const destinations = matched.destinations.map((destination) => ({
    cluster: destination.clusterName,
    host: destination.host,
    port: destination.port,
    ...(destination.subset === undefined ? {} : { subset: destination.subset }),
    weight: destination.weight,
    percent: total === 0 ? 0 : Math.round((destination.weight / total) * 10000) / 100,
  }));
  const clusters = matched.destinations.flatMap((destination) => {
    const cluster = view.cluster(destination);
    if (cluster === undefined) return [];
    return [
      {
        name: cluster.name,
        endpoints: cluster.endpoints.length,
        destinationRules: cluster.destinationRules,
        ...(cluster.missingSubset === true ? { missingSubset: true as const } : {}),
        policy: cluster.policy,
      },
    ];
  });
  const policies: Record<string, unknown> = {};
  for (const key of ROUTE_POLICIES) if (spec?.[key] !== undefined) policies[key] = spec[key];
  return {
    ...base,
    outcome,
    summary: summarize(matched, outcome, destinations),
    route: {
      name: matched.name,
      source: matched.source,
      destinations,
      ...(matched.timeoutMs === undefined ? {} : { timeoutMs: matched.timeoutMs }),
      retry: describeRetry(matched.retry),
      policies,
    },
    clusters,
  };
}

function summarize(
  route: CompiledRoute<HttpRouteSpec>,
  outcome: RouteExplanation['outcome'],
  destinations: readonly { cluster: string; percent: number }[],
): string {
  const named = `route "${route.name}" (${route.source})`;
  if (outcome === 'redirect') return `${named} matches and answers with a redirect`;
  if (outcome === 'direct-response') return `${named} matches and answers directly`;
  const targets = destinations.map((destination) => `${destination.cluster} (${destination.percent}%)`);
  return `${named} matches and sends the request to ${targets.join(', ') || 'no destination'}`;
}

function describeRetry(retry: RetryPolicy) {
  return {
    attempts: retry.attempts,
    ...(retry.perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs: retry.perTryTimeoutMs }),
    retryOn: [...retry.retryOn],
    retriableStatusCodes: [...retry.retriableStatusCodes],
  };
}

type MatchSpec = NonNullable<HttpRouteSpec['match']>[number];

function explainBlock(
  block: MatchSpec,
  index: number,
  request: RouteRequest,
  path: string,
  source: SourceWorkload,
  port: number,
): BlockVerdict {
  const notForThisWorkload = whyNotApplicable(block, source, port);
  const conditions: ConditionVerdict[] = [];
  const check = (
    field: string,
    wants: unknown,
    got: string | number | undefined,
    conditionsOf: HttpMatchConditions,
  ) =>
    conditions.push({
      field,
      wants,
      got: got ?? null,
      isMatched: compileHttpMatch(conditionsOf)(request, path),
    });
  if (block.uri !== undefined)
    check('uri', describe(block.uri, block.ignoreUriCase), path, {
      uri: block.uri,
      ...(block.ignoreUriCase === undefined ? {} : { ignoreUriCase: block.ignoreUriCase }),
    });
  if (block.method !== undefined)
    check('method', describe(block.method), request.method, { method: block.method });
  if (block.scheme !== undefined)
    check('scheme', describe(block.scheme), request.scheme, { scheme: block.scheme });
  if (block.authority !== undefined)
    check('authority', describe(block.authority), request.authority, { authority: block.authority });
  if (block.port !== undefined) check('port', block.port, request.port, { port: block.port });
  for (const [name, match] of Object.entries(block.headers ?? {}))
    check(`headers.${name}`, describe(match), request.header(name.toLowerCase()), {
      headers: { [name]: match },
    });
  for (const [name, match] of Object.entries(block.withoutHeaders ?? {}))
    check(`withoutHeaders.${name}`, describe(match), request.header(name.toLowerCase()), {
      withoutHeaders: { [name]: match },
    });
  for (const [name, match] of Object.entries(block.queryParams ?? {}))
    check(`queryParams.${name}`, describe(match), queryParameter(request.path, name), {
      queryParams: { [name]: match },
    });
  return {
    index,
    ...(block.name === undefined ? {} : { name: block.name }),
    ...(notForThisWorkload === undefined ? {} : { notForThisWorkload }),
    conditions,
    isMatched: notForThisWorkload === undefined && conditions.every((condition) => condition.isMatched),
  };
}

function whyNotApplicable(block: MatchSpec, source: SourceWorkload, port: number): string | undefined {
  if (block.gateways !== undefined && block.gateways.length > 0 && !block.gateways.includes(MESH_GATEWAY))
    return `gateways ${block.gateways.join(', ')} do not include "mesh"`;
  if (block.port !== undefined && block.port !== port) return `port ${block.port} is not ${port}`;
  if (block.sourceNamespace !== undefined && block.sourceNamespace !== source.namespace)
    return `sourceNamespace ${block.sourceNamespace} is not this workload's namespace ${source.namespace}`;
  if (!labelsMatch(block.sourceLabels, source.labels))
    return "sourceLabels do not match this workload's labels";
  return undefined;
}

function describe(match: StringMatch, ignoreCase?: boolean): unknown {
  const base = match.type === 'present' ? { present: true } : { [match.type]: match.value };
  return ignoreCase === true ? { ...base, ignoreCase: true } : base;
}
