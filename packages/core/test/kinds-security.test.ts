import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { authorizationPolicyKind } from '../src/config/kinds/authorization-policy.ts';
import { peerAuthenticationKind } from '../src/config/kinds/peer-authentication.ts';
import { requestAuthenticationKind } from '../src/config/kinds/request-authentication.ts';
import { telemetryKind } from '../src/config/kinds/telemetry.ts';

interface FoundIssue {
  readonly path: string;
  readonly code: string;
  readonly message: string;
  readonly keys?: readonly string[];
}

function issuesOf(result: z.ZodSafeParseResult<unknown>): FoundIssue[] {
  if (result.success) return [];
  return result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    code: issue.code,
    message: issue.message,
    ...(issue.code === 'unrecognized_keys' ? { keys: issue.keys } : {}),
  }));
}

/** The parsed value; fails the test with every issue when parsing failed. */
function parsed<T>(result: z.ZodSafeParseResult<T>): T {
  if (!result.success)
    expect.fail(`expected the spec to parse, got ${JSON.stringify(issuesOf(result), null, 2)}`);
  return result.data;
}

function expectIssue(result: z.ZodSafeParseResult<unknown>, path: string, message: string): void {
  expect(result.success).toBe(false);
  expect(issuesOf(result)).toContainEqual(
    expect.objectContaining({ path, message: expect.stringContaining(message) }),
  );
}

function expectUnknownKey(result: z.ZodSafeParseResult<unknown>, path: string, key: string): void {
  expect(result.success).toBe(false);
  expect(issuesOf(result)).toContainEqual(
    expect.objectContaining({ code: 'unrecognized_keys', path, keys: [key] }),
  );
}

const authz = authorizationPolicyKind.specSchema;
const peerAuthn = peerAuthenticationKind.specSchema;
const requestAuthn = requestAuthenticationKind.specSchema;
const telemetry = telemetryKind.specSchema;

/** A policy with one rule holding `rule`; most AuthorizationPolicy cases vary only that. */
const withRule = (rule: object) => ({ rules: [rule] });
const fromSource = (source: object) => withRule({ from: [{ source }] });
const toOperation = (operation: object) => withRule({ to: [{ operation }] });
const when = (condition: object) => withRule({ when: [condition] });

describe('kind definitions', () => {
  it('registers the three security kinds as security.istio.io v1/v1beta1 and fail-closed', () => {
    for (const kind of [authorizationPolicyKind, peerAuthenticationKind, requestAuthenticationKind]) {
      expect(kind.group).toBe('security.istio.io');
      expect(kind.versions).toEqual(['v1', 'v1beta1']);
      expect(kind.isSecurity).toBe(true);
      expect(kind.unsupportedFields).toEqual([]);
    }
    expect(
      [authorizationPolicyKind, peerAuthenticationKind, requestAuthenticationKind].map((k) => k.kind),
    ).toEqual(['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication']);
  });

  it('registers Telemetry as telemetry.istio.io v1/v1alpha1, a warning kind', () => {
    expect(telemetryKind.kind).toBe('Telemetry');
    expect(telemetryKind.group).toBe('telemetry.istio.io');
    expect(telemetryKind.versions).toEqual(['v1', 'v1alpha1']);
    expect(telemetryKind.isSecurity).toBe(false);
  });

  it('marks Telemetry providers, CEL filters and Envoy-only tracing knobs unsupported', () => {
    expect(telemetryKind.unsupportedFields.map((note) => note.path)).toEqual([
      'tracing[].providers',
      'metrics[].providers',
      'accessLogging[].providers',
      'accessLogging[].filter',
      'tracing[].customTags{}.formatter',
      'tracing[].useRequestIdForTraceSampling',
    ]);
    expect(telemetryKind.unsupportedFields[0]?.reason).toContain('OpenTelemetry API');
  });

  it('lists the singular targetRef and the jwks_uri spelling as deprecated, with their replacements', () => {
    for (const kind of [authorizationPolicyKind, requestAuthenticationKind, telemetryKind]) {
      expect(kind.deprecatedFields).toContainEqual(
        expect.objectContaining({ path: 'targetRef', replacement: 'targetRefs' }),
      );
    }
    expect(peerAuthenticationKind.deprecatedFields).toEqual([]);
    expect(requestAuthenticationKind.deprecatedFields).toContainEqual(
      expect.objectContaining({ path: 'jwtRules[].jwks_uri', replacement: 'jwtRules[].jwksUri' }),
    );
  });
});

describe('AuthorizationPolicy: Istio documentation examples', () => {
  it('accepts allow-nothing (an empty spec) as an ALLOW policy without rules', () => {
    expect(parsed(authz.safeParse({}))).toEqual({ action: 'ALLOW' });
  });

  it('accepts deny-all (DENY with one empty rule)', () => {
    expect(parsed(authz.safeParse({ action: 'DENY', rules: [{}] }))).toEqual({ action: 'DENY', rules: [{}] });
  });

  it('accepts allow-all (ALLOW with one empty rule)', () => {
    expect(parsed(authz.safeParse({ rules: [{}] }))).toEqual({ action: 'ALLOW', rules: [{}] });
  });

  it('accepts GET on /productpage from the ingress gateway principal', () => {
    const spec = {
      selector: { matchLabels: { app: 'productpage' } },
      action: 'ALLOW',
      rules: [
        {
          from: [
            {
              source: {
                principals: ['cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account'],
              },
            },
          ],
          to: [{ operation: { methods: ['GET'], paths: ['/productpage'] } }],
        },
      ],
    };
    expect(parsed(authz.safeParse(spec))).toEqual(spec);
  });

  it('accepts the waypoint DENY example from PolicyTargetReference', () => {
    const result = parsed(
      authz.safeParse({
        targetRefs: [{ name: 'waypoint', kind: 'Gateway', group: 'gateway.networking.k8s.io' }],
        action: 'DENY',
        rules: [{ to: [{ operation: { methods: ['POST'], ports: ['8080'] } }] }],
      }),
    );
    expect(result.rules?.[0]?.to?.[0]?.operation?.ports).toEqual([8080]);
  });
});

describe('AuthorizationPolicy: normalization', () => {
  it('parses a spec using every field and normalizes ports, hosts and the default action', () => {
    const source = {
      principals: ['cluster.local/ns/default/sa/sleep'],
      notPrincipals: ['cluster.local/ns/test/*'],
      requestPrincipals: ['issuer.example.com/*'],
      notRequestPrincipals: ['*@evil.example'],
      namespaces: ['prod-*'],
      notNamespaces: ['kube-system'],
      ipBlocks: ['203.0.113.4', '10.0.0.0/8'],
      notIpBlocks: ['10.1.0.0/16'],
      remoteIpBlocks: ['2001:db8::/32'],
      notRemoteIpBlocks: ['2001:db8::1'],
      trustDomains: ['cluster.local'],
      notTrustDomains: ['*.evil.example'],
    };
    const serviceAccountSource = {
      serviceAccounts: ['default/sleep', 'curl'],
      notServiceAccounts: ['test/attacker'],
    };
    const operation = {
      hosts: ['HTTPBin.Example.COM.', '*.example.com'],
      notHosts: ['Admin.example.com'],
      ports: ['8080', '443'],
      notPorts: ['9090'],
      methods: ['GET', 'HEAD'],
      notMethods: ['DELETE'],
      paths: ['/info*', '/api/{*}/items/{**}'],
      notPaths: ['*/admin'],
    };
    const conditions = [
      { key: 'request.headers[x-user]', values: ['alice'] },
      { key: 'source.ip', values: ['10.0.0.1'], notValues: ['10.0.0.2/32'] },
      { key: 'request.auth.claims[groups]', values: ['admins'] },
      { key: 'destination.port', notValues: ['9090'] },
    ];
    const spec = {
      selector: { matchLabels: { app: 'httpbin', version: 'v1' } },
      action: 'AUDIT',
      rules: [
        { from: [{ source }, { source: serviceAccountSource }], to: [{ operation }], when: conditions },
      ],
    };
    expect(parsed(authz.safeParse(spec))).toEqual({
      selector: spec.selector,
      action: 'AUDIT',
      rules: [
        {
          from: [{ source }, { source: serviceAccountSource }],
          to: [
            {
              operation: {
                ...operation,
                hosts: ['httpbin.example.com', '*.example.com'],
                notHosts: ['admin.example.com'],
                ports: [8080, 443],
                notPorts: [9090],
              },
            },
          ],
          when: conditions,
        },
      ],
    });
  });

  it('folds the hidden singular targetRef into targetRefs', () => {
    const gateway = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingress' };
    const result = parsed(authz.safeParse({ targetRef: gateway }));
    expect(result).toEqual({ action: 'ALLOW', targetRefs: [gateway] });
    expect(result).not.toHaveProperty('targetRef');
  });

  it.each([
    'request.headers[User-Agent]',
    'source.ip',
    'remote.ip',
    'source.namespace',
    'source.principal',
    'source.serviceAccount',
    'source.trustDomain',
    'request.auth.principal',
    'request.auth.audiences',
    'request.auth.presenter',
    'request.auth.claims[iss]',
    'request.auth.claims[nested][key]',
    'destination.ip',
    'destination.port',
    'connection.sni',
  ])('accepts the condition key %s', (key) => {
    const value = /ip$/.test(key) ? '10.0.0.0/8' : key === 'destination.port' ? '8080' : 'default';
    expect(parsed(authz.safeParse(when({ key, values: [value] }))).rules?.[0]?.when?.[0]?.key).toBe(key);
  });

  it.each(['/exact', '/prefix*', '*/suffix', '*', '/foo/{*}', '/foo/{**}/', '/foo/{*}/bar/{**}'])(
    'accepts the path %s',
    (path) => {
      expect(
        parsed(authz.safeParse(toOperation({ paths: [path] }))).rules?.[0]?.to?.[0]?.operation?.paths,
      ).toEqual([path]);
    },
  );
});

describe('AuthorizationPolicy: refused (fail closed)', () => {
  it('accepts action CUSTOM with its provider, as Istio documents the ext-authz example', () => {
    const spec = parsed(
      authz.safeParse({
        selector: { matchLabels: { app: 'istio-ingressgateway' } },
        action: 'CUSTOM',
        provider: { name: 'my-custom-authz' },
        rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }],
      }),
    );
    expect(spec.action).toBe('CUSTOM');
    expect(spec.provider).toEqual({ name: 'my-custom-authz' });
  });

  it('refuses action CUSTOM without a provider', () => {
    expectIssue(authz.safeParse({ action: 'CUSTOM', rules: [{}] }), 'provider', 'needs provider.name');
  });

  it('refuses a provider on a non-CUSTOM policy', () => {
    expectIssue(
      authz.safeParse({ action: 'ALLOW', provider: { name: 'x' } }),
      'provider',
      'only allowed with action CUSTOM',
    );
  });

  it('refuses experimental.envoy.filters.* condition keys', () => {
    expectIssue(
      authz.safeParse(
        when({ key: 'experimental.envoy.filters.network.mysql_proxy[db.table]', values: ['[update]'] }),
      ),
      'rules.0.when.0.key',
      'is not supported by Weft',
    );
  });

  it.each([
    ['an unknown top-level field', { actions: 'DENY' }, '', 'actions'],
    ['a typo in a source', fromSource({ principal: ['a'] }), 'rules.0.from.0.source', 'principal'],
    [
      'an unknown operation field',
      toOperation({ methods: ['GET'], header: ['x'] }),
      'rules.0.to.0.operation',
      'header',
    ],
    [
      'an unknown rule field',
      withRule({ from: [{ source: { namespaces: ['a'] } }], unless: [] }),
      'rules.0',
      'unless',
    ],
    [
      'an unknown condition field',
      when({ key: 'source.ip', values: ['10.0.0.1'], regex: 'x' }),
      'rules.0.when.0',
      'regex',
    ],
    ['an unknown selector field', { selector: { matchExpressions: [] } }, 'selector', 'matchExpressions'],
  ])('reports unrecognized_keys for %s', (_name, spec, path, key) => {
    expectUnknownKey(authz.safeParse(spec), path, key);
  });
});

describe('AuthorizationPolicy: Istio validation rules', () => {
  it.each([
    [
      'an unknown action',
      { action: 'PERMIT' },
      'action',
      'action must be one of ALLOW, DENY, AUDIT or CUSTOM',
    ],
    ['DENY without rules', { action: 'DENY' }, 'rules', 'add an empty rule `{}`'],
    ['DENY with an empty rules list', { action: 'DENY', rules: [] }, 'rules', 'DENY policy without rules'],
    ['an empty from list', withRule({ from: [] }), 'rules.0.from', '"from" is an empty list'],
    ['an empty to list', withRule({ to: [] }), 'rules.0.to', '"to" is an empty list'],
    ['a from entry without source', withRule({ from: [{}] }), 'rules.0.from.0.source', 'needs a source'],
    ['a to entry without operation', withRule({ to: [{}] }), 'rules.0.to.0.operation', 'needs an operation'],
    ['an empty source', fromSource({}), 'rules.0.from.0.source', 'at least one field must be set'],
    [
      'a source with only empty lists',
      fromSource({ principals: [] }),
      'rules.0.from.0.source',
      'at least one field',
    ],
    ['an empty operation', toOperation({}), 'rules.0.to.0.operation', 'at least one field must be set'],
    [
      'serviceAccounts with principals',
      fromSource({ serviceAccounts: ['default/sleep'], principals: ['cluster.local/ns/default/sa/sleep'] }),
      'rules.0.from.0.source.principals',
      'serviceAccounts cannot be combined with principals',
    ],
    [
      'notServiceAccounts with namespaces',
      fromSource({ notServiceAccounts: ['sleep'], namespaces: ['default'] }),
      'rules.0.from.0.source.namespaces',
      'cannot be combined with namespaces',
    ],
    [
      'a wildcard service account',
      fromSource({ serviceAccounts: ['default/*'] }),
      'rules.0.from.0.source.serviceAccounts.0',
      'wildcards are not allowed',
    ],
    [
      'a service account with two slashes',
      fromSource({ serviceAccounts: ['a/b/c'] }),
      'rules.0.from.0.source.serviceAccounts.0',
      'is malformed',
    ],
    [
      'a service account with an empty namespace',
      fromSource({ notServiceAccounts: ['/sleep'] }),
      'rules.0.from.0.source.notServiceAccounts.0',
      '"<namespace>/<serviceAccount>"',
    ],
    [
      'more than 16 service accounts',
      fromSource({ serviceAccounts: Array.from({ length: 17 }, (_, i) => `sa-${i}`) }),
      'rules.0.from.0.source.serviceAccounts',
      'at most 16 entries',
    ],
    [
      'a principal with * in the middle',
      fromSource({ principals: ['cluster.local/ns/*/sa/sleep'] }),
      'rules.0.from.0.source.principals.0',
      'uses "*" in the middle or more than once',
    ],
    [
      'a namespace with two wildcards',
      fromSource({ notNamespaces: ['*prod*'] }),
      'rules.0.from.0.source.notNamespaces.0',
      'in the middle or more than once',
    ],
    [
      'an empty principal',
      fromSource({ principals: [''] }),
      'rules.0.from.0.source.principals.0',
      'empty value',
    ],
    [
      'a request principal with * in the middle',
      fromSource({ requestPrincipals: ['issuer/*/sub'] }),
      'rules.0.from.0.source.requestPrincipals.0',
      'in the middle',
    ],
    [
      'a trust domain with a slash',
      fromSource({ trustDomains: ['cluster.local/ns'] }),
      'rules.0.from.0.source.trustDomains.0',
      'must not contain "/"',
    ],
    [
      'an IP that is not one',
      fromSource({ ipBlocks: ['10.0.0.300'] }),
      'rules.0.from.0.source.ipBlocks.0',
      'not an IP',
    ],
    [
      'a word as an IP',
      fromSource({ notIpBlocks: ['localhost'] }),
      'rules.0.from.0.source.notIpBlocks.0',
      'not an IP',
    ],
    [
      'an IPv4 CIDR longer than 32 bits',
      fromSource({ remoteIpBlocks: ['10.0.0.0/33'] }),
      'rules.0.from.0.source.remoteIpBlocks.0',
      'prefix length; it must be 0–32',
    ],
    [
      'an IPv6 CIDR longer than 128 bits',
      fromSource({ notRemoteIpBlocks: ['2001:db8::/129'] }),
      'rules.0.from.0.source.notRemoteIpBlocks.0',
      'it must be 0–128',
    ],
    [
      'a CIDR with a non-numeric prefix',
      fromSource({ ipBlocks: ['10.0.0.0/abc'] }),
      'rules.0.from.0.source.ipBlocks.0',
      'invalid prefix length',
    ],
    [
      'an IPv6 zone',
      fromSource({ ipBlocks: ['fe80::1%eth0'] }),
      'rules.0.from.0.source.ipBlocks.0',
      'zone identifier',
    ],
    [
      'a named port',
      toOperation({ ports: ['http'] }),
      'rules.0.to.0.operation.ports.0',
      'number from 1 to 65535',
    ],
    ['port 0', toOperation({ ports: ['0'] }), 'rules.0.to.0.operation.ports.0', 'number from 1 to 65535'],
    [
      'port 65536',
      toOperation({ notPorts: ['65536'] }),
      'rules.0.to.0.operation.notPorts.0',
      'from 1 to 65535',
    ],
    ['a wildcard port', toOperation({ ports: ['*'] }), 'rules.0.to.0.operation.ports.0', 'from 1 to 65535'],
    [
      'a numeric (unquoted) port',
      toOperation({ ports: [8080] }),
      'rules.0.to.0.operation.ports.0',
      'expected string',
    ],
    [
      'an empty method',
      toOperation({ methods: [''] }),
      'rules.0.to.0.operation.methods.0',
      'empty value in methods',
    ],
    [
      'an empty not-method',
      toOperation({ notMethods: [''] }),
      'rules.0.to.0.operation.notMethods.0',
      'empty value',
    ],
    ['an empty host', toOperation({ hosts: [''] }), 'rules.0.to.0.operation.hosts.0', 'empty value in hosts'],
    [
      'a host with * inside',
      toOperation({ hosts: ['api.*.com'] }),
      'rules.0.to.0.operation.hosts.0',
      'in the middle',
    ],
    [
      'a host with a slash',
      toOperation({ notHosts: ['a.com/x'] }),
      'rules.0.to.0.operation.notHosts.0',
      'slashes',
    ],
    [
      'a path with * in the middle',
      toOperation({ paths: ['/api/*/x'] }),
      'rules.0.to.0.operation.paths.0',
      'middle',
    ],
    [
      'a path with two wildcards',
      toOperation({ notPaths: ['*/admin*'] }),
      'rules.0.to.0.operation.notPaths.0',
      'more than once',
    ],
    [
      'a path with **',
      toOperation({ paths: ['/api/**'] }),
      'rules.0.to.0.operation.paths.0',
      'more than once',
    ],
    ['an empty path', toOperation({ paths: [''] }), 'rules.0.to.0.operation.paths.0', 'empty value in paths'],
    [
      'a template with * outside an operator (Istio doc: /*/baz/{*})',
      toOperation({ paths: ['/*/baz/{*}'] }),
      'rules.0.to.0.operation.paths.0',
      'not a plain literal',
    ],
    [
      'a template with {**} before another operator (Istio doc: /{**}/foo/{*})',
      toOperation({ paths: ['/{**}/foo/{*}'] }),
      'rules.0.to.0.operation.paths.0',
      '{**} must be the last operator',
    ],
    [
      'a template operator sharing a segment (Istio doc: /foo/{*}.txt)',
      toOperation({ notPaths: ['/foo/{*}.txt'] }),
      'rules.0.to.0.operation.notPaths.0',
      'outside a whole-segment',
    ],
    [
      'a brace outside a template',
      toOperation({ paths: ['/foo/{id}'] }),
      'rules.0.to.0.operation.paths.0',
      '"{" or "}"',
    ],
    ['a condition without values', when({ key: 'source.ip' }), 'rules.0.when.0', 'needs values or notValues'],
    [
      'a condition with empty value lists',
      when({ key: 'source.namespace', values: [], notValues: [] }),
      'rules.0.when.0',
      'needs values or notValues',
    ],
    [
      'a condition with an empty key',
      when({ key: '', values: ['a'] }),
      'rules.0.when.0.key',
      'key must not be empty',
    ],
    [
      'an unknown condition key',
      when({ key: 'request.method', values: ['GET'] }),
      'rules.0.when.0.key',
      'unknown condition key',
    ],
    [
      'a header key without brackets',
      when({ key: 'request.headers', values: ['a'] }),
      'rules.0.when.0.key',
      'must name one entry in brackets',
    ],
    [
      'a claim key with empty brackets',
      when({ key: 'request.auth.claims[]', values: ['a'] }),
      'rules.0.when.0.key',
      'must name one entry in brackets',
    ],
    [
      'destination.labels',
      when({ key: 'destination.labels[app]', values: ['a'] }),
      'rules.0.when.0.key',
      'replaced by the workload selector',
    ],
    [
      'destination.namespace',
      when({ key: 'destination.namespace', values: ['a'] }),
      'rules.0.when.0.key',
      'replaced by metadata.namespace',
    ],
    [
      'destination.user',
      when({ key: 'destination.user', values: ['a'] }),
      'rules.0.when.0.key',
      'removed after Istio v1alpha1',
    ],
    [
      'a bad source.ip value',
      when({ key: 'source.ip', values: ['1.2.3'] }),
      'rules.0.when.0.values.0',
      'not an IP',
    ],
    [
      'a bad remote.ip not-value',
      when({ key: 'remote.ip', values: ['10.0.0.1'], notValues: ['10.0.0.0/40'] }),
      'rules.0.when.0.notValues.0',
      'invalid prefix length',
    ],
    [
      'a bad destination.port value',
      when({ key: 'destination.port', values: ['http'] }),
      'rules.0.when.0.values.0',
      'from 1 to 65535',
    ],
    [
      'a wildcard source.serviceAccount value',
      when({ key: 'source.serviceAccount', values: ['ns/*'] }),
      'rules.0.when.0.values.0',
      'wildcards are not allowed',
    ],
    [
      'a source.principal value with * inside',
      when({ key: 'source.principal', notValues: ['a*b'] }),
      'rules.0.when.0.notValues.0',
      'in the middle',
    ],
    [
      'an empty condition value',
      when({ key: 'connection.sni', values: [''] }),
      'rules.0.when.0.values.0',
      'empty value',
    ],
    [
      'selector together with targetRefs',
      { selector: { matchLabels: { app: 'a' } }, targetRefs: [{ kind: 'Service', group: '', name: 'a' }] },
      'targetRefs',
      'only one of selector and targetRefs may be set',
    ],
    [
      'targetRef together with targetRefs',
      { targetRef: { kind: 'Service', name: 'a' }, targetRefs: [{ kind: 'Service', name: 'b' }] },
      'targetRefs',
      'found targetRef and targetRefs',
    ],
    [
      'a cross-namespace targetRef',
      { targetRefs: [{ kind: 'Service', name: 'a', namespace: 'other' }] },
      'targetRefs.0.namespace',
      'cross-namespace targets are not supported',
    ],
    [
      'a target kind Istio cannot attach to',
      { targetRefs: [{ group: 'apps', kind: 'Deployment', name: 'a' }] },
      'targetRefs.0.kind',
      'cannot attach to apps/Deployment',
    ],
    [
      'more than 16 targetRefs',
      { targetRefs: Array(17).fill({ kind: 'Service', name: 'a' }) },
      'targetRefs',
      'at most 16',
    ],
    ['more than 512 rules', { rules: Array(513).fill({}) }, 'rules', 'at most 512 entries'],
    [
      'a wildcard label in the selector',
      { selector: { matchLabels: { app: '*' } } },
      'selector.matchLabels.app',
      'label',
    ],
  ])('refuses %s', (_name, spec, path, message) => {
    expectIssue(authz.safeParse(spec), path, message);
  });
});

describe('PeerAuthentication', () => {
  it('accepts the Istio examples: namespace STRICT, PERMISSIVE, and a workload with port 8080 in plaintext', () => {
    expect(parsed(peerAuthn.safeParse({ mtls: { mode: 'STRICT' } }))).toEqual({ mtls: { mode: 'STRICT' } });
    expect(parsed(peerAuthn.safeParse({ mtls: { mode: 'PERMISSIVE' } }))).toEqual({
      mtls: { mode: 'PERMISSIVE' },
    });
    const finance = {
      selector: { matchLabels: { app: 'finance' } },
      mtls: { mode: 'STRICT' },
      portLevelMtls: { 8080: { mode: 'DISABLE' } },
    };
    expect(parsed(peerAuthn.safeParse(finance))).toEqual({
      ...finance,
      portLevelMtls: { '8080': { mode: 'DISABLE' } },
    });
  });

  it('parses every field, filling an omitted mode with UNSET and canonicalizing port keys', () => {
    const result = parsed(
      peerAuthn.safeParse({
        selector: { matchLabels: { app: 'finance' } },
        mtls: {},
        portLevelMtls: { '08080': { mode: 'DISABLE' }, 9090: { mode: 'PERMISSIVE' }, 9443: {} },
      }),
    );
    expect(result).toEqual({
      selector: { matchLabels: { app: 'finance' } },
      mtls: { mode: 'UNSET' },
      portLevelMtls: {
        '8080': { mode: 'DISABLE' },
        '9090': { mode: 'PERMISSIVE' },
        '9443': { mode: 'UNSET' },
      },
    });
  });

  it.each([
    [
      'an unknown mode',
      { mtls: { mode: 'REQUIRED' } },
      'mtls.mode',
      'mode must be one of UNSET, DISABLE, PERMISSIVE, STRICT',
    ],
    [
      'portLevelMtls without a selector',
      { portLevelMtls: { 8080: { mode: 'DISABLE' } } },
      'portLevelMtls',
      'portLevelMtls requires a selector',
    ],
    [
      'portLevelMtls with a selector without labels',
      { selector: {}, portLevelMtls: { 8080: { mode: 'DISABLE' } } },
      'portLevelMtls',
      'requires a selector with matchLabels',
    ],
    [
      'an empty portLevelMtls',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: {} },
      'portLevelMtls',
      'needs at least one port',
    ],
    [
      'port 0',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { 0: { mode: 'DISABLE' } } },
      'portLevelMtls.0',
      'from 1 to 65535',
    ],
    [
      'port 65536',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { 65536: { mode: 'DISABLE' } } },
      'portLevelMtls.65536',
      'from 1 to 65535',
    ],
    [
      'a named port',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { http: { mode: 'DISABLE' } } },
      'portLevelMtls.http',
      'workload port number',
    ],
    [
      'the same port written twice',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { 8080: {}, '08080': {} } },
      'portLevelMtls.08080',
      'listed twice',
    ],
    [
      'an unknown port-level mode',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { 8080: { mode: 'OFF' } } },
      'portLevelMtls.8080.mode',
      'mode must be one of',
    ],
  ])('refuses %s', (_name, spec, path, message) => {
    expectIssue(peerAuthn.safeParse(spec), path, message);
  });

  it.each([
    ['a top-level typo', { mTLS: { mode: 'STRICT' } }, '', 'mTLS'],
    ['an unknown mtls field', { mtls: { mode: 'STRICT', minVersion: 'TLSV1_3' } }, 'mtls', 'minVersion'],
    [
      'an unknown port-level field',
      { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { 8080: { mode: 'STRICT', x: 1 } } },
      'portLevelMtls.8080',
      'x',
    ],
    ['targetRefs, which PeerAuthentication does not have', { targetRefs: [] }, '', 'targetRefs'],
  ])('reports unrecognized_keys for %s', (_name, spec, path, key) => {
    expectUnknownKey(peerAuthn.safeParse(spec), path, key);
  });
});

const EC_KEY = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};

describe('RequestAuthentication', () => {
  it('accepts the Istio example: a JWT rule with jwksUri', () => {
    const spec = {
      selector: { matchLabels: { app: 'httpbin' } },
      jwtRules: [{ issuer: 'issuer-foo', jwksUri: 'https://example.com/.well-known/jwks.json' }],
    };
    expect(parsed(requestAuthn.safeParse(spec))).toEqual({
      selector: spec.selector,
      jwtRules: [
        {
          issuer: 'issuer-foo',
          jwksUri: 'https://example.com/.well-known/jwks.json',
          forwardOriginalToken: false,
        },
      ],
    });
  });

  it('parses every field, normalizing the timeout to ms, header names to lower case and jwks_uri to jwksUri', () => {
    const result = parsed(
      requestAuthn.safeParse({
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingress' }],
        jwtRules: [
          {
            issuer: 'https://accounts.example.com',
            audiences: ['bookstore_android.apps.example.com', 'bookstore_web.apps.example.com'],
            jwksUri: 'https://accounts.example.com/.well-known/jwks.json',
            fromHeaders: [{ name: 'X-JWT-Assertion', prefix: 'Bearer ' }],
            fromParams: ['my_token'],
            outputPayloadToHeader: 'X-Jwt-Payload',
            fromCookies: ['auth-token'],
            forwardOriginalToken: true,
            outputClaimToHeaders: [{ header: 'X-Jwt-Group', claim: 'nested.key.group' }],
            timeout: '1.5s',
            spaceDelimitedClaims: ['custom_scope', 'provider.login.scope'],
          },
          { issuer: 'local', jwks: JSON.stringify({ keys: [EC_KEY] }), outputPayloadToHeader: '' },
          { issuer: 'legacy', jwks_uri: 'http://keys.internal:8080/jwks' },
        ],
      }),
    );
    expect(result).toEqual({
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingress' }],
      jwtRules: [
        {
          issuer: 'https://accounts.example.com',
          audiences: ['bookstore_android.apps.example.com', 'bookstore_web.apps.example.com'],
          jwksUri: 'https://accounts.example.com/.well-known/jwks.json',
          fromHeaders: [{ name: 'x-jwt-assertion', prefix: 'Bearer ' }],
          fromParams: ['my_token'],
          outputPayloadToHeader: 'x-jwt-payload',
          fromCookies: ['auth-token'],
          forwardOriginalToken: true,
          outputClaimToHeaders: [{ header: 'x-jwt-group', claim: 'nested.key.group' }],
          timeout: 1500,
          spaceDelimitedClaims: ['custom_scope', 'provider.login.scope'],
        },
        { issuer: 'local', jwks: JSON.stringify({ keys: [EC_KEY] }), forwardOriginalToken: false },
        { issuer: 'legacy', jwksUri: 'http://keys.internal:8080/jwks', forwardOriginalToken: false },
      ],
    });
  });

  it('accepts a single JWK as jwks, as Istio does', () => {
    expect(
      parsed(requestAuthn.safeParse({ jwtRules: [{ issuer: 'a', jwks: JSON.stringify(EC_KEY) }] })).jwtRules,
    ).toHaveLength(1);
  });

  it('folds the hidden singular targetRef into targetRefs', () => {
    const ref = { kind: 'Service', name: 'httpbin' };
    expect(parsed(requestAuthn.safeParse({ targetRef: ref }))).toEqual({ targetRefs: [ref] });
  });

  const rule = (fields: object) => ({ jwtRules: [{ issuer: 'https://example.com', ...fields }] });

  it.each([
    [
      'a rule without issuer',
      { jwtRules: [{ jwksUri: 'https://example.com/jwks' }] },
      'jwtRules.0.issuer',
      'issuer is required',
    ],
    ['an empty issuer', { jwtRules: [{ issuer: '' }] }, 'jwtRules.0.issuer', 'issuer must not be empty'],
    [
      'a jwksUri with another scheme',
      rule({ jwksUri: 'ftp://example.com/jwks' }),
      'jwtRules.0.jwksUri',
      'http:// or https://',
    ],
    [
      'a jwksUri that is not a URL',
      rule({ jwksUri: 'example.com/jwks' }),
      'jwtRules.0.jwksUri',
      'must be an http:// or https:// URL',
    ],
    ['an empty jwksUri', rule({ jwksUri: '' }), 'jwtRules.0.jwksUri', 'jwksUri must not be empty'],
    [
      'a jwksUri over 2048 characters',
      rule({ jwksUri: `https://e.com/${'a'.repeat(2048)}` }),
      'jwtRules.0.jwksUri',
      'at most 2048',
    ],
    ['a bad jwks_uri', rule({ jwks_uri: 'file:///etc/jwks' }), 'jwtRules.0.jwks_uri', 'http:// or https://'],
    [
      'both jwks and jwksUri',
      rule({ jwks: JSON.stringify({ keys: [EC_KEY] }), jwksUri: 'https://example.com/jwks' }),
      'jwtRules.0.jwks',
      'only one of jwks and jwksUri can be set',
    ],
    [
      'both jwks and jwks_uri',
      rule({ jwks: JSON.stringify({ keys: [EC_KEY] }), jwks_uri: 'https://example.com/jwks' }),
      'jwtRules.0.jwks',
      'only one of jwks and jwksUri',
    ],
    [
      'both spellings of jwksUri',
      rule({ jwksUri: 'https://example.com/a', jwks_uri: 'https://example.com/b' }),
      'jwtRules.0.jwks_uri',
      'set only jwksUri',
    ],
    ['jwks that is not JSON', rule({ jwks: '{keys:' }), 'jwtRules.0.jwks', 'jwks is not valid JSON'],
    [
      'jwks keys without kty',
      rule({ jwks: '{"keys":[{"n":"x"}]}' }),
      'jwtRules.0.jwks',
      'every key needs a "kty"',
    ],
    ['jwks that is a JSON string', rule({ jwks: '"key"' }), 'jwtRules.0.jwks', 'is not a JWK set'],
    [
      'an empty header name',
      rule({ fromHeaders: [{ name: '' }] }),
      'jwtRules.0.fromHeaders.0.name',
      'must not be empty',
    ],
    [
      'a missing header name',
      rule({ fromHeaders: [{ prefix: 'Bearer ' }] }),
      'jwtRules.0.fromHeaders.0.name',
      'expected string',
    ],
    [
      'a header name with a space',
      rule({ fromHeaders: [{ name: 'x jwt' }] }),
      'jwtRules.0.fromHeaders.0.name',
      'not a valid HTTP header name',
    ],
    [
      'an empty query parameter',
      rule({ fromParams: [''] }),
      'jwtRules.0.fromParams.0',
      'empty fromParams entry',
    ],
    [
      'an empty cookie name',
      rule({ fromCookies: [''] }),
      'jwtRules.0.fromCookies.0',
      'empty fromCookies entry',
    ],
    ['an empty audience', rule({ audiences: [''] }), 'jwtRules.0.audiences.0', 'empty audiences entry'],
    [
      'an invalid claim output header',
      rule({ outputClaimToHeaders: [{ header: 'x.jwt', claim: 'sub' }] }),
      'jwtRules.0.outputClaimToHeaders.0.header',
      'only letters, digits, "-" and "_"',
    ],
    [
      'an empty claim',
      rule({ outputClaimToHeaders: [{ header: 'x-sub', claim: '' }] }),
      'jwtRules.0.outputClaimToHeaders.0.claim',
      'claim must not be empty',
    ],
    [
      'the same output header twice',
      rule({
        outputClaimToHeaders: [
          { header: 'X-Sub', claim: 'sub' },
          { header: 'x-sub', claim: 'iss' },
        ],
      }),
      'jwtRules.0.outputClaimToHeaders.1.header',
      'written twice',
    ],
    [
      'an invalid payload header',
      rule({ outputPayloadToHeader: 'x payload' }),
      'jwtRules.0.outputPayloadToHeader',
      'not a valid HTTP header name',
    ],
    ['a timeout that is not a duration', rule({ timeout: 'soon' }), 'jwtRules.0.timeout', 'not a duration'],
    ['a zero timeout', rule({ timeout: '0s' }), 'jwtRules.0.timeout', 'below the minimum'],
    [
      'a sub-millisecond timeout',
      rule({ timeout: '1500us' }),
      'jwtRules.0.timeout',
      'whole number of milliseconds',
    ],
    [
      'more than 64 space-delimited claims',
      rule({ spaceDelimitedClaims: Array.from({ length: 65 }, (_, i) => `c${i}`) }),
      'jwtRules.0.spaceDelimitedClaims',
      'at most 64',
    ],
    [
      'a non-boolean forwardOriginalToken',
      rule({ forwardOriginalToken: 'yes' }),
      'jwtRules.0.forwardOriginalToken',
      'boolean',
    ],
    [
      'selector together with targetRefs',
      { selector: { matchLabels: { app: 'a' } }, targetRefs: [{ kind: 'Service', name: 'a' }] },
      'targetRefs',
      'only one of selector and targetRefs',
    ],
    [
      'a cross-namespace targetRef',
      { targetRef: { kind: 'Service', name: 'a', namespace: 'b' } },
      'targetRef.namespace',
      'cross-namespace',
    ],
  ])('refuses %s', (_name, spec, path, message) => {
    expectIssue(requestAuthn.safeParse(spec), path, message);
  });

  it.each([
    ['a JWT rule typo', rule({ jwksURI: 'https://example.com/jwks' }), 'jwtRules.0', 'jwksURI'],
    [
      'an unknown header location field',
      rule({ fromHeaders: [{ name: 'x', suffix: 'y' }] }),
      'jwtRules.0.fromHeaders.0',
      'suffix',
    ],
    [
      'an unknown claim-to-header field',
      rule({ outputClaimToHeaders: [{ header: 'x', claim: 'y', z: 1 }] }),
      'jwtRules.0.outputClaimToHeaders.0',
      'z',
    ],
    ['an unknown top-level field', { jwtRule: [] }, '', 'jwtRule'],
  ])('reports unrecognized_keys for %s', (_name, spec, path, key) => {
    expectUnknownKey(requestAuthn.safeParse(spec), path, key);
  });
});

describe('Telemetry', () => {
  it('accepts the Istio examples: sampling, metric overrides and an access-log filter', () => {
    expect(parsed(telemetry.safeParse({ tracing: [{ randomSamplingPercentage: 10.0 }] }))).toEqual({
      tracing: [{ randomSamplingPercentage: 10 }],
    });
    const metrics = parsed(
      telemetry.safeParse({
        metrics: [
          {
            providers: [{ name: 'prometheus' }],
            overrides: [
              {
                match: { metric: 'REQUEST_COUNT', mode: 'CLIENT' },
                tagOverrides: {
                  request_host: { value: 'request.host' },
                  destination_port: { operation: 'REMOVE' },
                },
              },
            ],
          },
        ],
      }),
    );
    expect(metrics.metrics?.[0]?.overrides?.[0]?.tagOverrides).toEqual({
      request_host: { operation: 'UPSERT', value: { type: 'expression', expression: 'request.host' } },
      destination_port: { operation: 'REMOVE' },
    });
    const logging = parsed(
      telemetry.safeParse({
        accessLogging: [{ providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 400' } }],
      }),
    );
    expect(logging.accessLogging?.[0]?.filter).toEqual({ expression: 'response.code >= 400' });
  });

  it('parses every field into plain values, tagged unions and milliseconds', () => {
    const result = parsed(
      telemetry.safeParse({
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
        tracing: [
          {
            match: { mode: 'SERVER' },
            providers: [{ name: 'otel' }],
            randomSamplingPercentage: 12.5,
            disableSpanReporting: false,
            customTags: {
              team: { literal: { value: 'payments' } },
              pod: { environment: { name: 'POD_NAME', defaultValue: 'unknown' } },
              user: { header: { name: 'X-User', defaultValue: 'anonymous' } },
              sni: { formatter: { value: '%REQUESTED_SERVER_NAME%' } },
            },
            useRequestIdForTraceSampling: false,
            enableIstioTags: true,
            disableContextPropagation: true,
          },
        ],
        metrics: [
          {
            providers: [{ name: 'prometheus' }],
            overrides: [
              {
                match: { metric: 'REQUEST_DURATION', mode: 'CLIENT' },
                disabled: false,
                tagOverrides: { env: { operation: 'UPSERT', value: "'prod'" }, zone: { value: '"eu-1"' } },
              },
              { match: { customMetric: 'my_requests' }, disabled: true },
              { match: {} },
            ],
            reportingInterval: '15s',
          },
        ],
        accessLogging: [
          {
            match: { mode: 'CLIENT' },
            providers: [{ name: 'otel-als' }],
            disabled: false,
            filter: { expression: 'true' },
          },
        ],
      }),
    );
    expect(result).toEqual({
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
      tracing: [
        {
          match: { mode: 'SERVER' },
          providers: [{ name: 'otel' }],
          randomSamplingPercentage: 12.5,
          disableSpanReporting: false,
          customTags: {
            team: { type: 'literal', value: 'payments' },
            pod: { type: 'environment', name: 'POD_NAME', defaultValue: 'unknown' },
            user: { type: 'header', name: 'x-user', defaultValue: 'anonymous' },
            sni: { type: 'formatter', value: '%REQUESTED_SERVER_NAME%' },
          },
          useRequestIdForTraceSampling: false,
          enableIstioTags: true,
          disableContextPropagation: true,
        },
      ],
      metrics: [
        {
          providers: [{ name: 'prometheus' }],
          overrides: [
            {
              match: { metric: 'REQUEST_DURATION', mode: 'CLIENT' },
              disabled: false,
              tagOverrides: {
                env: { operation: 'UPSERT', value: { type: 'literal', value: 'prod' } },
                zone: { operation: 'UPSERT', value: { type: 'literal', value: 'eu-1' } },
              },
            },
            { match: { customMetric: 'my_requests', mode: 'CLIENT_AND_SERVER' }, disabled: true },
            { match: { metric: 'ALL_METRICS', mode: 'CLIENT_AND_SERVER' } },
          ],
          reportingInterval: 15_000,
        },
      ],
      accessLogging: [
        {
          match: { mode: 'CLIENT' },
          providers: [{ name: 'otel-als' }],
          disabled: false,
          filter: { expression: 'true' },
        },
      ],
    });
  });

  it('folds the hidden singular targetRef into targetRefs', () => {
    const ref = { kind: 'Service', name: 'reviews' };
    expect(parsed(telemetry.safeParse({ targetRef: ref }))).toEqual({ targetRefs: [ref] });
  });

  it.each([
    [
      'sampling above 100%',
      { tracing: [{ randomSamplingPercentage: 100.5 }] },
      'tracing.0.randomSamplingPercentage',
      '0–100',
    ],
    [
      'negative sampling',
      { tracing: [{ randomSamplingPercentage: -1 }] },
      'tracing.0.randomSamplingPercentage',
      '0–100',
    ],
    [
      'sampling written as a wrapper object',
      { tracing: [{ randomSamplingPercentage: { value: 10 } }] },
      'tracing.0.randomSamplingPercentage',
      'expected number',
    ],
    [
      'an unknown workload mode',
      { tracing: [{ match: { mode: 'BOTH' } }] },
      'tracing.0.match.mode',
      'CLIENT_AND_SERVER, CLIENT, SERVER',
    ],
    [
      'an empty provider name',
      { tracing: [{ providers: [{ name: '' }] }] },
      'tracing.0.providers.0.name',
      'provider name',
    ],
    [
      'a custom tag with two sources',
      { tracing: [{ customTags: { a: { literal: { value: 'x' }, header: { name: 'y' } } } }] },
      'tracing.0.customTags.a',
      'exactly one of literal, environment, header and formatter (found literal, header)',
    ],
    [
      'a custom tag with no source',
      { tracing: [{ customTags: { a: {} } }] },
      'tracing.0.customTags.a',
      '(found none)',
    ],
    [
      'an empty literal tag',
      { tracing: [{ customTags: { a: { literal: { value: '' } } } }] },
      'tracing.0.customTags.a.literal.value',
      'must not be empty',
    ],
    [
      'an environment tag without a name',
      { tracing: [{ customTags: { a: { environment: { defaultValue: 'x' } } } }] },
      'tracing.0.customTags.a.environment.name',
      'environment.name is required',
    ],
    [
      'an empty tag name',
      { tracing: [{ customTags: { '': { literal: { value: 'x' } } } }] },
      'tracing.0.customTags.',
      'must not be empty',
    ],
    [
      'an unknown metric',
      { metrics: [{ overrides: [{ match: { metric: 'REQUEST_LATENCY' } }] }] },
      'metrics.0.overrides.0.match.metric',
      "one of Istio's standard metrics",
    ],
    [
      'both metric and customMetric',
      { metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT', customMetric: 'x' } }] }] },
      'metrics.0.overrides.0.match.customMetric',
      'only one of metric and customMetric',
    ],
    [
      'an empty customMetric',
      { metrics: [{ overrides: [{ match: { customMetric: '' } }] }] },
      'metrics.0.overrides.0.match.customMetric',
      'must not be empty',
    ],
    [
      'UPSERT without a value',
      { metrics: [{ overrides: [{ tagOverrides: { env: { operation: 'UPSERT' } } }] }] },
      'metrics.0.overrides.0.tagOverrides.env.value',
      'value is required when operation is UPSERT',
    ],
    [
      'the default operation with an empty value',
      { metrics: [{ overrides: [{ tagOverrides: { env: { value: '' } } }] }] },
      'metrics.0.overrides.0.tagOverrides.env.value',
      'value is required',
    ],
    [
      'REMOVE with a value',
      { metrics: [{ overrides: [{ tagOverrides: { env: { operation: 'REMOVE', value: "'x'" } } }] }] },
      'metrics.0.overrides.0.tagOverrides.env.value',
      'must not be set when operation is REMOVE',
    ],
    [
      'an unknown tag operation',
      { metrics: [{ overrides: [{ tagOverrides: { env: { operation: 'DELETE' } } }] }] },
      'metrics.0.overrides.0.tagOverrides.env.operation',
      'UPSERT or REMOVE',
    ],
    [
      'a bad reporting interval',
      { metrics: [{ reportingInterval: '5 seconds' }] },
      'metrics.0.reportingInterval',
      'not a duration',
    ],
    [
      'a zero reporting interval',
      { metrics: [{ reportingInterval: '0s' }] },
      'metrics.0.reportingInterval',
      'below the minimum',
    ],
    [
      'a non-boolean disabled',
      { accessLogging: [{ disabled: 'true' }] },
      'accessLogging.0.disabled',
      'boolean',
    ],
    [
      'selector together with targetRefs',
      { selector: { matchLabels: { app: 'a' } }, targetRefs: [{ kind: 'Service', name: 'a' }] },
      'targetRefs',
      'only one of selector and targetRefs',
    ],
  ])('refuses %s', (_name, spec, path, message) => {
    expectIssue(telemetry.safeParse(spec), path, message);
  });

  it.each([
    ['an unknown tracing field', { tracing: [{ sampling: 10 }] }, 'tracing.0', 'sampling'],
    [
      'an unknown access-log filter field',
      { accessLogging: [{ filter: { cel: 'true' } }] },
      'accessLogging.0.filter',
      'cel',
    ],
    [
      'an unknown tag override field',
      { metrics: [{ overrides: [{ tagOverrides: { a: { value: 'x', type: 'y' } } }] }] },
      'metrics.0.overrides.0.tagOverrides.a',
      'type',
    ],
  ])('reports unrecognized_keys for %s', (_name, spec, path, key) => {
    expectUnknownKey(telemetry.safeParse(spec), path, key);
  });

  it.each([
    ["'v1'", { type: 'literal', value: 'v1' }],
    ['"v1"', { type: 'literal', value: 'v1' }],
    ["''", { type: 'literal', value: '' }],
    ["'it\\'s'", { type: 'expression', expression: "'it\\'s'" }],
    ['string(destination.port)', { type: 'expression', expression: 'string(destination.port)' }],
    ["'a' + 'b'", { type: 'expression', expression: "'a' + 'b'" }],
  ])('reads the tag value %s as %o', (value, expected) => {
    const result = parsed(
      telemetry.safeParse({ metrics: [{ overrides: [{ tagOverrides: { tag: { value } } }] }] }),
    );
    expect(result.metrics?.[0]?.overrides?.[0]?.tagOverrides?.tag).toEqual({
      operation: 'UPSERT',
      value: expected,
    });
  });
});
