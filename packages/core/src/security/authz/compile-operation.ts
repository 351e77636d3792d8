import {
  attributeChecks,
  emptyFieldChecks,
  type FieldChecks,
  type FieldContext,
  stringList,
} from './field-check.ts';
import { compileHostPatterns } from './host-patterns.ts';
import { compilePathPatterns } from './path-patterns.ts';
import type { RequestFacts } from './request-facts.ts';
import { compileValuePatterns } from './value-patterns.ts';

/**
 * `to[].operation`: hosts, ports, methods and paths with their `not` forms, ANDed. Paths are
 * matched on the normalized path (the caller normalized it), methods as sent (case-sensitive, as
 * Envoy compares `:method`), hosts without case or port, ports as numbers.
 */
const KNOWN_FIELDS = new Set([
  'hosts',
  'notHosts',
  'ports',
  'notPorts',
  'methods',
  'notMethods',
  'paths',
  'notPaths',
]);

const readPort = (facts: RequestFacts) => facts.request.destinationPort;
const readMethod = (facts: RequestFacts) => facts.request.method;
const readPath = (facts: RequestFacts) => facts.request.path;

export function compileOperation(operation: unknown, owner: string, context: FieldContext): FieldChecks {
  const result = emptyFieldChecks();
  if (typeof operation !== 'object' || operation === null) {
    result.problems.push(`${owner} is not an object`);
    return result;
  }
  const fields = operation as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (!KNOWN_FIELDS.has(key) && value !== undefined) {
      result.problems.push(`${owner}.${key} is a field Weft does not understand`);
    }
  }
  const list = (field: string) => stringList(result, owner, field, fields[field]);
  const options = (isHttpOnly: boolean) => ({ absentMatches: context.absentMatches, isHttpOnly });
  const optional = <T>(values: readonly string[] | undefined, compile: (values: readonly string[]) => T) =>
    values === undefined ? undefined : compile(values);

  const hosts = optional(list('hosts'), compileHostPatterns);
  const notHosts = optional(list('notHosts'), compileHostPatterns);
  if (hosts !== undefined) {
    result.checks.push({
      isHttpOnly: true,
      predicate: (facts) => {
        const authority = facts.authority;
        return authority !== undefined && hosts(authority, facts.request.destinationPort);
      },
    });
  }
  if (notHosts !== undefined) {
    const { absentMatches } = context;
    result.checks.push({
      isHttpOnly: true,
      predicate: (facts) => {
        const authority = facts.authority;
        return authority === undefined ? absentMatches : !notHosts(authority, facts.request.destinationPort);
      },
    });
  }

  const ports = (field: string) => optional(list(field), compilePorts(result, owner, field));
  attributeChecks(result, readPort, ports('ports'), ports('notPorts'), options(false));
  attributeChecks(
    result,
    readMethod,
    optional(list('methods'), compileValuePatterns),
    optional(list('notMethods'), compileValuePatterns),
    options(true),
  );
  attributeChecks(
    result,
    readPath,
    optional(list('paths'), compilePathPatterns),
    optional(list('notPaths'), compilePathPatterns),
    options(true),
  );
  return result;
}

function compilePorts(into: FieldChecks, owner: string, field: string) {
  return (values: readonly string[]) => {
    const ports = new Set<number>();
    for (const value of values) {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        into.problems.push(`${owner}.${field} has "${value}", which is not a port`);
      else ports.add(port);
    }
    return (port: number) => ports.has(port);
  };
}
