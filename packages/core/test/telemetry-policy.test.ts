/**
 * The Telemetry resource, resolved for one workload as Istio resolves it (provider-less): root
 * namespace, then namespace, then workload; tracing fields replaced by the more specific level,
 * metric overrides accumulated in order, access logging on and off. Resources go through the
 * parser and compile(), as a mesh receives them.
 */
import { describe, expect, it } from 'vitest';
import { createMesh, type Mesh, type TelemetryOptions } from '../src/index.ts';

const telemetry = (name: string, spec: object, namespace = 'default') => ({
  apiVersion: 'telemetry.istio.io/v1',
  kind: 'Telemetry',
  metadata: { name, namespace },
  spec,
});

function meshWith(
  objects: readonly object[],
  options: { environment?: Record<string, string>; telemetry?: TelemetryOptions } = {},
): Mesh {
  for (const [name, value] of Object.entries(options.environment ?? {})) process.env[name] = value;
  return createMesh({
    workload: {
      name: 'reviews-v2',
      namespace: 'default',
      serviceAccount: 'reviews',
      labels: { app: 'reviews', version: 'v2' },
      service: 'reviews',
    },
    config: { objects },
    ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
  });
}

describe('tracing', () => {
  it('leaves sampling to the SDK when no Telemetry sets randomSamplingPercentage', () => {
    const policy = meshWith([]).telemetry.policy;
    expect(policy.tracing.client).toEqual({
      samplingPercentage: undefined,
      customTags: [],
      isSpanReportingDisabled: false,
      isContextPropagationDisabled: false,
    });
    expect(policy.sources).toEqual([]);
  });

  it('takes the most specific level’s sampling, and inherits what that level leaves unset', () => {
    const policy = meshWith([
      telemetry(
        'mesh',
        { tracing: [{ randomSamplingPercentage: 1, disableSpanReporting: true }] },
        'istio-system',
      ),
      telemetry('namespace', { tracing: [{ randomSamplingPercentage: 25 }] }),
      telemetry('reviews-v2', {
        selector: { matchLabels: { version: 'v2' } },
        tracing: [{ randomSamplingPercentage: 50.5 }],
      }),
      telemetry('reviews-v1', {
        selector: { matchLabels: { version: 'v1' } },
        tracing: [{ randomSamplingPercentage: 99 }],
      }),
    ]).telemetry.policy;
    expect(policy.sources).toEqual([
      'Telemetry/istio-system/mesh',
      'Telemetry/default/namespace',
      'Telemetry/default/reviews-v2',
    ]);
    expect(policy.tracing.client.samplingPercentage).toBe(50.5);
    expect(policy.tracing.server.samplingPercentage).toBe(50.5);
    expect(policy.tracing.client.isSpanReportingDisabled).toBe(true);
  });

  it('replaces the parent’s customTags as a whole, and reads environment tags once', () => {
    const policy = meshWith(
      [
        telemetry(
          'mesh',
          { tracing: [{ customTags: { mesh: { literal: { value: 'm' } } } }] },
          'istio-system',
        ),
        telemetry('namespace', {
          tracing: [
            {
              customTags: {
                team: { literal: { value: 'books' } },
                zone: { environment: { name: 'WEFT_TEST_ZONE' } },
                missing: { environment: { name: 'WEFT_TEST_UNSET_VARIABLE' } },
                fallback: { environment: { name: 'WEFT_TEST_UNSET_VARIABLE', defaultValue: 'none' } },
                user: { header: { name: 'X-User', defaultValue: 'anonymous' } },
              },
            },
          ],
        }),
      ],
      { environment: { WEFT_TEST_ZONE: 'eu-1' } },
    ).telemetry.policy;
    expect(policy.tracing.client.customTags).toEqual([
      { name: 'team', kind: 'literal', value: 'books' },
      { name: 'zone', kind: 'literal', value: 'eu-1' },
      { name: 'fallback', kind: 'literal', value: 'none' },
      { name: 'user', kind: 'header', header: 'x-user', defaultValue: 'anonymous' },
    ]);
  });

  it('applies a tracing entry only to the mode its match names', () => {
    const policy = meshWith([
      telemetry('namespace', {
        tracing: [
          { match: { mode: 'CLIENT' }, randomSamplingPercentage: 10 },
          { match: { mode: 'SERVER' }, disableContextPropagation: true },
        ],
      }),
    ]).telemetry.policy;
    expect(policy.tracing.client.samplingPercentage).toBe(10);
    expect(policy.tracing.client.isContextPropagationDisabled).toBe(false);
    expect(policy.tracing.server.samplingPercentage).toBeUndefined();
    expect(policy.tracing.server.isContextPropagationDisabled).toBe(true);
  });

  it('uses the oldest resource of a level and reports the others', () => {
    const policy = meshWith([
      {
        ...telemetry('first', { tracing: [{ randomSamplingPercentage: 5 }] }),
        metadata: { name: 'first', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
      },
      {
        ...telemetry('second', { tracing: [{ randomSamplingPercentage: 80 }] }),
        metadata: { name: 'second', namespace: 'default', creationTimestamp: '2024-02-01T00:00:00Z' },
      },
    ]).telemetry.policy;
    expect(policy.tracing.client.samplingPercentage).toBe(5);
    expect(policy.issues).toEqual([
      {
        resource: 'Telemetry/default/second',
        path: 'spec',
        message: expect.stringContaining('Telemetry/default/first already configures this namespace level'),
      },
    ]);
  });
});

describe('metrics', () => {
  it('disables a metric for one mode only', () => {
    const policy = meshWith([
      telemetry('namespace', {
        metrics: [{ overrides: [{ match: { metric: 'REQUEST_SIZE', mode: 'CLIENT' }, disabled: true }] }],
      }),
    ]).telemetry.policy;
    expect(policy.metrics.client.REQUEST_SIZE.isDisabled).toBe(true);
    expect(policy.metrics.client.REQUEST_COUNT.isDisabled).toBe(false);
    expect(policy.metrics.server.REQUEST_SIZE.isDisabled).toBe(false);
  });

  it('accumulates overrides from the root namespace down: a later override re-enables, as in Istio', () => {
    const policy = meshWith([
      telemetry(
        'mesh',
        { metrics: [{ overrides: [{ match: { metric: 'ALL_METRICS' }, disabled: true }] }] },
        'istio-system',
      ),
      telemetry('namespace', {
        metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT' } }] }],
      }),
    ]).telemetry.policy;
    expect(policy.metrics.client.REQUEST_COUNT.isDisabled).toBe(false);
    expect(policy.metrics.client.REQUEST_DURATION.isDisabled).toBe(true);
    expect(policy.metrics.server.RESPONSE_SIZE.isDisabled).toBe(true);
  });

  it('compiles UPSERT literals and request.headers[...] and REMOVE; a later override of a tag replaces it', () => {
    const policy = meshWith([
      telemetry(
        'mesh',
        {
          metrics: [
            {
              overrides: [
                { tagOverrides: { tier: { value: "'bronze'" }, request_protocol: { operation: 'REMOVE' } } },
              ],
            },
          ],
        },
        'istio-system',
      ),
      telemetry('namespace', {
        metrics: [
          {
            overrides: [
              {
                match: { metric: 'REQUEST_COUNT' },
                tagOverrides: { tier: { value: "request.headers['X-Tier']" }, region: { value: '"eu"' } },
              },
            ],
          },
        ],
      }),
    ]).telemetry.policy;
    expect(policy.metrics.client.REQUEST_COUNT.tagOperations).toEqual([
      { tag: 'request_protocol', kind: 'remove' },
      { tag: 'tier', kind: 'upsert', value: { kind: 'header', header: 'x-tier' } },
      { tag: 'region', kind: 'upsert', value: { kind: 'literal', value: 'eu' } },
    ]);
    expect(policy.metrics.client.REQUEST_DURATION.tagOperations).toEqual([
      { tag: 'tier', kind: 'upsert', value: { kind: 'literal', value: 'bronze' } },
      { tag: 'request_protocol', kind: 'remove' },
    ]);
    expect(policy.issues).toEqual([]);
  });

  it('refuses other CEL expressions by name and does not apply them', () => {
    const policy = meshWith([
      telemetry('namespace', {
        metrics: [
          {
            overrides: [
              {
                tagOverrides: {
                  host: { value: 'request.host' },
                  path: { value: "request.url_path.startsWith('/a')" },
                },
              },
            ],
          },
        ],
      }),
    ]).telemetry.policy;
    expect(policy.metrics.client.REQUEST_COUNT.tagOperations).toEqual([]);
    expect(policy.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [
        'spec.metrics[0].overrides[0].tagOverrides.host.value',
        expect.stringContaining('Weft does not evaluate the CEL expression "request.host"'),
      ],
      [
        'spec.metrics[0].overrides[0].tagOverrides.path.value',
        expect.stringContaining('the override of "path" is not applied'),
      ],
    ]);
  });

  it('reports an override of a custom metric, which Weft does not produce', () => {
    const policy = meshWith([
      telemetry('namespace', {
        metrics: [{ overrides: [{ match: { customMetric: 'my_metric' }, disabled: true }] }],
      }),
    ]).telemetry.policy;
    expect(policy.issues.map((issue) => issue.message)).toEqual([
      'Weft produces no metric "my_metric"; the override has no effect',
    ]);
  });
});

describe('access logging', () => {
  it('is off unless a Telemetry or the mesh-wide default turns it on', () => {
    expect(meshWith([]).telemetry.policy.accessLog).toEqual({ client: false, server: false });
    expect(
      meshWith([], { telemetry: { accessLog: { isEnabledByDefault: true } } }).telemetry.policy.accessLog,
    ).toEqual({ client: true, server: true });
  });

  it('is turned on by an accessLogging entry and off by disabled: true at a more specific level', () => {
    const policy = meshWith([
      telemetry('mesh', { accessLogging: [{ providers: [{ name: 'envoy' }] }] }, 'istio-system'),
      telemetry('reviews', {
        selector: { matchLabels: { app: 'reviews' } },
        accessLogging: [{ match: { mode: 'SERVER' }, disabled: true }],
      }),
    ]).telemetry.policy;
    expect(policy.accessLog).toEqual({ client: true, server: false });
  });

  it('follows the snapshot: a new configuration recompiles the policy', () => {
    const mesh = meshWith([]);
    expect(mesh.telemetry.policy.accessLog.client).toBe(false);
    mesh.applyConfig({ objects: [telemetry('namespace', { accessLogging: [{}] })] });
    expect(mesh.telemetry.policy.accessLog.client).toBe(true);
    expect(mesh.telemetry.policy.sources).toEqual(['Telemetry/default/namespace']);
  });
});
