/**
 * The AuthorizationPolicies of bench/inbound.ts, the request that walks past them, and the workload
 * that receives it. Shared by the server child (support/inbound-servers.ts), the in-process
 * pipeline measurement and the hostile-request server (support/hostile-inbound.ts).
 */

/** The receiving workload's identity, for createMesh's `workload`. */
export const BENCH_WORKLOAD = {
  name: 'bench-v1',
  namespace: 'shop',
  serviceAccount: 'bench',
  labels: { app: 'bench' },
  service: 'bench',
} as const;

/** The request every variant serves: allowed by the last ALLOW policy only. */
export const BENCH_REQUEST = { method: 'GET', path: '/api/items', headers: { 'x-tenant': 'acme' } } as const;

function policy(name: string, spec: object): object {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: 'shop' },
    spec,
  };
}

/**
 * 5 DENY and 15 ALLOW policies, as a busy namespace accumulates them; a plaintext `GET /api/items`
 * with `x-tenant: acme` matches no DENY and only the last ALLOW, so every rule is looked at.
 */
export function twentyPolicies(): object[] {
  const policies: object[] = [
    policy('deny-admin', {
      action: 'DENY',
      rules: [{ to: [{ operation: { paths: ['/admin', '/admin/*'] } }] }],
    }),
    policy('deny-blocked-ips', {
      action: 'DENY',
      rules: [{ from: [{ source: { ipBlocks: ['203.0.113.0/24', '198.51.100.0/24'] } }] }],
    }),
    policy('deny-debug', {
      action: 'DENY',
      rules: [{ when: [{ key: 'request.headers[x-debug]', values: ['*'] }] }],
    }),
    policy('deny-delete', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] }),
    policy('deny-legacy-host', {
      action: 'DENY',
      rules: [{ to: [{ operation: { hosts: ['legacy.example.com', '*.internal'] } }] }],
    }),
  ];
  for (let i = 0; i < 14; i++) {
    policies.push(
      policy(`allow-team-${i}`, {
        rules: [
          {
            from: [{ source: { principals: [`cluster.local/ns/team-${i}/sa/*`] } }],
            to: [{ operation: { methods: ['GET', 'POST'], paths: [`/api/team-${i}/*`] } }],
          },
        ],
      }),
    );
  }
  policies.push(
    policy('allow-tenants', {
      rules: [
        {
          to: [{ operation: { methods: ['GET'], paths: ['/api/*'] } }],
          when: [{ key: 'request.headers[x-tenant]', values: ['acme', 'globex'] }],
        },
      ],
    }),
  );
  return policies;
}
