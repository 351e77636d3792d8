import {
  attributeChecks,
  emptyFieldChecks,
  type FieldChecks,
  type FieldContext,
  stringList,
} from './field-check.ts';
import type { IpAddress } from './ip-address.ts';
import { compileIpBlocks } from './ip-block.ts';
import { withoutSpiffeScheme } from './peer-identity.ts';
import type { RequestFacts } from './request-facts.ts';
import { compileValuePatterns, type ValueTest } from './value-patterns.ts';

/**
 * `from[].source`: every field set must match (AND); within a field any value may (OR); a `not`
 * field matches when none of its values does. Identity fields read the mTLS peer identity, so a
 * plaintext caller matches none of them; `requestPrincipals` read the verified JWT (`<iss>/<sub>`).
 */
const KNOWN_FIELDS = new Set([
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'trustDomains',
  'notTrustDomains',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
]);

type StringReader = (facts: RequestFacts) => string | undefined;

const principal: StringReader = (facts) => facts.request.peer?.principal;
const requestPrincipal: StringReader = (facts) => facts.request.auth?.principal;
const namespace: StringReader = (facts) => facts.request.peer?.namespace;
const trustDomain: StringReader = (facts) => facts.request.peer?.trustDomain;
const serviceAccount: StringReader = (facts) => {
  const peer = facts.request.peer;
  return peer?.namespace === undefined || peer.serviceAccount === undefined
    ? undefined
    : `${peer.namespace}/${peer.serviceAccount}`;
};

export function compileSource(source: unknown, owner: string, context: FieldContext): FieldChecks {
  const result = emptyFieldChecks();
  if (typeof source !== 'object' || source === null) {
    result.problems.push(`${owner} is not an object`);
    return result;
  }
  const fields = source as Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (!KNOWN_FIELDS.has(key) && value !== undefined) {
      result.problems.push(`${owner}.${key} is a field Weft does not understand`);
    }
  }
  const list = (field: string) => stringList(result, owner, field, fields[field]);
  const strings = (
    read: StringReader,
    field: string,
    isHttpOnly: boolean,
    compile: (values: readonly string[]) => ValueTest = (values) => compileValuePatterns(values),
  ) => {
    const values = list(field);
    const notValues = list(`not${field[0]?.toUpperCase()}${field.slice(1)}`);
    attributeChecks(
      result,
      read,
      values === undefined ? undefined : compile(values),
      notValues === undefined ? undefined : compile(notValues),
      { absentMatches: context.absentMatches, isHttpOnly },
    );
  };
  strings(principal, 'principals', false, (values) =>
    compileValuePatterns(values, { normalizeLiteral: withoutSpiffeScheme }),
  );
  strings(requestPrincipal, 'requestPrincipals', true);
  strings(namespace, 'namespaces', false);
  strings(trustDomain, 'trustDomains', false);
  strings(serviceAccount, 'serviceAccounts', false, (values) =>
    compileValuePatterns(
      values.map((value) => (value.includes('/') ? value : `${context.namespace}/${value}`)),
    ),
  );
  ipBlocks(result, owner, 'ipBlocks', (facts) => facts.sourceIp, list, context);
  ipBlocks(result, owner, 'remoteIpBlocks', (facts) => facts.remoteIp, list, context);
  return result;
}

function ipBlocks(
  into: FieldChecks,
  owner: string,
  field: string,
  read: (facts: RequestFacts) => IpAddress | undefined,
  list: (field: string) => readonly string[] | undefined,
  context: FieldContext,
): void {
  const notField = `not${field[0]?.toUpperCase()}${field.slice(1)}`;
  const compile = (name: string, values: readonly string[] | undefined) => {
    if (values === undefined) return undefined;
    const { set, invalid } = compileIpBlocks(values);
    for (const value of invalid)
      into.problems.push(`${owner}.${name} has "${value}", which is not an IP or CIDR`);
    return (address: IpAddress) => set.contains(address);
  };
  attributeChecks(into, read, compile(field, list(field)), compile(notField, list(notField)), {
    absentMatches: context.absentMatches,
    isHttpOnly: false,
  });
}
