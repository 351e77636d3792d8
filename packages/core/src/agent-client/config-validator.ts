import { parseConfigObjects } from '../config/parse-config.ts';
import type { Resource } from '../config/resource.ts';
import type { ConfigIssue } from '../errors/config-validation-error.ts';
import type { RegisteredWorkload } from '../registry/workload.ts';
import type { StoredResource } from './protocol.ts';
import type { ConfigRecord } from './received-config.ts';

/** What validating one received config gives: the parsed resources, and every issue. */
export interface ValidatedConfig {
  readonly resources: readonly Resource[];
  readonly workloads: readonly RegisteredWorkload[];
  readonly issues: readonly ConfigIssue[];
  readonly hasErrors: boolean;
}

interface ParsedResource {
  readonly resource: Resource | undefined;
  readonly issues: readonly ConfigIssue[];
}

/** Issues name where a resource came from; for the agent client that is the agent. */
const AGENT_SOURCE = { file: 'agent' } as const;

/**
 * Validates a whole received config with the same parser the agent's admission uses (so a
 * resource written around admission, or by an agent of another version, is caught here), and
 * the registry's workloads field by field. Parsed resources are cached per received object: a
 * delta re-parses only what it changed, a snapshot after a reconnect re-parses everything.
 */
export class ConfigValidator {
  readonly #domainSuffix: string;
  readonly #parsed = new WeakMap<StoredResource, ParsedResource>();

  constructor(domainSuffix: string) {
    this.#domainSuffix = domainSuffix;
  }

  validate(record: ConfigRecord): ValidatedConfig {
    const resources: Resource[] = [];
    const issues: ConfigIssue[] = [];
    for (const stored of record.resources) {
      const parsed = this.#parse(stored);
      if (parsed.resource !== undefined) resources.push(parsed.resource);
      issues.push(...parsed.issues);
    }
    for (const workload of record.workloads) issues.push(...workloadIssues(workload));
    return {
      resources,
      workloads: record.workloads,
      issues,
      hasErrors: issues.some((issue) => issue.severity === 'error'),
    };
  }

  #parse(stored: StoredResource): ParsedResource {
    const cached = this.#parsed.get(stored);
    if (cached !== undefined) return cached;
    const result = parseConfigObjects([stored], {
      defaultNamespace: stored.metadata.namespace,
      domainSuffix: this.#domainSuffix,
    });
    const parsed: ParsedResource = {
      resource: result.resources[0],
      issues: result.issues.map((issue) => ({ ...issue, location: AGENT_SOURCE })),
    };
    this.#parsed.set(stored, parsed);
    return parsed;
  }
}

/** The registry entry's fields compile() relies on; anything else is the agent's business. */
function workloadIssues(workload: RegisteredWorkload): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const resource = `Workload/${workload.namespace}/${workload.name}`;
  const problem = (path: string, message: string): void => {
    issues.push({
      severity: 'error',
      code: 'invalid-workload',
      resource,
      path,
      message,
      location: AGENT_SOURCE,
    });
  };
  for (const field of ['service', 'serviceAccount', 'address'] as const) {
    if (typeof workload[field] !== 'string' || workload[field] === '')
      problem(field, 'must be a non-empty string');
  }
  if (!isStringRecord(workload.labels)) problem('labels', 'must map strings to strings');
  if (workload.ports === null || typeof workload.ports !== 'object') {
    problem('ports', 'must map service ports to target ports');
  } else {
    for (const [port, target] of Object.entries(workload.ports)) {
      if (!isPort(Number(port)) || !isPort(target))
        problem(`ports.${port}`, 'ports must be integers in 1–65535');
    }
  }
  if (workload.weight !== undefined && !(typeof workload.weight === 'number' && workload.weight > 0))
    problem('weight', 'must be a positive number');
  return issues;
}

function isPort(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65_535;
}

function isStringRecord(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    Object.values(value as Record<string, unknown>).every((entry) => typeof entry === 'string')
  );
}
