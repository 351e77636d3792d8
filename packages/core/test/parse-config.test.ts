import { describe, expect, it } from 'vitest';
import {
  ConfigValidationError,
  formatConfigIssue,
  parseConfig,
  parseConfigObjects,
  parseConfigStrict,
} from '../src/index.ts';

const peerAuthentication = (name: string, mode = 'STRICT') => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: ${name}
  namespace: foo
spec:
  mtls:
    mode: ${mode}
`;

describe('parseConfig', () => {
  it('reads every document of a multi-document YAML file', () => {
    const text = `${peerAuthentication('a')}---\n${peerAuthentication('b', 'PERMISSIVE')}`;
    const { resources, issues } = parseConfig(text, { file: 'pa.yaml' });
    expect(issues).toEqual([]);
    expect(resources.map((resource) => resource.metadata.name)).toEqual(['a', 'b']);
    expect(resources[1]?.spec).toEqual({ mtls: { mode: 'PERMISSIVE' } });
    expect(resources[0]?.source).toEqual({ file: 'pa.yaml', line: 1, column: 1 });
    expect(resources[1]?.source.line).toBe(10);
  });

  it('reads JSON, and expands kind: List', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'security.istio.io/v1beta1',
          kind: 'PeerAuthentication',
          metadata: { name: 'x' },
          spec: {},
        },
        { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'y' }, spec: {} },
      ],
    };
    const { resources, issues } = parseConfig(JSON.stringify(list, null, 2), { file: 'list.json' });
    expect(issues).toEqual([]);
    expect(resources.map((resource) => `${resource.metadata.namespace}/${resource.metadata.name}`)).toEqual([
      'default/x',
      'default/y',
    ]);
  });

  it('uses the default namespace given by the caller', () => {
    const { resources } = parseConfig(peerAuthentication('a').replace('  namespace: foo\n', ''), {
      defaultNamespace: 'shop',
    });
    expect(resources[0]?.metadata.namespace).toBe('shop');
  });

  it('names file, line, column, resource and field path in every error, and reports all errors together', () => {
    const text = `${peerAuthentication('good')}---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: bad
  namespace: foo
spec:
  selector:
    matchLabels:
      app: ratings
  mtls:
    mode: SOMETIMES
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: also-bad
spec:
  action: MAYBE
`;
    const { resources, issues } = parseConfig(text, { file: 'mixed.yaml' });
    expect(resources.map((resource) => resource.metadata.name)).toEqual(['good']);
    const errors = issues.filter((issue) => issue.severity === 'error');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      resource: 'PeerAuthentication/foo/bad',
      path: 'spec.mtls.mode',
      location: { file: 'mixed.yaml', line: 20, column: 5 },
    });
    expect(errors[1]).toMatchObject({
      resource: 'AuthorizationPolicy/default/also-bad',
      path: 'spec.action',
    });
    expect(formatConfigIssue(errors[0] ?? expect.fail('no issue'))).toMatch(
      /^mixed\.yaml:20:5: error: PeerAuthentication\/foo\/bad spec\.mtls\.mode: /,
    );
  });

  it('refuses a resource without a name, with an unknown kind, or with an unsupported version', () => {
    const { issues } = parseConfigObjects([
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: {}, spec: {} },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentications', metadata: { name: 'a' }, spec: {} },
      { apiVersion: 'security.istio.io/v2', kind: 'PeerAuthentication', metadata: { name: 'a' }, spec: {} },
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'PeerAuthentication',
        metadata: { name: 'Bad_Name' },
        spec: {},
      },
    ]);
    expect(issues.map((issue) => [issue.code, issue.path])).toEqual([
      ['invalid-envelope', 'metadata.name'],
      ['unknown-kind', 'kind'],
      ['unsupported-version', 'apiVersion'],
      ['invalid-envelope', 'metadata.name'],
    ]);
    expect(issues[0]?.message).toBe('required field is missing');
    expect(issues[1]?.message).toContain('security.istio.io/PeerAuthentication');
    expect(issues[2]?.message).toContain('security.istio.io/v1beta1');
  });

  it('parseConfigStrict throws one ConfigValidationError listing every error', () => {
    const text = `${peerAuthentication('a', 'NO')}---\n${peerAuthentication('b', 'NEVER')}`;
    let caught: unknown;
    try {
      parseConfigStrict(text, { file: 'two.yaml' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigValidationError);
    const error = caught as ConfigValidationError;
    expect(error.code).toBe('WEFT_ERR_CONFIG_VALIDATION');
    expect(error.issues.filter((issue) => issue.severity === 'error')).toHaveLength(2);
    expect(error.message).toContain('two.yaml:8:');
    expect(error.message).toContain('two.yaml:17:');
  });

  it('returns deeply frozen resources', () => {
    const [resource] = parseConfigStrict(peerAuthentication('a'));
    if (resource === undefined) throw new Error('nothing parsed');
    expect(Object.isFrozen(resource)).toBe(true);
    expect(Object.isFrozen(resource.spec)).toBe(true);
    expect(Object.isFrozen((resource.spec as { mtls: object }).mtls)).toBe(true);
  });

  it('ignores an empty document and Kubernetes status and managedFields', () => {
    const text = `---\n${peerAuthentication('a').replace('metadata:\n', 'metadata:\n  managedFields: []\n')}status:\n  observedGeneration: 1\n---\n`;
    const { resources, issues } = parseConfig(text);
    expect(issues).toEqual([]);
    expect(resources).toHaveLength(1);
  });
});
