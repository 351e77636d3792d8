import { claimValues } from './claim-values.ts';
import {
  attributeChecks,
  emptyFieldChecks,
  type FieldChecks,
  type FieldContext,
  someMatch,
  stringList,
} from './field-check.ts';
import type { IpAddress } from './ip-address.ts';
import { compileIpBlocks } from './ip-block.ts';
import { withoutSpiffeScheme } from './peer-identity.ts';
import type { RequestFacts } from './request-facts.ts';
import { compileValuePatterns } from './value-patterns.ts';

/**
 * One `when` condition: the attribute named by `key` must match one of `values` and none of
 * `notValues`. The keys are those of Istio's "Authorization Policy Conditions" page; anything else
 * (including `experimental.envoy.filters.*`, which needs Envoy's filter metadata) cannot be
 * evaluated and makes the rule fail closed.
 */
const KNOWN_FIELDS = new Set(['key', 'values', 'notValues']);

type Attribute =
  | {
      readonly kind: 'string';
      readonly read: (facts: RequestFacts) => string | undefined;
      readonly isHttpOnly: boolean;
    }
  | { readonly kind: 'list'; readonly read: (facts: RequestFacts) => readonly string[] | undefined }
  | { readonly kind: 'ip'; readonly read: (facts: RequestFacts) => IpAddress | undefined }
  | { readonly kind: 'port'; readonly read: (facts: RequestFacts) => number };

const PEER_ATTRIBUTES: Readonly<Record<string, (facts: RequestFacts) => string | undefined>> = {
  'source.principal': (facts) => facts.request.peer?.principal,
  'source.namespace': (facts) => facts.request.peer?.namespace,
  'source.trustDomain': (facts) => facts.request.peer?.trustDomain,
  'source.serviceAccount': (facts) => {
    const peer = facts.request.peer;
    return peer?.namespace === undefined || peer.serviceAccount === undefined
      ? undefined
      : `${peer.namespace}/${peer.serviceAccount}`;
  },
  'connection.sni': (facts) => facts.request.sni,
};

const HEADER_KEY = /^request\.headers\[([^[\]]+)\]$/;
const CLAIM_KEY = /^request\.auth\.claims((?:\[[^[\]]+\])+)$/;

function attributeFor(key: string): Attribute | undefined {
  const peer = PEER_ATTRIBUTES[key];
  if (peer !== undefined) return { kind: 'string', read: peer, isHttpOnly: false };
  switch (key) {
    case 'source.ip':
      return { kind: 'ip', read: (facts) => facts.sourceIp };
    case 'remote.ip':
      return { kind: 'ip', read: (facts) => facts.remoteIp };
    case 'destination.ip':
      return { kind: 'ip', read: (facts) => facts.destinationIp };
    case 'destination.port':
      return { kind: 'port', read: (facts) => facts.request.destinationPort };
    case 'request.auth.principal':
      return { kind: 'string', read: (facts) => facts.request.auth?.principal, isHttpOnly: true };
    case 'request.auth.presenter':
      return { kind: 'string', read: (facts) => facts.request.auth?.presenter, isHttpOnly: true };
    case 'request.auth.audiences':
      return { kind: 'list', read: (facts) => facts.request.auth?.audiences };
  }
  const header = HEADER_KEY.exec(key)?.[1];
  if (header !== undefined) {
    const name = header.toLowerCase();
    return { kind: 'string', read: (facts) => facts.header(name), isHttpOnly: true };
  }
  const claim = CLAIM_KEY.exec(key)?.[1];
  if (claim !== undefined) {
    const path = claim.slice(1, -1).split('][');
    const dotted = path.join('.');
    return {
      kind: 'list',
      read: (facts) => {
        const auth = facts.request.auth;
        return auth === undefined ? undefined : claimValues(auth, path, dotted);
      },
    };
  }
  return undefined;
}

export function compileCondition(condition: unknown, owner: string, context: FieldContext): FieldChecks {
  const result = emptyFieldChecks();
  if (typeof condition !== 'object' || condition === null) {
    result.problems.push(`${owner} is not an object`);
    return result;
  }
  const fields = condition as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (!KNOWN_FIELDS.has(name) && value !== undefined) {
      result.problems.push(`${owner}.${name} is a field Weft does not understand`);
    }
  }
  const key = fields.key;
  const attribute = typeof key === 'string' ? attributeFor(key) : undefined;
  if (attribute === undefined) {
    result.problems.push(`${owner}.key ${JSON.stringify(key)} is a condition Weft cannot evaluate`);
    return result;
  }
  const values = stringList(result, owner, 'values', fields.values);
  const notValues = stringList(result, owner, 'notValues', fields.notValues);
  if (values === undefined && notValues === undefined) {
    result.problems.push(`${owner} has neither values nor notValues`);
    return result;
  }
  const { absentMatches } = context;
  switch (attribute.kind) {
    case 'string': {
      const compile = (list: readonly string[] | undefined) =>
        list === undefined
          ? undefined
          : compileValuePatterns(key === 'source.principal' ? list.map(withoutSpiffeScheme) : list);
      attributeChecks(result, attribute.read, compile(values), compile(notValues), {
        absentMatches,
        isHttpOnly: attribute.isHttpOnly,
      });
      break;
    }
    case 'list': {
      const compile = (list: readonly string[] | undefined) =>
        list === undefined ? undefined : someMatch(compileValuePatterns(list));
      attributeChecks(result, attribute.read, compile(values), compile(notValues), {
        absentMatches,
        isHttpOnly: true,
      });
      break;
    }
    case 'ip': {
      const compile = (list: readonly string[] | undefined) => {
        if (list === undefined) return undefined;
        const { set, invalid } = compileIpBlocks(list);
        for (const value of invalid)
          result.problems.push(`${owner} has "${value}", which is not an IP or CIDR`);
        return (address: IpAddress) => set.contains(address);
      };
      attributeChecks(result, attribute.read, compile(values), compile(notValues), {
        absentMatches,
        isHttpOnly: false,
      });
      break;
    }
    case 'port': {
      const compile = (list: readonly string[] | undefined) => {
        if (list === undefined) return undefined;
        const ports = new Set(list.map(Number));
        for (const value of list) {
          const port = Number(value);
          if (!Number.isInteger(port) || port < 0 || port > 65_535)
            result.problems.push(`${owner} has "${value}", which is not a port`);
        }
        return (port: number) => ports.has(port);
      };
      attributeChecks(result, attribute.read, compile(values), compile(notValues), {
        absentMatches,
        isHttpOnly: false,
      });
      break;
    }
  }
  return result;
}
