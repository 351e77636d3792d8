import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { joinDocuments } from '../../core/test/support/istio-yaml.ts';
import { type GrpcServerCallEvent, grpcEvents } from '../src/index.ts';
import { callList, callUnary } from './support/calls.ts';
import { createTestIssuer, nowSeconds } from './support/jwt.ts';
import { createSecurePair, PRODUCTPAGE_ID, peerAuthentication } from './support/secure-pair.ts';

const pair = createSecurePair();
afterEach(() => pair.close());

function authorizationPolicy(name: string, action: 'ALLOW' | 'DENY', rules: string): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  action: ${action}
  rules:
${rules}
`;
}

const issuer = createTestIssuer('https://issuer.example.com');

const REQUEST_AUTHENTICATION = `apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: jwt, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  jwtRules:
  - issuer: ${issuer.issuer}
    jwks: '${issuer.jwks}'
    outputClaimToHeaders:
    - header: x-jwt-sub
      claim: sub
`;

describe('AuthorizationPolicy on a MeshServer, with the method path as the request path', () => {
  it('denies a call a DENY policy matches (PERMISSION_DENIED, RBAC: access denied), never running its handler', async () => {
    const reviews = await pair.server({
      yaml: authorizationPolicy(
        'deny-post',
        'DENY',
        `  - to: [{ operation: { paths: ["/weft.test.Echo/Post"], methods: ["POST"] } }]`,
      ),
    });
    const calls: GrpcServerCallEvent[] = [];
    grpcEvents(reviews.mesh).serverCall.on((event) => calls.push(event));
    const productpage = pair.caller(reviews);

    const denied = await callUnary(productpage.client, 'Post', { text: 'no' });
    const allowed = await callUnary(productpage.client, 'Get', { text: 'yes' });

    expect([denied.code, denied.error?.details, denied.errorCode]).toEqual([
      Status.PERMISSION_DENIED,
      'RBAC: access denied',
      'WEFT_ERR_PERMISSION_DENIED',
    ]);
    expect([allowed.code, allowed.reply?.text]).toEqual([Status.OK, 'yes']);
    expect(reviews.echo.seen.map((call) => call.method)).toEqual(['/weft.test.Echo/Get']);
    expect(calls.map((event) => [event.method, event.grpcStatusName, event.deniedBy])).toEqual([
      ['/weft.test.Echo/Post', 'PERMISSION_DENIED', 'AuthorizationPolicy/default/deny-post'],
      ['/weft.test.Echo/Get', 'OK', undefined],
    ]);
    expect(reviews.mesh.telemetry.stats.get('weft.denials.authorization')).toBe(1);
  });

  it('matches path prefixes and applies to every call type', async () => {
    const reviews = await pair.server({
      yaml: authorizationPolicy(
        'deny-echo',
        'DENY',
        `  - to: [{ operation: { paths: ["/weft.test.Echo/*"] } }]`,
      ),
    });
    const productpage = pair.caller(reviews);

    const list = await callList(productpage.client, { text: 'x', count: 2 });

    expect([list.code, list.reply]).toEqual([Status.PERMISSION_DENIED, []]);
    expect(reviews.echo.seen).toEqual([]);
  });

  it('allows by principal, read from the caller’s verified mTLS identity', async () => {
    const reviews = await pair.server({
      yaml: joinDocuments(
        peerAuthentication('PERMISSIVE'),
        authorizationPolicy(
          'productpage-only',
          'ALLOW',
          `  - from: [{ source: { principals: ["cluster.local/ns/default/sa/productpage"] } }]`,
        ),
      ),
    });
    const productpage = pair.caller(reviews);
    const ratings = pair.caller(reviews, { name: 'ratings' });
    const plaintext = pair.caller(reviews, { name: 'legacy', identity: null });

    const fromProductpage = await callUnary(productpage.client, 'Get', { text: 'pp' });
    const fromRatings = await callUnary(ratings.client, 'Get');
    const fromPlaintext = await callUnary(plaintext.client, 'Get');

    expect([fromProductpage.code, fromProductpage.reply?.text]).toEqual([Status.OK, 'pp']);
    expect([fromRatings.code, fromRatings.error?.details]).toEqual([
      Status.PERMISSION_DENIED,
      'RBAC: access denied',
    ]);
    expect(fromPlaintext.code).toBe(Status.PERMISSION_DENIED);
    expect(reviews.echo.seen).toHaveLength(1);
    expect(reviews.seen[0]?.spiffeId).toBe(PRODUCTPAGE_ID);
  });
});

describe('RequestAuthentication on a MeshServer', () => {
  it('refuses a call whose JWT does not verify (UNAUTHENTICATED, with the reason), and one whose JWT expired', async () => {
    const reviews = await pair.server({ yaml: REQUEST_AUTHENTICATION });
    const productpage = pair.caller(reviews);
    const forger = createTestIssuer(issuer.issuer, 'test-key');

    const forged = await callUnary(productpage.client, 'Get', undefined, {
      metadata: { authorization: `Bearer ${forger.token({ sub: 'mallory' })}` },
    });
    const expired = await callUnary(productpage.client, 'Get', undefined, {
      metadata: { authorization: `Bearer ${issuer.token({ sub: 'alice', exp: nowSeconds() - 3600 })}` },
    });

    expect([forged.code, forged.errorCode]).toEqual([Status.UNAUTHENTICATED, 'WEFT_ERR_UNAUTHENTICATED']);
    expect(forged.error?.details).toBe('Jwt verification fails');
    expect(forged.error?.metadata.get('www-authenticate')[0]).toContain('invalid_token');
    expect([expired.code, expired.error?.details]).toEqual([
      Status.UNAUTHENTICATED,
      expect.stringMatching(/expired/i),
    ]);
    expect(reviews.echo.seen).toEqual([]);
    expect(reviews.mesh.telemetry.stats.get('weft.denials.request-authentication')).toBe(2);
  });

  it('hands the handler the verified claims instead of the token; a policy can require one', async () => {
    const reviews = await pair.server({
      yaml: joinDocuments(
        REQUEST_AUTHENTICATION,
        authorizationPolicy('require-jwt', 'ALLOW', `  - from: [{ source: { requestPrincipals: ["*"] } }]`),
      ),
    });
    const productpage = pair.caller(reviews);

    const withToken = await callUnary(
      productpage.client,
      'Get',
      { text: 'ok' },
      {
        metadata: { authorization: `Bearer ${issuer.token({ sub: 'alice' })}` },
      },
    );
    const withoutToken = await callUnary(productpage.client, 'Get');

    expect([withToken.code, withToken.reply?.text]).toEqual([Status.OK, 'ok']);
    const seen = reviews.echo.seen[0]?.metadata;
    expect(seen?.get('authorization')).toEqual([]);
    expect(seen?.get('x-jwt-sub')).toEqual(['alice']);
    // No token is not an authentication failure (Istio): the ALLOW policy refuses it.
    expect([withoutToken.code, withoutToken.error?.details]).toEqual([
      Status.PERMISSION_DENIED,
      'RBAC: access denied',
    ]);
    expect(reviews.echo.seen).toHaveLength(1);
  });
});
