/**
 * Request-level security cost (issue 5): what the inbound side pays per request, in-process.
 *   - authz: AuthorizationEngine.authorize for one workload with 20 AuthorizationPolicies (5 DENY,
 *     15 ALLOW, mixing principals, namespaces, IP blocks, methods, paths, hosts, headers and JWT
 *     claims), cycling through 64 requests chosen so most of them walk past every DENY and most
 *     ALLOW rules; median ns per decision over batches of 10,000, wall and CPU time (the machine
 *     may be shared; CPU time is what the decision costs). Aim: < 2 µs.
 *   - normalize: normalizeRequestPath on a clean path (fast path) and on one that needs work.
 *   - jwt: RequestAuthenticator.authenticate of a valid token (inline JWKS, so no network), RS256
 *     and ES256: parsing, checks and jose's signature verification; median µs per token.
 *
 * Run: npm run bench:authz   (add --quick for a short run)
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  AuthorizationEngine,
  type AuthzRequest,
  compile,
  JwksCache,
  normalizeRequestPath,
  parseConfigObjects,
  peerIdentityFromSpiffeId,
  type RequestAuth,
  RequestAuthenticator,
  systemClock,
} from '../packages/core/src/index.ts';

const quick = process.argv.includes('--quick');
const BATCH = 10_000;
const BATCHES = quick ? 20 : 200;
const ISSUER = 'https://issuer.example.com';
const WORKLOAD = { namespace: 'shop', labels: { app: 'orders' }, service: 'orders' };

function policy(name: string, spec: object) {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: 'shop' },
    spec,
  };
}

/** 5 DENY and 15 ALLOW policies, the kind a busy namespace accumulates. */
function twentyPolicies(): object[] {
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
    policy('deny-delete-outside', {
      action: 'DENY',
      rules: [
        {
          from: [{ source: { notNamespaces: ['shop', 'ops'] } }],
          to: [{ operation: { methods: ['DELETE'] } }],
        },
      ],
    }),
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
            when: [{ key: 'request.auth.claims[groups]', values: [`team-${i}`, 'admins'] }],
          },
        ],
      }),
    );
  }
  policies.push(
    policy('allow-shop', {
      rules: [
        {
          from: [{ source: { namespaces: ['shop'] } }],
          to: [{ operation: { methods: ['GET', 'POST', 'PUT'], paths: ['/api/*', '/healthz'] } }],
          when: [{ key: 'request.headers[x-tenant]', values: ['acme', 'globex'] }],
        },
      ],
    }),
  );
  return policies;
}

function engineFor(policies: object[]): AuthorizationEngine {
  const { resources, issues } = parseConfigObjects(policies);
  if (issues.some((issue) => issue.severity === 'error')) throw new Error(JSON.stringify(issues));
  return new AuthorizationEngine(compile(resources).inboundFor(WORKLOAD).authorization);
}

function buildRequests(): AuthzRequest[] {
  const auth: RequestAuth = {
    principal: `${ISSUER}/alice`,
    audiences: ['orders'],
    claims: { iss: ISSUER, sub: 'alice', groups: ['team-3'] },
    spaceDelimitedClaims: new Set(['scope']),
  };
  const headers: Readonly<Record<string, string>>[] = [
    { 'x-tenant': 'acme' },
    { 'x-tenant': 'initech' },
    {},
    { 'x-tenant': 'globex', 'x-request-id': 'r' },
  ];
  const peers = ['shop', 'team-3', 'team-12', 'ops'].map((namespace) =>
    peerIdentityFromSpiffeId(`spiffe://cluster.local/ns/${namespace}/sa/client`),
  );
  const paths = ['/api/orders/42', '/api/team-3/items', '/healthz', '/api/team-12/x', '/static/app.js'];
  return Array.from({ length: 64 }, (_, i): AuthzRequest => {
    const requestHeaders: Readonly<Record<string, string>> = headers[i % headers.length] ?? {};
    return {
      method: i % 7 === 0 ? 'DELETE' : i % 3 === 0 ? 'POST' : 'GET',
      path: paths[i % paths.length] ?? '/',
      query: '',
      authority: i % 2 === 0 ? 'orders.shop.svc.cluster.local:8080' : 'orders:8080',
      header: (name) => requestHeaders[name],
      sourceIp: `10.1.${i % 4}.${(i % 200) + 1}`,
      destinationIp: '10.2.0.5',
      destinationPort: 8080,
      ...(i % 5 === 4 ? {} : { peer: peers[i % peers.length] }),
      ...(i % 2 === 0 ? { auth } : {}),
    };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

interface Timing {
  /** Median wall time per call over the batches. */
  readonly wallNs: number;
  /** Median CPU time (user + system) per call: what other processes on a shared machine do not inflate. */
  readonly cpuNs: number;
}

function nsPerCall(run: (i: number) => number): Timing {
  const wall: number[] = [];
  const cpu: number[] = [];
  let sink = 0;
  for (let batch = 0; batch < BATCHES; batch++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) sink += run(i);
    wall.push(Number(process.hrtime.bigint() - start) / BATCH);
    const used = process.cpuUsage(cpuStart);
    cpu.push(((used.user + used.system) * 1000) / BATCH);
  }
  if (sink === -1) console.log('unreachable');
  return { wallNs: Math.round(median(wall)), cpuNs: Math.round(median(cpu)) };
}

const engine = engineFor(twentyPolicies());
const requests = buildRequests();
let allowed = 0;
for (const request of requests) {
  const decision = engine.authorize(request);
  if (decision instanceof Promise) throw new Error('no CUSTOM policy here: every decision must be local');
  if (decision.isAllowed) allowed++;
}
if (allowed === 0 || allowed === requests.length)
  throw new Error(`the request mix should be partly allowed (${allowed})`);

const authzNs = nsPerCall((i) => {
  const decision = engine.authorize(requests[i & 63] as AuthzRequest);
  return (decision as { isAllowed: boolean }).isAllowed ? 1 : 0;
});
const cleanPathNs = nsPerCall((i) =>
  normalizeRequestPath(i & 1 ? '/api/v1/orders/42' : '/healthz', 'MERGE_SLASHES').ok ? 1 : 0,
);
const messyPathNs = nsPerCall((i) =>
  normalizeRequestPath(
    i & 1 ? '/api//v1/./orders/%2e%2e/items%2F42' : '/a\\b/../c',
    'DECODE_AND_MERGE_SLASHES',
  ).ok
    ? 1
    : 0,
);

async function jwtMicroseconds(alg: 'RS256' | 'ES256'): Promise<number> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg };
  const rule = {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: 'jwt', namespace: 'shop' },
    spec: { jwtRules: [{ issuer: ISSUER, jwks: JSON.stringify({ keys: [jwk] }) }] },
  };
  const { resources } = parseConfigObjects([rule]);
  const authenticator = new RequestAuthenticator(
    compile(resources).inboundFor(WORKLOAD).requestAuthentications,
    {
      jwksCache: new JwksCache({ clock: systemClock }),
    },
  );
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: ISSUER,
    sub: 'alice',
    aud: 'orders',
    iat: now,
    exp: now + 3600,
    groups: ['a'],
  })
    .setProtectedHeader({ alg, kid: 'k1' })
    .sign(privateKey);
  const request = {
    header: (name: string) => (name === 'authorization' ? `Bearer ${token}` : undefined),
    query: '',
  };
  const runs = quick ? 500 : 5_000;
  const samples: number[] = [];
  for (let round = 0; round < (quick ? 5 : 15); round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) {
      const result = await authenticator.authenticate(request);
      if (result.outcome !== 'authenticated') throw new Error(`token refused: ${JSON.stringify(result)}`);
    }
    samples.push(Number(process.hrtime.bigint() - start) / runs / 1000);
  }
  return median(samples);
}

const result = {
  scenario: 'authz',
  node: process.version,
  policies: 20,
  requestMix: { distinct: requests.length, allowed, denied: requests.length - allowed },
  authzCheckNs: authzNs,
  normalizeCleanPathNs: cleanPathNs,
  normalizeMessyPathNs: messyPathNs,
  jwtVerifyRs256UsMedian: Number((await jwtMicroseconds('RS256')).toFixed(1)),
  jwtVerifyEs256UsMedian: Number((await jwtMicroseconds('ES256')).toFixed(1)),
};
console.log(JSON.stringify(result, null, 2));
